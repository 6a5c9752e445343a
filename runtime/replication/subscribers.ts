import type { DatagramAddress } from './endpoint.js'
import { addressKey } from './feed-transport.js'
import { HELLO_CAROUSEL, HELLO_LEAVE, HELLO_SUBSCRIBE } from './packet.js'

interface Subscriber {
  address: DatagramAddress
  expiresMs: number
  carouselUntilMs: number
}

/**
 * The replicas of a unicast feed: who said HELLO with "subscribe" lately (each renews every
 * heartbeat; five intervals without one and it is gone), and who is joining (gets the carousel).
 */
export class Subscribers {
  readonly #byAddress = new Map<string, Subscriber>()
  readonly #heartbeatMs: number
  readonly #max: number

  constructor(heartbeatMs: number, max: number) {
    this.#heartbeatMs = heartbeatMs
    this.#max = max
  }

  get size(): number {
    return this.#byAddress.size
  }

  /** Takes the subscription flags of a HELLO; false when it would add a subscriber past the limit. */
  hello(flags: number, from: DatagramAddress): boolean {
    const key = addressKey(from)
    if (flags & HELLO_LEAVE) {
      this.#byAddress.delete(key)
      return true
    }
    if (!(flags & HELLO_SUBSCRIBE)) return true
    const now = performance.now()
    let subscriber = this.#byAddress.get(key)
    if (!subscriber) {
      if (this.#byAddress.size >= this.#max) this.expire()
      if (this.#byAddress.size >= this.#max) return false
      subscriber = { address: { ...from }, expiresMs: 0, carouselUntilMs: 0 }
      this.#byAddress.set(key, subscriber)
    }
    subscriber.expiresMs = now + this.#heartbeatMs * 5
    if (flags & HELLO_CAROUSEL) subscriber.carouselUntilMs = now + this.#heartbeatMs * 3
    return true
  }

  /** Every subscriber's address. */
  *all(): Generator<DatagramAddress> {
    for (const subscriber of this.#byAddress.values()) yield subscriber.address
  }

  /** The addresses of those joining. */
  *joining(): Generator<DatagramAddress> {
    const now = performance.now()
    for (const subscriber of this.#byAddress.values())
      if (subscriber.carouselUntilMs > now) yield subscriber.address
  }

  /** Forgets those that stopped renewing. */
  expire(): void {
    if (this.#byAddress.size === 0) return
    const now = performance.now()
    for (const [key, subscriber] of this.#byAddress)
      if (subscriber.expiresMs < now) this.#byAddress.delete(key)
  }
}
