import { closedLoop, monotonicUs } from '../lib/closed-loop.js'
import { cpuSnapshot } from '../lib/proc-cpu.js'
import { percentile } from '../lib/stats.js'
import type { GrapeApi } from './grape-api.js'
import type { LookupLoadParams, LookupLoadResult } from './protocol.js'

/**
 * Lookups of known names through one Grape's HTTP API, closed loop. Slot i asks for name
 * i % names.length (with c=16 over 16 names, the 16 requests in flight are 16 distinct names, so
 * the reference cannot coalesce them); below that many slots, calls cycle through the names. Every answer must
 * contain the name's worker. Grape CPU comes from /proc/<pid>/stat over the measured window only.
 */
export async function runLookupLoad(api: GrapeApi, params: LookupLoadParams): Promise<LookupLoadResult> {
  const { names, concurrency } = params
  const expected = params.ports.map((port) => `127.0.0.1:${port}`)
  let next = 0
  const call = async (slot: number) => {
    const index = concurrency >= names.length ? slot % names.length : next++ % names.length
    const peers = await api.lookup(names[index] as string)
    return peers.includes(expected[index] as string)
  }

  await closedLoop(concurrency, params.warmupMs, call)

  const cpuBefore = cpuSnapshot(params.grapePids)
  const clientBefore = process.cpuUsage()
  const startUs = monotonicUs()
  const loop = await closedLoop(concurrency, params.durationMs, call)
  const endUs = monotonicUs()
  const clientAfter = process.cpuUsage(clientBefore)
  const cpuAfter = cpuSnapshot(params.grapePids)

  return {
    ok: loop.ok,
    errors: loop.errors,
    firstError: loop.firstError,
    elapsedMs: loop.elapsedMs,
    perSecond: (loop.ok * 1000) / loop.elapsedMs,
    p50Ms: percentile(loop.latenciesMs, 0.5),
    p99Ms: percentile(loop.latenciesMs, 0.99),
    grapeCpuMs: cpuAfter.map((ms, i) => ms - (cpuBefore[i] as number)),
    clientCpuMs: (clientAfter.user + clientAfter.system) / 1000,
    window: { startUs, endUs },
  }
}
