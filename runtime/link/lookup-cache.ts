/** Limits and clock of a `LookupCache`. */
export interface LookupCacheOptions {
  /** An answer older than this is not served, in ms. */
  maxAgeMs: number
  /** An answer older than this is served but should be refreshed, in ms. */
  refreshMs: number
  /** Names kept at most; the least recently stored is dropped first. */
  maxNames: number
  now?: () => number
}

export interface CachedLookup {
  addresses: readonly string[]
  /** Older than `refreshMs`: serve it, and refresh it in the background. */
  stale: boolean
}

/** Non-empty lookup answers by name. Empty answers are never stored (reference bug G7). */
export class LookupCache {
  readonly #entries = new Map<string, { addresses: readonly string[]; storedAt: number }>()
  readonly #options: LookupCacheOptions
  readonly #now: () => number

  constructor(options: LookupCacheOptions) {
    this.#options = options
    this.#now = options.now ?? Date.now
  }

  get(name: string): CachedLookup | undefined {
    const entry = this.#entries.get(name)
    if (!entry) return undefined
    const age = this.#now() - entry.storedAt
    if (age >= this.#options.maxAgeMs) {
      this.#entries.delete(name)
      return undefined
    }
    return { addresses: entry.addresses, stale: age >= this.#options.refreshMs }
  }

  set(name: string, addresses: readonly string[]): void {
    this.#entries.delete(name)
    if (addresses.length === 0) return
    if (this.#entries.size >= this.#options.maxNames) {
      const oldest = this.#entries.keys().next().value
      if (oldest !== undefined) this.#entries.delete(oldest)
    }
    this.#entries.set(name, { addresses: Object.freeze([...addresses]), storedAt: this.#now() })
  }

  delete(name: string): void {
    this.#entries.delete(name)
  }

  clear(): void {
    this.#entries.clear()
  }
}
