import { join } from 'node:path'
import { performance } from 'node:perf_hooks'
import { IMPL_LABEL } from '../grape/protocol.js'
import { type BenchChild, spawnChild } from '../lib/children.js'
import { collectMainThreadProfile } from '../lib/profiles.js'
import { fixedPorts } from './fixed-ports.js'
import type { OursFrom } from './ours-from.js'
import type { Impl, NodeChildConfig, NodeChildReady } from './protocol.js'

/** How N Grapes are spread over processes. */
export interface Plan {
  grapes: number
  perProcess: number
}

/** Grapes every other Grape bootstraps from; they bootstrap from each other. */
const SEEDS = 3

export interface GrapeNetwork {
  impl: Impl
  /** API URL of every Grape, process by process. */
  urls: string[]
  processes: BenchChild[]
  ready: NodeChildReady[]
  /** Spawn of the first process → every Grape of every process started, ms. */
  startedMs: number
  /** The `.cpuprofile` of each process's main thread, there once `stop()` resolved (with `--profile`). */
  profiles: string[]
  stop(): Promise<void>
}

export interface NetworkOptions {
  impl: Impl
  from: OursFrom
  /** node-child.ts bundled for plain node (see node-child-bundle.ts); undefined: the source, under tsx. */
  childBundle: string | undefined
  plan: Plan
  tag: string
  lifetimeMs: number
  profileDir: string | undefined
  verbose: boolean
}

/**
 * Starts `plan.grapes` Grapes of one implementation on 127.0.0.1, `plan.perProcess` to a process.
 * Three seed Grapes get fixed DHT ports and bootstrap from each other; every other Grape binds DHT
 * port 0 and bootstraps from the seeds. The process holding the seeds starts first (a seed must be
 * up before anyone can join it), then all the others at once.
 */
export async function startNetwork(options: NetworkOptions): Promise<GrapeNetwork> {
  const { plan, impl } = options
  const seedPorts = await fixedPorts(SEEDS)
  // Our API takes port 0; the reference refuses it (ERR_NO_PORT).
  const apiPorts = impl === 'ref' ? await fixedPorts(plan.grapes) : []
  const seeds = seedPorts.map((port) => `127.0.0.1:${port}`)
  const processCount = Math.ceil(plan.grapes / plan.perProcess)
  const configs: NodeChildConfig[] = Array.from({ length: processCount }, (_, p) => ({
    impl,
    from: options.from,
    process: p,
    grapes: Array.from({ length: Math.min(plan.perProcess, plan.grapes - p * plan.perProcess) }, (_, g) => {
      const index = p * plan.perProcess + g
      const seed = index < SEEDS
      return {
        apiPort: apiPorts[index] ?? 0,
        dhtPort: seed ? (seedPorts[index] as number) : 0,
        bootstrap: seed ? seeds.filter((_, s) => s !== index) : seeds,
      }
    }),
  }))
  const profileOf = (p: number) =>
    options.profileDir ? join(options.profileDir, `dht-${impl}-p${p}-${options.tag}.cpuprofile`) : undefined
  const processes: BenchChild[] = []
  const spawn = (config: NodeChildConfig) => {
    const profile = profileOf(config.process)
    const child = spawnChild({
      name: `${IMPL_LABEL[impl]}-dht${config.process}`,
      script: options.childBundle ?? 'bench/dht/node-child.ts',
      tsx: options.childBundle === undefined,
      args: [JSON.stringify(config)],
      // Under tsx its loader thread writes a profile too: one directory per process, the main one kept.
      nodeArgs: profile ? ['--cpu-prof', `--cpu-prof-dir=${profile}.d`] : [],
      lifetimeMs: options.lifetimeMs,
      verbose: options.verbose,
    })
    processes.push(child)
    return child
  }
  const stop = async () => {
    await Promise.all(processes.map((child) => child.stop()))
    for (const child of processes) {
      const index = processes.indexOf(child)
      const profile = profileOf(index)
      if (profile) collectMainThreadProfile(profile, child.pid)
    }
  }
  try {
    const begin = performance.now()
    // Every process that holds a seed goes first.
    const seedProcesses = configs.filter((config) => config.process * plan.perProcess < SEEDS)
    const first = await Promise.all(
      seedProcesses.map((config) => spawn(config).ready<NodeChildReady>(60_000)),
    )
    const rest = await Promise.all(
      configs.slice(seedProcesses.length).map((config) => spawn(config).ready<NodeChildReady>(120_000)),
    )
    const startedMs = performance.now() - begin
    const ready = [...first, ...rest]
    return {
      impl,
      urls: ready.flatMap((info) => info.grapes.map((grape) => grape.url)),
      processes,
      ready,
      startedMs,
      profiles: configs.flatMap((config) => profileOf(config.process) ?? []),
      stop,
    }
  } catch (err) {
    await stop()
    throw err
  }
}
