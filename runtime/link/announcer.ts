import { GrenacheError, toGrenacheError } from '../errors.js'
import { type CallOptions, createDeadline, sleep } from '../util/deadline.js'

/** One announce of the name through the Grape; resolves with the number of nodes that stored it. */
export type AnnounceOnce = (options: CallOptions) => Promise<number>

export interface AnnouncerOptions {
  announce: AnnounceOnce
  /** Time between successful announces, in ms (jittered by ±10 %). */
  intervalMs: number
  /** Deadline of each periodic announce, in ms. */
  requestTimeoutMs: number
  /** A periodic announce failed; the announcer retries on its own. */
  onError(error: GrenacheError): void
}

const FIRST_RETRY_MS = 1000

/**
 * Keeps one name announced: a first announce retried until it succeeds or its deadline passes,
 * then one every `intervalMs`, and after a failure retries from 1 s, doubling up to the interval.
 */
export class Announcer {
  readonly #options: AnnouncerOptions
  readonly #stopper = new AbortController()
  #timer: NodeJS.Timeout | undefined
  #failures = 0

  constructor(options: AnnouncerOptions) {
    this.#options = options
  }

  /** Announces until the first success; rejects (and stops) when `options` time out or abort. */
  async start(options: CallOptions | undefined, defaultTimeoutMs: number): Promise<void> {
    const deadline = createDeadline(
      { signal: linkSignals(options?.signal, this.#stopper.signal), timeoutMs: options?.timeoutMs },
      defaultTimeoutMs,
      'startAnnouncing',
    )
    let lastError: GrenacheError | undefined
    try {
      for (let retryMs = FIRST_RETRY_MS; ; retryMs = Math.min(retryMs * 2, this.#options.intervalMs)) {
        try {
          await this.#options.announce({ signal: deadline.signal })
          break
        } catch (err) {
          if (deadline.signal.aborted) throw deadline.reason()
          lastError = toGrenacheError(err)
          await sleep(retryMs, deadline.signal)
        }
      }
    } catch (err) {
      const stopped = this.#stopper.signal.aborted
      this.stop()
      if (stopped) throw this.#stopper.signal.reason
      const reason = toGrenacheError(err)
      if (reason.code === 'ERR_TIMEOUT' && lastError) {
        throw new GrenacheError('ERR_TIMEOUT', `${reason.message}; last failure: ${lastError.message}`, {
          cause: lastError,
        })
      }
      throw reason
    } finally {
      deadline.dispose()
    }
    this.#schedule(jitter(this.#options.intervalMs))
  }

  /** Stops re-announcing and aborts an announce in flight. Entries expire on the DHT by themselves. */
  stop(): void {
    clearTimeout(this.#timer)
    this.#stopper.abort(new GrenacheError('ERR_CLOSED', 'announcing was stopped'))
  }

  #schedule(delayMs: number): void {
    if (this.#stopper.signal.aborted) return
    this.#timer = setTimeout(() => this.#tick(), delayMs)
    this.#timer.unref()
  }

  async #tick(): Promise<void> {
    try {
      await this.#options.announce({
        signal: this.#stopper.signal,
        timeoutMs: this.#options.requestTimeoutMs,
      })
      this.#failures = 0
      this.#schedule(jitter(this.#options.intervalMs))
    } catch (err) {
      if (this.#stopper.signal.aborted) return
      this.#failures++
      this.#options.onError(toGrenacheError(err))
      this.#schedule(Math.min(FIRST_RETRY_MS * 2 ** (this.#failures - 1), this.#options.intervalMs))
    }
  }
}

function jitter(ms: number): number {
  return Math.round(ms * (0.9 + Math.random() * 0.2))
}

function linkSignals(a: AbortSignal | undefined, b: AbortSignal): AbortSignal {
  return a ? AbortSignal.any([a, b]) : b
}
