import { performance } from 'node:perf_hooks'

/** One call of a load loop: resolves true for a correct answer, false for a wrong one; throws on error. */
export type LoadCall = (slot: number) => Promise<boolean>

export interface LoopResult {
  ok: number
  errors: number
  firstError: string | undefined
  elapsedMs: number
  /** Latency of every call, ms. */
  latenciesMs: number[]
}

/**
 * A closed loop: exactly `concurrency` calls in flight, each slot starting its next call when the
 * previous one ends, until `durationMs` passed (calls in flight then are finished and counted).
 */
export async function closedLoop(
  concurrency: number,
  durationMs: number,
  call: LoadCall,
): Promise<LoopResult> {
  const latenciesMs: number[] = []
  let ok = 0
  let errors = 0
  let firstError: string | undefined
  const start = performance.now()
  const deadline = start + durationMs
  const slot = async (index: number) => {
    while (performance.now() < deadline) {
      const begin = performance.now()
      try {
        if (await call(index)) ok++
        else {
          errors++
          firstError ??= 'wrong answer'
        }
      } catch (err) {
        errors++
        firstError ??= (err as Error)?.message ?? String(err)
      }
      latenciesMs.push(performance.now() - begin)
    }
  }
  await Promise.all(Array.from({ length: concurrency }, (_, index) => slot(index)))
  return { ok, errors, firstError, elapsedMs: performance.now() - start, latenciesMs }
}

/** Now on the monotonic clock, in µs (the timeline of V8 CPU profiles). */
export function monotonicUs(): number {
  return Number(process.hrtime.bigint() / 1000n)
}
