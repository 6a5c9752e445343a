/**
 * The soak suite: minutes of RPC load over http, ws and zmq plus Grape lookups and a churn of
 * short-lived clients, across four processes (two Grapes, a worker, the load generator). Every
 * process's RSS and heap (after a full GC) are sampled throughout and their least-squares slope
 * is reported, with each process's handles before and after the run. Not in `npm test`.
 */
import { setTimeout as sleep } from 'node:timers/promises'
import { startGrapePair } from '../grape/pair.js'
import { type BenchChild, spawnChild } from '../lib/children.js'
import type { MemorySample } from '../lib/memory.js'
import { cpuSnapshot } from '../lib/proc-cpu.js'
import type { Suite, SuiteContext, SuiteReport } from '../lib/suite.js'
import {
  type FeedConfig,
  type FeedPublished,
  type FeedRunParams,
  type FeedState,
  type LoadParams,
  type LoadResult,
  type SoakSettings,
  type SoakTransport,
  soakSettings,
  TRANSPORTS,
  type WorkerReady,
} from './protocol.js'
import { formatSoakReport, type ProcessFigures, type Sample } from './report.js'

/**
 * Idle time before each handle count, ms: past the keep-alive timeouts (undici 4 s, node:http 5 s),
 * so that both counts see the same idle state and a difference is a handle left behind.
 */
const SETTLE_MS = 6000
const GC = ['--expose-gc']

export const soakSuite: Suite = {
  name: 'soak',
  description: 'minutes of RPC load, lookups and client churn: memory slopes and handles per process',
  onlyWhenNamed: true,
  budgetMs: ({ quick }) => soakSettings(quick).durationMs + 180_000,
  run: (context) => runSoak(context, soakSettings(context.quick)),
}

interface Watched {
  name: string
  child: BenchChild
  samples: Sample[]
}

async function runSoak(context: SuiteContext, s: SoakSettings): Promise<SuiteReport> {
  const lifetimeMs = s.durationMs + 150_000
  const { verbose } = context
  context.log('soak: starting 2 Grapes, a worker (http, ws, zmq) and a load generator')
  const pair = await startGrapePair({
    impl: 'ours',
    tag: 'soak',
    lifetimeMs,
    profileDir: undefined,
    verbose,
    nodeArgs: GC,
  })
  const spawn = (name: string, script: string, config: unknown) =>
    spawnChild({ name, script, args: [JSON.stringify(config)], nodeArgs: GC, lifetimeMs, verbose })
  const worker = spawn('soak-worker', 'bench/soak/worker-child.ts', { grape: pair.urls[0] })
  const load = spawn('soak-load', 'bench/soak/load-child.ts', { grape: pair.urls[1] })
  const feed = (role: FeedConfig['role'], grape: string) =>
    spawn(`soak-feed-${role}`, 'bench/soak/feed-child.ts', {
      role,
      grape,
      churnEveryMs: s.feedChurnEveryMs,
    } satisfies FeedConfig)
  const publisher = feed('publisher', pair.urls[0] as string)
  let replica: BenchChild | undefined
  try {
    const { ports } = await worker.ready<WorkerReady>(60_000)
    await load.ready(60_000)
    await publisher.ready(60_000)
    // Started once the feed is announced: the replica finds it through the other Grape.
    replica = feed('replica', pair.urls[1] as string)
    await replica.ready(60_000)
    const workers = Object.fromEntries(TRANSPORTS.map((t) => [t, `127.0.0.1:${ports[t]}`])) as Record<
      SoakTransport,
      string
    >
    await load.call('prepare', { timeoutMs: 30_000 }, 40_000)
    const watched: Watched[] = [
      { name: 'Grape 1 (announced to)', child: pair.grapes[0], samples: [] },
      { name: 'Grape 2 (looked up)', child: pair.grapes[1], samples: [] },
      { name: 'worker', child: worker, samples: [] },
      { name: 'load generator', child: load, samples: [] },
      { name: 'feed publisher', child: publisher, samples: [] },
      { name: 'feed replica (+ churn)', child: replica, samples: [] },
    ]
    const handlesOf = () =>
      Promise.all(watched.map((w) => w.child.call<Record<string, number>>('handles', {}, 10_000)))
    await sleep(SETTLE_MS)
    const before = await handlesOf()
    const pids = watched.map((w) => w.child.pid)
    const cpuBefore = cpuSnapshot(pids)

    context.log(`soak: ${s.durationMs / 1000} s of load; memory sampled every ${s.sampleMs} ms`)
    const start = performance.now()
    let running = true
    const sampling = (async () => {
      while (running) {
        const minute = (performance.now() - start) / 60_000
        const memory = await Promise.all(
          watched.map((w) => w.child.call<MemorySample>('memory', { gc: true }, 10_000)),
        )
        for (const [i, w] of watched.entries()) w.samples.push({ minute, ...(memory[i] as MemorySample) })
        await sleep(s.sampleMs)
      }
    })()
    let result: LoadResult
    let published: FeedPublished
    try {
      const params: LoadParams = { settings: s, workers }
      const feedRun: FeedRunParams = { rate: s.feedRate, durationMs: s.durationMs }
      ;[result, published] = await Promise.all([
        load.call<LoadResult>('run', params, s.durationMs + 60_000),
        publisher.call<FeedPublished>('run', feedRun, s.durationMs + 60_000),
      ])
    } finally {
      running = false
      await sampling
    }
    const feedReplica = replica
    await feedReplica.call('stopChurn', {}, 60_000)
    // The replica has the publisher's state at its last seq (or says how far it got).
    let reached = await feedReplica.call<FeedState>('state', {}, 10_000)
    const deadline = performance.now() + 10_000
    while (reached.seq < published.seq && performance.now() < deadline) {
      await sleep(100)
      reached = await feedReplica.call<FeedState>('state', {}, 10_000)
    }
    const elapsedMs = performance.now() - start
    const cpuAfter = cpuSnapshot(pids)
    await sleep(SETTLE_MS)
    const after = await handlesOf()

    const processes: ProcessFigures[] = watched.map((w, i) => ({
      name: w.name,
      samples: w.samples,
      cpuPercent: (((cpuAfter[i] as number) - (cpuBefore[i] as number)) / elapsedMs) * 100,
      handlesBefore: before[i] as Record<string, number>,
      handlesAfter: after[i] as Record<string, number>,
    }))
    return {
      text: formatSoakReport({
        settings: s,
        quick: context.quick,
        processes,
        load: result,
        feed: { published, replica: reached },
      }),
      raw: { settings: s, load: result, processes, feed: { published, replica: reached } },
    }
  } finally {
    await replica?.stop()
    await publisher.stop()
    await load.stop()
    await worker.stop()
    await pair.stop()
  }
}
