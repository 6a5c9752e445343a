import { join } from 'node:path'
import { performance } from 'node:perf_hooks'
import { type BenchChild, spawnChild } from '../lib/children.js'
import { freePorts } from '../lib/ports.js'
import { collectMainThreadProfile } from '../lib/profiles.js'
import { type GrapeChildConfig, type GrapeReady, IMPL_LABEL, type Impl } from './protocol.js'

export interface GrapePair {
  impl: Impl
  /** Grape 1 and Grape 2, each in its own process. */
  grapes: [BenchChild, BenchChild]
  urls: [string, string]
  /** Spawn of both → both started and each knows the other as a DHT node, ms. */
  connectedMs: number
  /** The `.cpuprofile` of each Grape's main thread, there once `stop()` resolved (with `--profile`). */
  profiles: [string, string] | undefined
  stop(): Promise<void>
}

export interface PairOptions {
  impl: Impl
  /** Label for profile file names, e.g. `r1`. */
  tag: string
  lifetimeMs: number
  /** Directory for `--cpu-prof` output, or undefined to not profile. */
  profileDir: string | undefined
  verbose: boolean
  /** More Node flags for both Grapes (the soak suite's `--expose-gc`). */
  nodeArgs?: string[]
}

/**
 * Two Grapes of one implementation in two processes, DHT and API on 127.0.0.1 at free ports, each
 * bootstrapped from the other only. Resolves once both are started and connected.
 */
export async function startGrapePair(options: PairOptions): Promise<GrapePair> {
  const [api1, api2, dht1, dht2] = (await freePorts(4)) as [number, number, number, number]
  const { profileDir } = options
  const profileOf = (index: number) =>
    profileDir ? join(profileDir, `${options.impl}-grape${index + 1}-${options.tag}.cpuprofile`) : undefined
  const spawnGrape = (index: number, config: GrapeChildConfig) => {
    const profile = profileOf(index)
    return spawnChild({
      name: `${IMPL_LABEL[options.impl]}-grape${index + 1}`,
      script: 'bench/grape/grape-child.ts',
      args: [JSON.stringify(config)],
      // tsx's loader runs in a worker thread that writes a profile too: one directory per process.
      nodeArgs: [
        ...(options.nodeArgs ?? []),
        ...(profile ? ['--cpu-prof', `--cpu-prof-dir=${profile}.d`] : []),
      ],
      lifetimeMs: options.lifetimeMs,
      verbose: options.verbose,
    })
  }
  const begin = performance.now()
  const grapes: [BenchChild, BenchChild] = [
    spawnGrape(0, { impl: options.impl, apiPort: api1, dhtPort: dht1, bootstrap: [`127.0.0.1:${dht2}`] }),
    spawnGrape(1, { impl: options.impl, apiPort: api2, dhtPort: dht2, bootstrap: [`127.0.0.1:${dht1}`] }),
  ]
  const stop = async () => {
    await Promise.all(grapes.map((grape) => grape.stop()))
    for (const [index, grape] of grapes.entries()) {
      const profile = profileOf(index)
      if (profile) collectMainThreadProfile(profile, grape.pid)
    }
  }
  try {
    const ready = await Promise.all(grapes.map((grape) => grape.ready<GrapeReady>(30_000)))
    await Promise.all(grapes.map((grape) => grape.call('waitNodes', { count: 1, timeoutMs: 15_000 }, 20_000)))
    const profiles = profileDir ? ([profileOf(0), profileOf(1)] as [string, string]) : undefined
    return {
      impl: options.impl,
      grapes,
      urls: [ready[0]?.url as string, ready[1]?.url as string],
      connectedMs: performance.now() - begin,
      profiles,
      stop,
    }
  } catch (err) {
    await stop()
    throw err
  }
}
