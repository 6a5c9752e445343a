import { ByteWriter } from '../state/byte-writer.js'
import type { StateCodec } from '../state/types.js'
import { fragment } from './fragments.js'
import type { LeafStore } from './leaf-store.js'
import {
  type FeedIds,
  Kind,
  SNAPSHOT_FLAGS_OFFSET,
  SNAPSHOT_LAST,
  SNAPSHOT_RETRANSMIT,
  seal,
  writeHeader,
  writeSnapshotPartHeader,
} from './packet.js'
import type { StoreCut } from './store-cut.js'

/** At most this many bytes of parts in one turn of the event loop (at least 4 datagrams). */
const SLICE_BYTES = 64 * 1024
/**
 * Bytes the rate allowed while the event loop was held up (a timer fires late on a busy process)
 * are kept for up to this long and sent in the next turns: the cycle keeps its rate on a loaded
 * host instead of losing whatever a late tick could not send.
 */
const CATCH_UP_MS = 20

export interface CarouselOptions<K, L, P> {
  codec: StateCodec<K, L, P>
  store: LeafStore<K, L, P>
  /** The ids to stamp (a relay may change session). */
  ids(): FeedIds
  maxDatagramBytes: number
  bytesPerSecond: number
  /** The seq the store is at. */
  seq(): number
  send(datagram: Buffer): void
  now(): number
}

/**
 * The snapshot carousel: while replicas are joining, cuts the state at a seq N (`LeafStore.openCut()`:
 * copy on write, so the first part goes out at once and deltas during the cycle change nothing of
 * it) and sends it in SNAPSHOT parts at a bounded rate. The parts of the current and the previous
 * cycle are kept for SNAPSHOT_NACKs.
 */
export class Carousel<K, L, P> {
  readonly #o: CarouselOptions<K, L, P>
  /** The current cycle (0: none running). */
  cycle = 0
  #nextCycle = 1
  /** The cut being sent (the leaves at seq `#cut`), and an entry read from it that did not fit its part. */
  #reading: StoreCut<K, L> | undefined
  #held: [K, L] | undefined
  #part = 0
  #cut = 0
  #digest = 0
  #parts = new Map<number, Buffer[][]>()
  /** Cycles still wanted: a HELLO asks for the one running, or a new one. */
  #wanted = 0
  /** Bytes the rate allows now (negative: owed after a slice went past it). */
  #allowance = 0
  #lastTick = 0
  #cycleStartMs = 0
  #timer: NodeJS.Timeout | undefined
  #immediate: NodeJS.Immediate | undefined
  #closed = false
  /** Counters. */
  cycles = 0
  bytesSent = 0
  /** How long the last complete cycle took, from its first part sent to its last, ms (0: none yet). */
  lastCycleMs = 0

  constructor(options: CarouselOptions<K, L, P>) {
    this.#o = options
  }

  /**
   * A replica wants a snapshot: start a cycle now if none runs. A joiner that came in mid-cycle
   * NACKs the parts it missed (this cycle's are kept); one that found none coming says HELLO again.
   */
  demand(): void {
    if (this.#closed) return
    this.#wanted = Math.max(this.#wanted, 1)
    if (this.cycle === 0) {
      this.#start()
      this.#tick()
    }
  }

  /** The datagrams of `parts` of `cycle`, marked retransmitted; undefined when the cycle is gone. */
  parts(cycle: number, parts: readonly number[]): Buffer[] | undefined {
    const held = this.#parts.get(cycle)
    if (!held) return undefined
    const out: Buffer[] = []
    for (const index of parts) {
      for (const datagram of held[index] ?? []) {
        const copy = Buffer.from(datagram)
        if (copy[3] === Kind.SNAPSHOT) {
          copy[SNAPSHOT_FLAGS_OFFSET] = (copy[SNAPSHOT_FLAGS_OFFSET] as number) | SNAPSHOT_RETRANSMIT
          seal(copy, 0, copy.length)
        }
        out.push(copy)
      }
    }
    return out
  }

  /** Drops the cycle running and the parts kept (the state was replaced). */
  reset(): void {
    clearTimeout(this.#timer)
    clearImmediate(this.#immediate)
    this.#timer = undefined
    this.#immediate = undefined
    this.cycle = 0
    this.#parts.clear()
    this.#closeCut()
  }

  close(): void {
    this.#closed = true
    this.reset()
  }

  #start(): void {
    this.cycle = this.#nextCycle
    this.#nextCycle = this.#nextCycle >= 0xffffffff ? 1 : this.#nextCycle + 1
    this.#closeCut()
    this.#reading = this.#o.store.openCut()
    this.#part = 0
    this.#cut = this.#o.seq()
    this.#digest = this.#reading.digest
    // A cycle starts with at most one slice of credit, however long the carousel was idle.
    const now = this.#o.now()
    this.#allowance = Math.min(this.#slice(), this.#allowance + this.#earned(now))
    this.#lastTick = now
    this.#parts.set(this.cycle, [])
    for (const old of this.#parts.keys())
      if (old !== this.cycle && old !== this.cycle - 1) this.#parts.delete(old)
    this.cycles++
  }

  #slice(): number {
    return Math.max(SLICE_BYTES, this.#o.maxDatagramBytes * 4)
  }

  /** Bytes the rate allowed since the last tick. */
  #earned(now: number): number {
    return ((now - this.#lastTick) * this.#o.bytesPerSecond) / 1000
  }

  /**
   * Sends what the rate allows, at most one slice; then the next turn at once while bytes are still
   * allowed (the loop was held up), else a timer for when the next part is due (1 ms at least).
   */
  #tick(): void {
    if (this.cycle === 0 || this.#closed) return
    const now = this.#o.now()
    const slice = this.#slice()
    const depth = Math.max(slice, (this.#o.bytesPerSecond * CATCH_UP_MS) / 1000)
    this.#allowance = Math.min(depth, this.#allowance + this.#earned(now))
    this.#lastTick = now
    let budget = Math.min(slice, this.#allowance)
    while (budget > 0 && this.cycle !== 0) {
      const bytes = this.#sendPart()
      budget -= bytes
      this.#allowance -= bytes
      if (this.#reading?.done === true && this.#held === undefined && this.#part > 0) this.#endCycle()
    }
    if (this.cycle === 0 || this.#timer || this.#immediate) return
    if (this.#allowance > 0) {
      this.#immediate = setImmediate(() => {
        this.#immediate = undefined
        this.#tick()
      })
      return
    }
    const delayMs = Math.max(1, Math.ceil((-this.#allowance * 1000) / this.#o.bytesPerSecond))
    this.#timer = setTimeout(() => {
      this.#timer = undefined
      this.#tick()
    }, delayMs)
  }

  #endCycle(): void {
    this.lastCycleMs = this.#o.now() - this.#cycleStartMs
    this.#closeCut()
    this.#wanted--
    if (this.#wanted > 0) this.#start()
    else this.cycle = 0
  }

  #closeCut(): void {
    if (this.#reading) this.#o.store.closeCut(this.#reading)
    this.#reading = undefined
    this.#held = undefined
  }

  /** Builds and sends the next part; returns its bytes. */
  #sendPart(): number {
    const { codec, maxDatagramBytes } = this.#o
    const ids = this.#o.ids()
    const w = new ByteWriter(
      Buffer.allocUnsafe(maxDatagramBytes + codec.maxKeyBytes + codec.maxLeafBytes + 64),
    )
    writeHeader(w, Kind.SNAPSHOT, ids, this.#cut)
    const flagsAt = SNAPSHOT_FLAGS_OFFSET
    const reading = this.#reading as StoreCut<K, L>
    writeSnapshotPartHeader(w, {
      cycle: this.cycle,
      part: this.#part,
      flags: 0,
      leaves: reading.size,
      digest: this.#digest,
    })
    w.uvarint(this.#cut)
    const countAt = w.pos
    w.u32(0)
    let count = 0
    for (let entry = this.#held ?? reading.next(); entry !== undefined; entry = reading.next()) {
      const start = w.pos
      codec.encodeKey(entry[0], w)
      codec.encodeLeaf(entry[1], w)
      if (w.pos > maxDatagramBytes && count > 0) {
        // The next part starts with it.
        w.pos = start
        this.#held = entry
        break
      }
      this.#held = undefined
      count++
      if (w.pos >= maxDatagramBytes) break
    }
    w.u32(count, countAt)
    // A full part may have been the last: look one entry ahead.
    if (this.#held === undefined) this.#held = reading.next()
    if (this.#held === undefined) w.buf[flagsAt] = SNAPSHOT_LAST
    seal(w.buf, 0, w.pos)
    const packet = w.buf.subarray(0, w.pos)
    const datagrams = packet.length > maxDatagramBytes ? fragment(packet, ids, maxDatagramBytes) : [packet]
    this.#parts.get(this.cycle)?.push(datagrams)
    if (this.#part === 0) this.#cycleStartMs = this.#o.now()
    this.#part++
    let bytes = 0
    for (const datagram of datagrams) {
      this.#o.send(datagram)
      bytes += datagram.length
    }
    this.bytesSent += bytes
    return bytes
  }
}
