/**
 * The publisher's retransmit ring: the DATA datagrams it sent, oldest first, by their seqs,
 * bounded in bytes. Answers "which datagrams hold seqs [from, from + count)", or that some are gone.
 *
 * The bytes live in one buffer allocated up front (the system backs its pages as they are first
 * written), the index in typed arrays: a datagram kept costs a copy and no object. Kept as a
 * `Buffer` each, the datagrams of the last seconds were the publisher's largest set of objects to
 * survive a young-generation collection, and the pause they cost delayed the NACKs it answers.
 */
export class RetransmitRing {
  readonly #maxBytes: number
  readonly #data: Buffer
  /** Where the next datagram is written in `#data`. */
  #write = 0
  // Entry `id` lives at index `id & #mask` of the arrays below; `#head` is the oldest id kept,
  // `#tail` the next id.
  #firsts = new Float64Array(256)
  #counts = new Uint32Array(256)
  #offsets = new Uint32Array(256)
  #lengths = new Uint32Array(256)
  #mask = 255
  #head = 0
  #tail = 0
  #bytes = 0

  constructor(maxBytes: number) {
    this.#maxBytes = maxBytes
    this.#data = Buffer.allocUnsafeSlow(maxBytes)
  }

  /** The oldest seq held (Infinity when empty). */
  get oldest(): number {
    return this.#head < this.#tail
      ? (this.#firsts[this.#head & this.#mask] as number)
      : Number.POSITIVE_INFINITY
  }

  get bytes(): number {
    return this.#bytes
  }

  /**
   * Keeps a copy of a sent datagram holding seqs `[first, first + count)` (fragments: count 1
   * each), dropping the oldest ones it overwrites. One larger than the whole ring is not kept.
   */
  push(packet: Uint8Array, first: number, count: number): void {
    const length = packet.length
    if (length > this.#maxBytes) {
      // Not kept; nor is what came before, so that `oldest` stays the start of what can be resent.
      this.clear()
      return
    }
    let offset = this.#write
    const wraps = offset + length > this.#maxBytes
    if (wraps) offset = 0
    this.#evict(offset, length, wraps ? this.#write : -1)
    if (this.#tail - this.#head > this.#mask) this.#grow()
    const at = this.#tail & this.#mask
    this.#firsts[at] = first
    this.#counts[at] = count
    this.#offsets[at] = offset
    this.#lengths[at] = length
    this.#tail++
    this.#data.set(packet, offset)
    this.#write = offset + length
    this.#bytes += length
  }

  /**
   * The ids of the datagrams holding `[from, from + count)`, in order (read each with
   * `datagram(id)`); `undefined` when some are gone.
   */
  find(from: number, count: number): number[] | undefined {
    if (count <= 0 || from < this.oldest) return undefined
    const end = from + count
    const mask = this.#mask
    // The first datagram whose range ends past `from`.
    let lo = this.#head
    let hi = this.#tail
    while (lo < hi) {
      const mid = lo + Math.floor((hi - lo) / 2)
      const at = mid & mask
      if ((this.#firsts[at] as number) + (this.#counts[at] as number) <= from) lo = mid + 1
      else hi = mid
    }
    const ids: number[] = []
    let covered = from
    for (let id = lo; id < this.#tail; id++) {
      const at = id & mask
      const first = this.#firsts[at] as number
      if (first >= end) break
      if (first > covered) return undefined
      ids.push(id)
      covered = Math.max(covered, first + (this.#counts[at] as number))
    }
    return covered >= end ? ids : undefined
  }

  /** The bytes of datagram `id` (a view: valid until the next `push`). */
  datagram(id: number): Buffer {
    const at = id & this.#mask
    const offset = this.#offsets[at] as number
    return this.#data.subarray(offset, offset + (this.#lengths[at] as number))
  }

  clear(): void {
    this.#head = this.#tail
    this.#write = 0
    this.#bytes = 0
  }

  /**
   * Drops the oldest datagrams that `[offset, offset + length)` overwrites. `skipped`: where the
   * write stopped before wrapping to 0; the datagrams from there to the end are older than any at
   * the start, so they go first.
   */
  #evict(offset: number, length: number, skipped: number): void {
    const mask = this.#mask
    const end = offset + length
    while (this.#head < this.#tail) {
      const at = this.#head & mask
      const start = this.#offsets[at] as number
      const stop = start + (this.#lengths[at] as number)
      const overwritten = start < end && stop > offset
      if (!overwritten && !(skipped >= 0 && start >= skipped)) return
      this.#bytes -= this.#lengths[at] as number
      this.#head++
    }
  }

  /** Doubles the index (the ring holds more, smaller datagrams than it has room for). */
  #grow(): void {
    const size = (this.#mask + 1) * 2
    const firsts = new Float64Array(size)
    const counts = new Uint32Array(size)
    const offsets = new Uint32Array(size)
    const lengths = new Uint32Array(size)
    const mask = size - 1
    for (let id = this.#head; id < this.#tail; id++) {
      const from = id & this.#mask
      const to = id & mask
      firsts[to] = this.#firsts[from] as number
      counts[to] = this.#counts[from] as number
      offsets[to] = this.#offsets[from] as number
      lengths[to] = this.#lengths[from] as number
    }
    this.#firsts = firsts
    this.#counts = counts
    this.#offsets = offsets
    this.#lengths = lengths
    this.#mask = mask
  }
}
