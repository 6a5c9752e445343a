import { checkOption } from '../../util/validate.js'
import type { Reply } from '../types.js'

/** What one connection of a server may hold before it is no longer read. */
export interface ConnectionBounds {
  /** Requests of the connection handed to the handler and not answered yet. */
  maxInFlight: number
  /** Reply bytes of the connection not yet taken by the kernel (a caller that does not read). */
  maxUnsentBytes: number
}

/** Resolves and checks `maxInFlightPerConnection` and `maxUnsentBytes` (`ERR_INVALID_OPTION`). */
export function resolveConnectionBounds(
  options: { maxInFlightPerConnection?: number | undefined; maxUnsentBytes?: number | undefined },
  defaultInFlight = 4096,
): ConnectionBounds {
  return {
    maxInFlight: checkOption.integer(
      'maxInFlightPerConnection',
      options.maxInFlightPerConnection ?? defaultInFlight,
      1,
    ),
    maxUnsentBytes: checkOption.integer('maxUnsentBytes', options.maxUnsentBytes ?? 16 * 1024 * 1024, 1024),
  }
}

/**
 * The requests a server transport has handed to its handler and not answered. Every server counts
 * through it, so the reply-once rule and the drain of `close()` are the same on every transport.
 */
export class InFlight {
  #count = 0
  #onIdle: (() => void) | undefined

  get size(): number {
    return this.#count
  }

  /**
   * Opens one request; returns its `reply`: the first call runs `send`, later ones are ignored.
   * `gate` is the connection's, when the transport bounds its connections.
   */
  open(send: Reply, gate?: ConnectionGate): Reply {
    this.#count++
    gate?.opened()
    let replied = false
    return (error, result) => {
      if (replied) return
      replied = true
      send(error, result)
      gate?.answered()
      if (--this.#count === 0) this.#onIdle?.()
    }
  }

  /** Resolves true once nothing is in flight, or false after `timeoutMs`. */
  drain(timeoutMs: number): Promise<boolean> {
    if (this.#count === 0) return Promise.resolve(true)
    if (timeoutMs <= 0) return Promise.resolve(false)
    return new Promise((resolve) => {
      const timer = setTimeout(() => {
        this.#onIdle = undefined
        resolve(false)
      }, timeoutMs)
      this.#onIdle = () => {
        this.#onIdle = undefined
        clearTimeout(timer)
        resolve(true)
      }
    })
  }
}

/**
 * One connection's load: its requests in flight and its reply bytes not yet sent. Past either bound
 * it calls `pause` (the transport stops reading the connection, so a caller that sends and never
 * reads cannot grow the worker), and `resume` once it is back under both: in flight below the
 * bound, unsent bytes at half the bound or less.
 */
export class ConnectionGate {
  readonly #bounds: ConnectionBounds
  readonly #pause: () => void
  readonly #resume: () => void
  #inFlight = 0
  #unsent = 0
  #paused = false

  constructor(bounds: ConnectionBounds, pause: () => void, resume: () => void) {
    this.#bounds = bounds
    this.#pause = pause
    this.#resume = resume
  }

  get paused(): boolean {
    return this.#paused
  }

  opened(): void {
    if (++this.#inFlight >= this.#bounds.maxInFlight) this.#update()
  }

  answered(): void {
    this.#inFlight--
    if (this.#paused) this.#update()
  }

  /** The connection's unsent reply bytes now (after a write, or when its socket drained). */
  unsent(bytes: number): void {
    this.#unsent = bytes
    if (this.#paused || bytes > this.#bounds.maxUnsentBytes) this.#update()
  }

  #update(): void {
    const { maxInFlight, maxUnsentBytes } = this.#bounds
    if (!this.#paused) {
      if (this.#inFlight >= maxInFlight || this.#unsent > maxUnsentBytes) {
        this.#paused = true
        this.#pause()
      }
    } else if (this.#inFlight < maxInFlight && this.#unsent <= maxUnsentBytes / 2) {
      this.#paused = false
      this.#resume()
    }
  }
}

/** What a handler threw, as something that travels as an error (`throw null` included). */
export function thrown(err: unknown): Error | string {
  if (err instanceof Error || (typeof err === 'string' && err !== '')) return err
  return new Error(`the handler threw ${String(err)}`)
}
