import { performance } from 'node:perf_hooks'

/** One call: resolves true for a correct answer, false for a wrong one; rejects on error. */
export type CountedCall = () => Promise<boolean>

export interface CountLoopResult {
  ok: number
  errors: number
  wrong: number
  firstError: string | undefined
  elapsedMs: number
  /** True when `capMs` passed before `calls` calls were started. */
  capped: boolean
  /** Latency of every finished call, ms (the first `done` entries). */
  latenciesMs: Float64Array
  done: number
}

/**
 * A closed loop by count (perf-baseline's method): exactly `concurrency` calls in flight, each
 * slot starting the next call as soon as its previous one ended, until `calls` calls were started
 * or `capMs` passed; the calls in flight then are finished and counted.
 */
export async function countLoop(
  concurrency: number,
  calls: number,
  capMs: number,
  call: CountedCall,
): Promise<CountLoopResult> {
  const latenciesMs = new Float64Array(calls)
  let started = 0
  let done = 0
  let ok = 0
  let errors = 0
  let wrong = 0
  let capped = false
  let firstError: string | undefined
  const start = performance.now()
  const deadline = start + capMs
  const slot = async () => {
    while (started < calls) {
      const begin = performance.now()
      if (begin > deadline) {
        capped = true
        return
      }
      started++
      try {
        if (await call()) ok++
        else {
          wrong++
          firstError ??= 'wrong answer'
        }
      } catch (err) {
        errors++
        firstError ??= (err as Error)?.message ?? String(err)
      }
      latenciesMs[done++] = performance.now() - begin
    }
  }
  await Promise.all(Array.from({ length: Math.min(concurrency, calls) }, slot))
  return {
    ok,
    errors,
    wrong,
    firstError,
    elapsedMs: performance.now() - start,
    capped,
    latenciesMs,
    done,
  }
}
