/** Limits and clock of a `PeerTable`. */
export interface PeerTableOptions {
  /** How long a sighting of a peer keeps it in answers, in ms. */
  maxAgeMs: number
  /** Names kept at most; the least recently touched name is dropped first. */
  maxNames?: number
  /** Peers kept per name at most; the oldest sighting is dropped first. */
  maxPeersPerName?: number
  now?: () => number
}

interface NameEntry {
  /** address → expiry time; Map order is sighting order, oldest first. */
  peers: Map<string, number>
  /** When a DHT lookup or revalidation for the name last completed (0 = never). */
  refreshedAt: number
  /** When a full DHT lookup for the name last completed, or when the name was first seen. */
  fullAt: number
  /** A peer may be missing until the next lookup completes (one was just announced elsewhere). */
  stale: boolean
}

/**
 * Every peer recently seen for a name, keyed by the hex of the name's bytes (the DHT info_hash).
 * This is what the reference Grape keeps in `_mem`; we also answer lookups from it.
 */
export class PeerTable {
  readonly #entries = new Map<string, NameEntry>()
  readonly #maxAgeMs: number
  readonly #maxNames: number
  readonly #maxPeersPerName: number
  readonly #now: () => number

  constructor(options: PeerTableOptions) {
    this.#maxAgeMs = options.maxAgeMs
    this.#maxNames = options.maxNames ?? 5000
    this.#maxPeersPerName = options.maxPeersPerName ?? 1000
    this.#now = options.now ?? Date.now
  }

  /** Records a sighting of `address` for `key`; true when it was not live before. */
  add(key: string, address: string): boolean {
    const entry = this.#touch(key)
    const now = this.#now()
    const previous = entry.peers.get(address)
    entry.peers.delete(address)
    entry.peers.set(address, now + this.#maxAgeMs)
    if (entry.peers.size > this.#maxPeersPerName) {
      const oldest = entry.peers.keys().next().value
      if (oldest !== undefined) entry.peers.delete(oldest)
    }
    return previous === undefined || previous <= now
  }

  /** Up to `limit` live addresses for `key`, shuffled. */
  get(key: string, limit = 100): string[] {
    const entry = this.#entries.get(key)
    if (!entry) return []
    const now = this.#now()
    const live: string[] = []
    for (const [address, expiresAt] of entry.peers) {
      if (expiresAt > now) live.push(address)
      else entry.peers.delete(address)
    }
    shuffle(live)
    if (live.length > limit) live.length = limit
    return live
  }

  /** Whether `key` has at least one live peer. */
  hasLive(key: string): boolean {
    const entry = this.#entries.get(key)
    if (!entry) return false
    const now = this.#now()
    for (const expiresAt of entry.peers.values()) if (expiresAt > now) return true
    return false
  }

  /** Milliseconds since the last completed DHT lookup of `key` (Infinity if never). */
  ageOf(key: string): number {
    const refreshedAt = this.#entries.get(key)?.refreshedAt ?? 0
    return refreshedAt === 0 ? Number.POSITIVE_INFINITY : this.#now() - refreshedAt
  }

  /** Milliseconds since the last full DHT lookup of `key`, or since it was first seen. */
  sinceFullLookup(key: string): number {
    const entry = this.#entries.get(key)
    return entry ? this.#now() - entry.fullAt : Number.POSITIVE_INFINITY
  }

  /** Notes that a DHT lookup (`full`) or a revalidation of `key` just completed. */
  markRefreshed(key: string, full = true): void {
    const entry = this.#touch(key)
    entry.refreshedAt = this.#now()
    if (full) entry.fullAt = entry.refreshedAt
    entry.stale = false
  }

  /**
   * Notes that this node just stored an announce of `key`: it is one of the nodes closest to the
   * name, where the name's other announces land too, so a name never looked up counts as refreshed
   * now (the next `lookupRefreshMs` of answers from memory need no DHT lookup behind them).
   */
  markStored(key: string): void {
    const entry = this.#entries.get(key)
    if (entry && entry.refreshedAt === 0) entry.refreshedAt = this.#now()
  }

  /** Notes that the live peers of `key` may miss one until the next completed lookup. */
  markStale(key: string): void {
    const entry = this.#entries.get(key)
    if (entry) entry.stale = true
  }

  /** Whether answers for `key` must wait for a DHT lookup (see `markStale`). */
  isStale(key: string): boolean {
    return this.#entries.get(key)?.stale === true
  }

  /** Drops expired peers and names left without any; returns how many names remain. */
  sweep(): number {
    const now = this.#now()
    for (const [key, entry] of this.#entries) {
      for (const [address, expiresAt] of entry.peers) if (expiresAt <= now) entry.peers.delete(address)
      if (entry.peers.size === 0 && now - entry.refreshedAt > this.#maxAgeMs) this.#entries.delete(key)
    }
    return this.#entries.size
  }

  clear(): void {
    this.#entries.clear()
  }

  #touch(key: string): NameEntry {
    let entry = this.#entries.get(key)
    if (entry) {
      this.#entries.delete(key)
    } else {
      entry = { peers: new Map(), refreshedAt: 0, fullAt: this.#now(), stale: false }
      if (this.#entries.size >= this.#maxNames) {
        const oldest = this.#entries.keys().next().value
        if (oldest !== undefined) this.#entries.delete(oldest)
      }
    }
    this.#entries.set(key, entry)
    return entry
  }
}

function shuffle(items: string[]): void {
  for (let i = items.length - 1; i > 0; i--) {
    const j = Math.floor(Math.random() * (i + 1))
    const item = items[i] as string
    items[i] = items[j] as string
    items[j] = item
  }
}
