/** First hold of an address that refused a connection, in ms; it doubles on each refusal in a row. */
const FIRST_HOLD_MS = 1000

/**
 * Addresses that refused a connection. A refusal proves nothing listens at `ip:port`: the worker
 * that announced it stopped. The DHT keeps answering with a stopped worker's address for its peer
 * max-age (2 min by default), and cannot tell a re-announced address from a remembered one, so a
 * lookup returning the address again proves nothing. Instead the address is held out of the
 * client's view for 1 s, then tried once more by a call that needs it; each refusal in a row doubles
 * the hold, up to `maxHoldMs`. Any answer from it (a worker that came back on the same port) lets it
 * in again at once. A refused retry costs one refused connect and the call moves on.
 */
export class GoneAddresses {
  readonly #entries = new Map<string, { until: number; holdMs: number }>()
  readonly #maxHoldMs: number
  readonly #now: () => number

  constructor(maxHoldMs: number, now: () => number = Date.now) {
    this.#maxHoldMs = maxHoldMs
    this.#now = now
  }

  /** `address` refused a connection: hold it out, longer if it was refused before. */
  refused(address: string): void {
    const now = this.#now()
    const entry = this.#entries.get(address)
    // A refusal long after the last hold ended starts over: the address is being reused.
    const fresh = !entry || now > entry.until + this.#maxHoldMs
    const holdMs = Math.min(this.#maxHoldMs, fresh ? FIRST_HOLD_MS : entry.holdMs * 2)
    this.#entries.delete(address)
    this.#entries.set(address, { until: now + holdMs, holdMs })
    this.#prune(now)
  }

  /** Something at `address` answered: it is a worker again. */
  answered(address: string): void {
    if (this.#entries.size > 0) this.#entries.delete(address)
  }

  /** Whether `address` is held out now. */
  isGone(address: string): boolean {
    const entry = this.#entries.get(address)
    return entry !== undefined && entry.until > this.#now()
  }

  get size(): number {
    return this.#entries.size
  }

  /** Forgets addresses whose hold ended long ago, so the map stays as small as the churn. */
  #prune(now: number): void {
    for (const [address, entry] of this.#entries) {
      // Insertion order is refusal order: the first recent one ends the scan.
      if (now <= entry.until + this.#maxHoldMs) break
      this.#entries.delete(address)
    }
  }
}
