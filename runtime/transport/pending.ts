import { GrenacheError } from '../errors.js'
import { startTimer } from '../util/deadline.js'
import { remoteError } from './envelope.js'

interface Pending {
  resolve(result: unknown): void
  reject(error: GrenacheError): void
  timer: NodeJS.Timeout | undefined
  signal: AbortSignal | undefined
  onAbort: (() => void) | undefined
}

/**
 * The requests a multiplexed connection (WebSocket, ZeroMQ) waits answers for, by rid. Each has
 * its own timer, so a timeout fires at its deadline (the reference checks every 10 s, G14), and
 * `failAll` fails every one at once when the connection drops (the reference leaves them hanging, G17).
 */
export class PendingRequests {
  readonly #pending = new Map<string, Pending>()
  readonly #what: string

  /** `what` names the connection in error messages, e.g. `ws 127.0.0.1:1337`. */
  constructor(what: string) {
    this.#what = what
  }

  get size(): number {
    return this.#pending.size
  }

  /** Waits for the reply to `rid`: rejects with ERR_TIMEOUT after `timeoutMs`, ERR_ABORTED on `signal`. */
  add(rid: string, timeoutMs: number, signal: AbortSignal | undefined): Promise<unknown> {
    if (signal?.aborted) {
      return Promise.reject(
        new GrenacheError('ERR_ABORTED', `${this.#what}: aborted`, { cause: signal.reason }),
      )
    }
    return new Promise((resolve, reject) => {
      const timer = startTimer(timeoutMs, () => {
        this.fail(rid, new GrenacheError('ERR_TIMEOUT', `${this.#what}: no reply within ${timeoutMs} ms`))
      })
      let onAbort: (() => void) | undefined
      if (signal) {
        onAbort = () =>
          this.fail(rid, new GrenacheError('ERR_ABORTED', `${this.#what}: aborted`, { cause: signal.reason }))
        signal.addEventListener('abort', onAbort, { once: true })
      }
      this.#pending.set(rid, { resolve, reject, timer, signal, onAbort })
    })
  }

  /** Settles `rid` with a decoded reply; false when nobody waits for it (late or unknown). */
  settle(rid: unknown, error: string | null, result: unknown): boolean {
    if (typeof rid !== 'string') return false
    const entry = this.#take(rid)
    if (!entry) return false
    if (error === null) entry.resolve(result)
    else entry.reject(remoteError(error, result))
    return true
  }

  /** Whether a request waits for `rid`. */
  has(rid: string): boolean {
    return this.#pending.has(rid)
  }

  fail(rid: string, error: GrenacheError): boolean {
    const entry = this.#take(rid)
    entry?.reject(error)
    return entry !== undefined
  }

  /** Fails every waiting request (the connection closed). */
  failAll(error: GrenacheError): void {
    for (const rid of [...this.#pending.keys()]) this.fail(rid, error)
  }

  #take(rid: string): Pending | undefined {
    const entry = this.#pending.get(rid)
    if (!entry) return undefined
    this.#pending.delete(rid)
    clearTimeout(entry.timer)
    if (entry.onAbort) entry.signal?.removeEventListener('abort', entry.onAbort)
    return entry
  }
}
