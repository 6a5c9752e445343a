import type { ByteReader } from '../state/byte-reader.js'
import type { StateCodec } from '../state/types.js'
import { readSnapshotPartHeader, SNAPSHOT_LAST } from './packet.js'
import { decodeHashedSnapshot, type HashedEntry } from './snapshot-entries.js'

/**
 * One snapshot cut being collected by a joining replica: the parts of one carousel cycle (all cut
 * at the same seq), which are missing, and when it is complete.
 */
export class SnapshotCollector<K, L> {
  readonly cycle: number
  readonly cut: number
  readonly leaves: number
  readonly digest: number
  readonly #parts = new Map<number, Array<HashedEntry<K, L>>>()
  #last: number | undefined
  #max = -1
  #entries = 0

  constructor(header: { cycle: number; cut: number; leaves: number; digest: number }) {
    this.cycle = header.cycle
    this.cut = header.cut
    this.leaves = header.leaves
    this.digest = header.digest
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
  add(index: number, last: boolean, entries: Array<HashedEntry<K, L>>): boolean {
    if (this.#parts.has(index)) return true
    if (last) {
      if (this.#last !== undefined && this.#last !== index) return false
      this.#last = index
    }
    if (this.#last !== undefined && index > this.#last) return false
    this.#entries += entries.length
    if (this.#entries > this.leaves) return false
    this.#parts.set(index, entries)
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
  *entries(): Generator<HashedEntry<K, L>> {
    for (let i = 0; i <= (this.#last ?? -1); i++) yield* this.#parts.get(i) ?? []
  }
}

export interface CarouselJoinHooks<K, L> {
  /** A whole cut is here: install it. */
  install(cut: number, entries: Iterable<HashedEntry<K, L>>, leaves: number, digest: number): void
  /** Ask the publisher for these parts of `cycle`. */
  nack(cut: number, cycle: number, parts: number[]): void
}

/**
 * Joining from the carousel: collects the parts of one cut (the first cycle heard, from any part:
 * the parts missed before are NACKed), asks again for what is missing on every tick and when a
 * heartbeat says the cycle moved on, and hands the complete cut over.
 */
export class CarouselJoin<K, L> {
  readonly #codec: StateCodec<K, L, unknown>
  readonly #hooks: CarouselJoinHooks<K, L>
  #collector: SnapshotCollector<K, L> | undefined

  constructor(codec: StateCodec<K, L, unknown>, hooks: CarouselJoinHooks<K, L>) {
    this.#codec = codec
    this.#hooks = hooks
  }

  reset(): void {
    this.#collector = undefined
  }

  /** One SNAPSHOT part, its header at `r`; throws `ERR_DECODE` for a broken one. */
  part(r: ByteReader, cut: number, retransmit: boolean): void {
    const part = readSnapshotPartHeader(r)
    const snapshot = decodeHashedSnapshot(this.#codec, r)
    if (snapshot.seq !== cut) r.fail(`a snapshot part says seq ${snapshot.seq} in a cut at ${cut}`)
    const header = { cycle: part.cycle, cut, leaves: part.leaves, digest: part.digest }
    // A new cycle replaces an unfinished one only from its first part (a late retransmit never does).
    if (!this.#collector || (!this.#collector.matches(header) && !retransmit && part.part === 0)) {
      this.#collector = new SnapshotCollector(header)
    }
    const collector = this.#collector
    if (!collector.matches(header)) return
    if (!collector.add(part.part, (part.flags & SNAPSHOT_LAST) !== 0, snapshot.entries)) {
      this.#collector = undefined
      return
    }
    const missing = collector.missing(false)
    if (missing.length > 0 && !retransmit) this.#hooks.nack(collector.cut, collector.cycle, missing)
    if (collector.complete) {
      this.#collector = undefined
      this.#hooks.install(collector.cut, collector.entries(), collector.leaves, collector.digest)
    }
  }

  /** A heartbeat: when the carousel moved past our cycle, ask for what is missing of it. */
  heartbeat(cycle: number): void {
    if (this.#collector && cycle !== this.#collector.cycle) this.#askMissing()
  }

  /** Every heartbeat interval while joining. */
  tick(): void {
    if (this.#collector) this.#askMissing()
  }

  /** The publisher no longer has `cycle`: take the next one. */
  lost(cycle: number): void {
    if (this.#collector?.cycle === cycle) this.#collector = undefined
  }

  #askMissing(): void {
    const collector = this.#collector
    if (!collector) return
    const missing = collector.missing(true)
    if (missing.length > 0) this.#hooks.nack(collector.cut, collector.cycle, missing)
  }
}
