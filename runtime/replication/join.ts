import type { ByteReader } from '../state/byte-reader.js'
import type { StateCodec } from '../state/types.js'
import type { SnapshotTarget } from './leaf-store.js'
import { readSnapshotPartHeader, SNAPSHOT_LAST } from './packet.js'
import { fillSnapshot } from './snapshot-entries.js'

/**
 * One snapshot cut being collected by a joining replica: the parts of one carousel cycle (all cut
 * at the same seq), filled into a fresh store as they come (so completing the cut costs nothing
 * more), which parts are missing, and when it is complete.
 */
export class SnapshotCollector<K, L, S extends SnapshotTarget<K, L>> {
  readonly cycle: number
  readonly cut: number
  readonly leaves: number
  readonly digest: number
  /** The leaves of the parts received so far. */
  readonly store: S
  readonly #parts = new Set<number>()
  #last: number | undefined
  #max = -1

  constructor(header: { cycle: number; cut: number; leaves: number; digest: number }, store: S) {
    this.cycle = header.cycle
    this.cut = header.cut
    this.leaves = header.leaves
    this.digest = header.digest
    this.store = store
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

  /** Whether part `index` is still wanted. */
  wants(index: number): boolean {
    return !this.#parts.has(index) && (this.#last === undefined || index <= this.#last)
  }

  /** The highest part index received (-1: none yet). */
  get max(): number {
    return this.#max
  }

  /** Marks part `index` received; false when it makes the cut inconsistent. */
  add(index: number, last: boolean): boolean {
    if (last) {
      if (this.#last !== undefined && this.#last !== index) return false
      if (index < this.#max) return false
      this.#last = index
    }
    this.#parts.add(index)
    if (index > this.#max) this.#max = index
    return this.store.size <= this.leaves
  }

  get complete(): boolean {
    return this.#last !== undefined && this.#parts.size === this.#last + 1
  }

  /**
   * Parts known to be missing: holes below the highest part seen (at most 256), and a few past it
   * when the last part has not been seen.
   */
  missing(): number[] {
    const out: number[] = []
    const top = this.#last ?? this.#max
    for (let i = 0; i <= top && out.length < 256; i++) if (!this.#parts.has(i)) out.push(i)
    if (this.#last === undefined) for (let i = this.#max + 1; i <= this.#max + 8; i++) out.push(i)
    return out
  }
}

export interface CarouselJoinHooks<K, L, S extends SnapshotTarget<K, L>> {
  /** A whole cut is here, in `store`: install it. */
  install(cut: number, store: S, leaves: number, digest: number): void
  /** A fresh store to fill a cut of `leaves` leaves into. */
  store(leaves: number): S
  /** Ask the publisher for these parts of `cycle`. */
  nack(cut: number, cycle: number, parts: number[]): void
}

/**
 * Joining from the carousel: collects the parts of one cut (the first cycle heard, from any part:
 * the parts missed before are NACKed), asks again for what is missing on every tick and when a
 * heartbeat says the cycle moved on, and hands the complete cut over.
 */
export class CarouselJoin<K, L, S extends SnapshotTarget<K, L>> {
  readonly #codec: StateCodec<K, L, unknown>
  readonly #hooks: CarouselJoinHooks<K, L, S>
  #collector: SnapshotCollector<K, L, S> | undefined
  /** Parts asked for since the last tick: a part's arrival does not ask for them again. */
  readonly #asked = new Set<number>()

  constructor(codec: StateCodec<K, L, unknown>, hooks: CarouselJoinHooks<K, L, S>) {
    this.#codec = codec
    this.#hooks = hooks
  }

  reset(): void {
    this.#collector = undefined
    this.#asked.clear()
  }

  /** One SNAPSHOT part, its header at `r`; throws `ERR_DECODE` for a broken one. */
  part(r: ByteReader, cut: number, retransmit: boolean): void {
    const part = readSnapshotPartHeader(r)
    // A cut of n leaves comes in at most n parts, each with at least one entry (an empty cut: one
    // empty part). A part past that is forged or broken: it would only add to the parts remembered.
    if (part.part >= Math.max(1, part.leaves)) r.fail(`part ${part.part} of a cut of ${part.leaves} leaves`)
    const header = { cycle: part.cycle, cut, leaves: part.leaves, digest: part.digest }
    // A new cycle replaces an unfinished one only from its first part (a late retransmit never does).
    if (!this.#collector || (!this.#collector.matches(header) && !retransmit && part.part === 0)) {
      this.#collector = new SnapshotCollector(header, this.#hooks.store(part.leaves))
      this.#asked.clear()
    }
    const collector = this.#collector
    if (!collector.matches(header) || !collector.wants(part.part)) return
    const read = fillSnapshot(this.#codec, r, collector.store)
    if (read.seq !== cut) r.fail(`a snapshot part says seq ${read.seq} in a cut at ${cut}`)
    if (read.count === 0 && part.leaves > 0) r.fail(`an empty part of a cut of ${part.leaves} leaves`)
    const before = collector.max
    if (!read.fresh || !collector.add(part.part, (part.flags & SNAPSHOT_LAST) !== 0)) {
      this.#collector = undefined
      return
    }
    // Only a part past the highest one opens new holes (older ones were asked for when they opened,
    // and again on every tick): no scan of every part per part.
    if (part.part > before + 1) {
      const missing: number[] = []
      for (let index = before + 1; index < part.part && missing.length < 256; index++) {
        if (!this.#asked.has(index)) {
          this.#asked.add(index)
          missing.push(index)
        }
      }
      if (missing.length > 0) this.#hooks.nack(collector.cut, collector.cycle, missing)
    }
    if (collector.complete) {
      this.#collector = undefined
      this.#hooks.install(collector.cut, collector.store, collector.leaves, collector.digest)
    }
  }

  /** A heartbeat: when the carousel moved past our cycle, ask for what is missing of it. */
  heartbeat(cycle: number): void {
    if (this.#collector && cycle !== this.#collector.cycle) this.#askMissing()
  }

  /** Every heartbeat interval while joining: what is still missing is asked for again. */
  tick(): void {
    this.#asked.clear()
    if (this.#collector) this.#askMissing()
  }

  /** The publisher no longer has `cycle`: take the next one. */
  lost(cycle: number): void {
    if (this.#collector?.cycle === cycle) this.#collector = undefined
  }

  #askMissing(): void {
    const collector = this.#collector
    if (!collector) return
    const missing = collector.missing()
    for (const index of missing) this.#asked.add(index)
    if (missing.length > 0) this.#hooks.nack(collector.cut, collector.cycle, missing)
  }
}
