import { performance } from 'node:perf_hooks'
import { setTimeout as sleep } from 'node:timers/promises'
import type { GrapeApi } from './grape-api.js'
import type { VisibilityParams, VisibilityResult } from './protocol.js'

/** Pause before each step, so that each name's background work (DHT refreshes) settles first. */
const IDLE_MS = 10

/**
 * For each fresh name: POST /announce on Grape 1, and from its ack, back-to-back lookups on
 * Grape 2 until the answer contains the worker. Measures ack → first answer that has it, the
 * latency of one more lookup of the name right after, and, as a control, a lookup of a known name
 * after the same idle gap (on a busy VM, waking idle processes costs as much as the Grape's work).
 */
export async function runVisibility(
  announceApi: GrapeApi,
  lookupApi: GrapeApi,
  params: VisibilityParams,
): Promise<VisibilityResult> {
  const result: VisibilityResult = {
    visibleMs: [],
    announceMs: [],
    repeatMs: [],
    controlMs: [],
    firstTryHits: 0,
    misses: 0,
  }
  for (const [i, name] of params.names.entries()) {
    // Control: a name Grape 2 has long known, after the same idle gap as the fresh name below.
    await sleep(IDLE_MS)
    const control = performance.now()
    await lookupApi.lookup(params.controlName).catch(() => [])
    result.controlMs.push(performance.now() - control)
    await sleep(IDLE_MS)

    const port = params.basePort + i
    const expected = `127.0.0.1:${port}`
    const begin = performance.now()
    await announceApi.announce(name, port)
    const ack = performance.now()
    result.announceMs.push(ack - begin)
    let visible = Number.NaN
    for (let tries = 1; performance.now() - ack < params.capMs; tries++) {
      let peers: string[] = []
      try {
        peers = await lookupApi.lookup(name)
      } catch {
        // Counted as a miss of this try; the next one follows at once.
      }
      if (peers.includes(expected)) {
        visible = performance.now() - ack
        if (tries === 1) result.firstTryHits++
        break
      }
    }
    if (Number.isNaN(visible)) result.misses++
    result.visibleMs.push(visible)
    // The same lookup once more: what a name costs once the Grape has seen it.
    const again = performance.now()
    await lookupApi.lookup(name).catch(() => [])
    result.repeatMs.push(performance.now() - again)
  }
  return result
}
