import { percentile } from '../lib/stats.js'
import type { CallFigures } from './protocol.js'

/** Latencies kept per kind of call: a uniform sample of this many (the rest only counted). */
const RESERVOIR = 4096

/**
 * Counts calls and keeps a fixed-size random sample of their latencies (reservoir sampling), so
 * that recording minutes of load does not itself grow the load process's memory.
 */
export class Recorder {
  ok = 0
  errors = 0
  firstError: string | undefined
  readonly #sample = new Float64Array(RESERVOIR)
  #seen = 0

  /** Runs `call`, timing it; a false result or a throw is an error. */
  async time(call: () => Promise<boolean>): Promise<void> {
    const begin = performance.now()
    try {
      if (await call()) this.ok++
      else this.fail('wrong answer')
    } catch (err) {
      this.fail((err as Error)?.message ?? String(err))
    }
    this.#keep(performance.now() - begin)
  }

  fail(why: string): void {
    this.errors++
    this.firstError ??= why
  }

  figures(): CallFigures {
    const kept = Array.from(this.#sample.subarray(0, Math.min(this.#seen, RESERVOIR)))
    return {
      ok: this.ok,
      errors: this.errors,
      firstError: this.firstError,
      p50Ms: percentile(kept, 0.5),
      p99Ms: percentile(kept, 0.99),
    }
  }

  #keep(ms: number): void {
    const seen = this.#seen++
    if (seen < RESERVOIR) this.#sample[seen] = ms
    else {
      const slot = Math.floor(Math.random() * (seen + 1))
      if (slot < RESERVOIR) this.#sample[slot] = ms
    }
  }
}

/** `concurrency` loops, each starting its next call when the last one ended, until `untilMs`. */
export async function closedLoops(
  concurrency: number,
  untilMs: number,
  recorder: Recorder,
  call: (slot: number) => Promise<boolean>,
): Promise<void> {
  const loop = async (slot: number): Promise<void> => {
    while (performance.now() < untilMs) await recorder.time(() => call(slot))
  }
  await Promise.all(Array.from({ length: concurrency }, (_, slot) => loop(slot)))
}
