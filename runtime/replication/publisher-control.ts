import { ByteReader } from '../state/byte-reader.js'
import { ByteWriter } from '../state/byte-writer.js'
import type { DatagramAddress } from './endpoint.js'
import { fragment } from './fragments.js'
import {
  type FeedIds,
  type FeedInfo,
  HEADER_BYTES,
  HELLO_CAROUSEL,
  HELLO_LAYOUT,
  HELLO_LEAVE,
  Kind,
  PacketHeader,
  parseHeader,
  readNack,
  readSnapshotNack,
  type SeqRange,
  seal,
  writeHeader,
  writeInfo,
  writeUnrecoverable,
} from './packet.js'
import type { PublisherStats } from './stats.js'

export interface PublisherControlOptions {
  /** The codec's layout, sent as JSON to a HELLO that asks for it. */
  layout: unknown
  maxDatagramBytes: number
  ids(): FeedIds
  /** The last seq assigned. */
  seq(): number
  /** What INFO says: where the feed's packets go. */
  info(): FeedInfo
  /** Takes the subscription flags of a HELLO (a unicast feed: subscribe, renew or leave). */
  subscribe(flags: number, from: DatagramAddress): void
  /** A replica is joining: the carousel should turn. */
  demand(): void
  /** The datagrams of `parts` of carousel `cycle`; undefined when that cycle is gone. */
  parts(cycle: number, parts: number[]): Buffer[] | undefined
  /** Sends the open datagram (before a NACK is answered). */
  flush(): void
  /** Answers a NACK of deltas. */
  nack(ranges: SeqRange[], from: DatagramAddress): void
  /** Sends a datagram from the control endpoint. */
  send(datagram: Buffer, to: DatagramAddress): void
}

/**
 * A publisher's control port: answers HELLO with INFO (and LAYOUT when asked; a joiner's HELLO
 * turns the carousel), hands NACKs to repair and answers SNAPSHOT_NACKs with the parts asked for,
 * or UNRECOVERABLE when their cycle is gone. What is not ours or is broken is counted as dropped.
 */
export class PublisherControl {
  readonly #o: PublisherControlOptions
  readonly #stats: PublisherStats
  readonly #header = new PacketHeader()

  constructor(options: PublisherControlOptions, stats: PublisherStats) {
    this.#o = options
    this.#stats = stats
  }

  /** One datagram on the control port. */
  receive(bytes: Buffer, from: DatagramAddress): void {
    const header = this.#header
    if (parseHeader(bytes, header) !== undefined) {
      this.#stats.dropped++
      return
    }
    const ids = this.#o.ids()
    // A HELLO of another layout gets INFO (and LAYOUT if asked) and nothing else: the replica (or
    // a tool reading any feed) then says what is incompatible.
    const foreign = !header.sameFingerprint(ids)
    if (foreign && header.kind !== Kind.HELLO) {
      this.#stats.dropped++
      return
    }
    try {
      const r = new ByteReader(bytes, HEADER_BYTES)
      switch (header.kind) {
        case Kind.HELLO: {
          const flags = r.u8()
          this.#onHello(foreign ? flags & HELLO_LAYOUT : flags, from)
          return
        }
        case Kind.NACK:
          if (!header.sameSession(ids)) break
          this.#o.flush()
          this.#o.nack(readNack(r), from)
          return
        case Kind.SNAPSHOT_NACK: {
          if (!header.sameSession(ids)) break
          const { cycle, parts } = readSnapshotNack(r)
          this.#onSnapshotNack(cycle, parts, header.seq, from)
          return
        }
      }
      this.#stats.dropped++
    } catch {
      this.#stats.dropped++
    }
  }

  #onHello(flags: number, from: DatagramAddress): void {
    this.#o.subscribe(flags, from)
    if (flags & HELLO_LEAVE) return
    const w = new ByteWriter(Buffer.allocUnsafe(HEADER_BYTES + 64 + 255))
    writeHeader(w, Kind.INFO, this.#o.ids(), this.#o.seq())
    writeInfo(w, this.#o.info())
    seal(w.buf, 0, w.pos)
    this.#o.send(w.buf.subarray(0, w.pos), from)
    if (flags & HELLO_CAROUSEL) this.#o.demand()
    if (flags & HELLO_LAYOUT) this.#sendLayout(from)
  }

  /** The codec's layout as JSON (in fragments when large): lets a tool read the feed without its code. */
  #sendLayout(to: DatagramAddress): void {
    const ids = this.#o.ids()
    const json = Buffer.from(JSON.stringify(this.#o.layout))
    const packet = new ByteWriter(Buffer.allocUnsafe(HEADER_BYTES + json.length))
    writeHeader(packet, Kind.LAYOUT, ids, 0)
    json.copy(packet.buf, packet.pos)
    packet.pos += json.length
    seal(packet.buf, 0, packet.pos)
    const whole = packet.buf.subarray(0, packet.pos)
    const max = this.#o.maxDatagramBytes
    for (const datagram of whole.length > max ? fragment(whole, ids, max) : [whole]) {
      this.#o.send(datagram, to)
    }
  }

  #onSnapshotNack(cycle: number, parts: number[], cut: number, from: DatagramAddress): void {
    const datagrams = this.#o.parts(cycle, parts)
    if (datagrams) {
      for (const datagram of datagrams) this.#o.send(datagram, from)
      return
    }
    const w = new ByteWriter(Buffer.allocUnsafe(HEADER_BYTES + 32))
    writeHeader(w, Kind.UNRECOVERABLE, this.#o.ids(), cut)
    writeUnrecoverable(w, { count: parts.length, what: 'snapshot', cycle, oldest: 0 })
    seal(w.buf, 0, w.pos)
    this.#o.send(w.buf.subarray(0, w.pos), from)
  }
}
