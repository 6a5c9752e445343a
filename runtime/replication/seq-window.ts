/**
 * The deltas a replica holds by seq (the join buffer and the reorder window): a ring indexed by
 * seq, not a Map. The seqs held are nearly consecutive, so a slot per seq in the span held costs
 * far less than hashing each one (a join buffers tens of thousands at 100k deltas/s).
 *
 * The span held (highest seq minus lowest, plus one) may not pass `maxSpan`: `set` refuses a seq
 * that would make it wider, and the caller resyncs, as it does when too many deltas are held.
 */
export class SeqWindow<D> {
  readonly #maxSpan: number
  #slots: (D | undefined)[] = []
  #seqs: number[] = []
  #mask = -1
  /** The lowest and highest seq held (`#low` may lag behind after deletes); valid while `size > 0`. */
  #low = 0
  #high = 0
  size = 0

  constructor(maxSpan: number) {
    this.#maxSpan = maxSpan
  }

  has(seq: number): boolean {
    return this.#at(seq) !== -1
  }

  get(seq: number): D | undefined {
    const i = this.#at(seq)
    return i === -1 ? undefined : this.#slots[i]
  }

  /** Holds `delta` at `seq` (not held yet); false when that would make the span wider than allowed. */
  set(seq: number, delta: D): boolean {
    const low = this.size === 0 ? seq : Math.min(this.#low, seq)
    const high = this.size === 0 ? seq : Math.max(this.#high, seq)
    if (high - low + 1 > this.#maxSpan) return false
    if (high - low + 1 > this.#slots.length) this.#grow(high - low + 1)
    const i = seq & this.#mask
    this.#slots[i] = delta
    this.#seqs[i] = seq
    this.#low = low
    this.#high = high
    this.size++
    return true
  }

  delete(seq: number): void {
    const i = this.#at(seq)
    if (i === -1) return
    this.#slots[i] = undefined
    this.#seqs[i] = -1
    this.size--
    // In-order deletes (the usual case) keep the span tight at no cost.
    if (this.size > 0 && seq === this.#low) {
      let low = seq + 1
      while (this.#seqs[low & this.#mask] !== low) low++
      this.#low = low
    }
  }

  /** Drops every seq below `seq`. */
  deleteBelow(seq: number): void {
    if (this.size === 0) return
    const stop = Math.min(seq, this.#high + 1)
    for (let s = this.#low; s < stop; s++) this.delete(s)
  }

  clear(): void {
    this.#slots = []
    this.#seqs = []
    this.#mask = -1
    this.size = 0
  }

  /** The slot of `seq`, -1 when it is not held. */
  #at(seq: number): number {
    if (this.size === 0) return -1
    const i = seq & this.#mask
    return this.#seqs[i] === seq ? i : -1
  }

  /** Re-lays the ring at a power of two of at least `span` slots. */
  #grow(span: number): void {
    let length = Math.max(64, this.#slots.length)
    while (length < span) length *= 2
    const slots = new Array<D | undefined>(length).fill(undefined)
    const seqs = new Array<number>(length).fill(-1)
    const mask = length - 1
    for (let i = 0; i < this.#seqs.length; i++) {
      const seq = this.#seqs[i] as number
      if (seq === -1) continue
      slots[seq & mask] = this.#slots[i]
      seqs[seq & mask] = seq
    }
    this.#slots = slots
    this.#seqs = seqs
    this.#mask = mask
  }
}
