/**
 * One snapshot cut being collected by a joining replica: the parts of one carousel cycle (all cut
 * at the same seq), which are missing, and when it is complete.
 */
export class SnapshotCollector<K, L> {
  readonly cycle: number
  readonly cut: number
  readonly leaves: number
  readonly digest: number
  readonly startedMs: number
  readonly #parts = new Map<number, Array<[K, L]>>()
  #last: number | undefined
  #max = -1
  #entries = 0
  bytes = 0

  constructor(header: { cycle: number; cut: number; leaves: number; digest: number }, nowMs: number) {
    this.cycle = header.cycle
    this.cut = header.cut
    this.leaves = header.leaves
    this.digest = header.digest
    this.startedMs = nowMs
  }

  /** Whether the part belongs to this cut (same cycle, cut, totals). */
  matches(header: { cycle: number; cut: number; leaves: number; digest: number }): boolean {
    return (
      header.cycle === this.cycle &&
      header.cut === this.cut &&
      header.leaves === this.leaves &&
      header.digest === this.digest
    )
  }

  /** Adds a part; false when it makes the cut inconsistent (more leaves than announced). */
  add(index: number, last: boolean, entries: Array<[K, L]>, bytes: number): boolean {
    if (this.#parts.has(index)) return true
    if (last) {
      if (this.#last !== undefined && this.#last !== index) return false
      this.#last = index
    }
    if (this.#last !== undefined && index > this.#last) return false
    this.#entries += entries.length
    if (this.#entries > this.leaves) return false
    this.#parts.set(index, entries)
    this.bytes += bytes
    if (index > this.#max) this.#max = index
    return true
  }

  get complete(): boolean {
    return this.#last !== undefined && this.#parts.size === this.#last + 1
  }

  /**
   * Parts known to be missing: holes below the highest part seen, and (with `tail`) a few past it
   * when the last part has not been seen.
   */
  missing(tail: boolean): number[] {
    const out: number[] = []
    const top = this.#last ?? this.#max
    for (let i = 0; i <= top && out.length < 256; i++) if (!this.#parts.has(i)) out.push(i)
    if (tail && this.#last === undefined) for (let i = this.#max + 1; i <= this.#max + 8; i++) out.push(i)
    return out
  }

  /** Every entry, part by part. */
  *entries(): Generator<[K, L]> {
    for (let i = 0; i <= (this.#last ?? -1); i++) yield* this.#parts.get(i) ?? []
  }
}
