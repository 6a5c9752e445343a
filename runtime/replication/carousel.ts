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

const ABSENT = Symbol('absent')

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
 * The snapshot carousel: while replicas are joining, cuts the state at a seq N (copy-on-write: a
 * leaf changed during the cycle is sent as it was at N) and sends it in SNAPSHOT parts at a
 * bounded rate. The parts of the current and the previous cycle are kept for SNAPSHOT_NACKs.
 */
export class Carousel<K, L, P> {
  readonly #o: CarouselOptions<K, L, P>
  /** The current cycle (0: none running). */
  cycle = 0
  #nextCycle = 1
  #keys: K[] = []
  #index = 0
  #part = 0
  #cut = 0
  #digest = 0
  readonly #shadow = new Map<K, L | typeof ABSENT>()
  #parts = new Map<number, Buffer[][]>()
  /** Cycles still wanted: a HELLO asks for the one running, or a new one. */
  #wanted = 0
  #allowance = 0
  #lastTick = 0
  #timer: NodeJS.Timeout | undefined
  #closed = false
  /** Counters. */
  cycles = 0
  bytesSent = 0

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
      this.#schedule(0)
    }
  }

  /** Before a delta changes `key`: keep its value at the cut, if a cycle runs. */
  beforeChange(key: K): void {
    if (this.cycle !== 0 && !this.#shadow.has(key)) {
      this.#shadow.set(key, this.#o.store.get(key) ?? ABSENT)
    }
  }

  /** Before a clear: keep every value at the cut. */
  beforeClear(): void {
    if (this.cycle === 0) return
    for (const [key, leaf] of this.#o.store.leaves) if (!this.#shadow.has(key)) this.#shadow.set(key, leaf)
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
    this.#timer = undefined
    this.cycle = 0
    this.#shadow.clear()
    this.#parts.clear()
    this.#keys = []
  }

  close(): void {
    this.#closed = true
    this.reset()
  }

  #start(): void {
    this.cycle = this.#nextCycle
    this.#nextCycle = this.#nextCycle >= 0xffffffff ? 1 : this.#nextCycle + 1
    this.#keys = [...this.#o.store.leaves.keys()]
    this.#index = 0
    this.#part = 0
    this.#cut = this.#o.seq()
    this.#digest = this.#o.store.digest
    this.#shadow.clear()
    this.#parts.set(this.cycle, [])
    for (const old of this.#parts.keys())
      if (old !== this.cycle && old !== this.cycle - 1) this.#parts.delete(old)
    this.cycles++
  }

  #schedule(delayMs: number): void {
    if (this.#timer || this.#closed) return
    this.#timer = setTimeout(() => {
      this.#timer = undefined
      this.#tick()
    }, delayMs)
  }

  #tick(): void {
    if (this.cycle === 0 || this.#closed) return
    const now = this.#o.now()
    const burst = Math.max(64 * 1024, this.#o.maxDatagramBytes * 4)
    this.#allowance = Math.min(
      burst,
      this.#allowance + ((now - this.#lastTick) * this.#o.bytesPerSecond) / 1000,
    )
    this.#lastTick = now
    while (this.#allowance > 0 && this.cycle !== 0) {
      this.#allowance -= this.#sendPart()
      if (this.#index >= this.#keys.length && this.#part > 0) this.#endCycle()
    }
    if (this.cycle !== 0)
      this.#schedule(Math.max(1, Math.ceil((-this.#allowance * 1000) / this.#o.bytesPerSecond)))
  }

  #endCycle(): void {
    this.#shadow.clear()
    this.#keys = []
    this.#wanted--
    if (this.#wanted > 0) this.#start()
    else this.cycle = 0
  }

  /** Builds and sends the next part; returns its bytes. */
  #sendPart(): number {
    const { codec, store, maxDatagramBytes } = this.#o
    const ids = this.#o.ids()
    const w = new ByteWriter(
      Buffer.allocUnsafe(maxDatagramBytes + codec.maxKeyBytes + codec.maxLeafBytes + 64),
    )
    writeHeader(w, Kind.SNAPSHOT, ids, this.#cut)
    const flagsAt = SNAPSHOT_FLAGS_OFFSET
    writeSnapshotPartHeader(w, {
      cycle: this.cycle,
      part: this.#part,
      flags: 0,
      leaves: this.#keys.length,
      digest: this.#digest,
    })
    w.uvarint(this.#cut)
    const countAt = w.pos
    w.u32(0)
    let count = 0
    while (this.#index < this.#keys.length) {
      const key = this.#keys[this.#index] as K
      const shadowed = this.#shadow.get(key)
      const leaf = shadowed === undefined ? store.get(key) : shadowed
      if (leaf === ABSENT || leaf === undefined) {
        this.#index++
        continue
      }
      const start = w.pos
      codec.encodeKey(key, w)
      codec.encodeLeaf(leaf, w)
      if (w.pos > maxDatagramBytes && count > 0) {
        w.pos = start
        break
      }
      this.#index++
      count++
      if (w.pos >= maxDatagramBytes) break
    }
    w.u32(count, countAt)
    if (this.#index >= this.#keys.length) w.buf[flagsAt] = SNAPSHOT_LAST
    seal(w.buf, 0, w.pos)
    const packet = w.buf.subarray(0, w.pos)
    const datagrams = packet.length > maxDatagramBytes ? fragment(packet, ids, maxDatagramBytes) : [packet]
    this.#parts.get(this.cycle)?.push(datagrams)
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
