import { GrenacheError } from '../errors.js'
import { ByteReader } from '../state/byte-reader.js'
import type { Delta, StateCodec } from '../state/types.js'
import type { DatagramAddress } from './endpoint.js'
import { FragmentAssembler } from './fragments.js'
import {
  type FeedIds,
  type FeedInfo,
  HEADER_BYTES,
  type Heartbeat,
  Kind,
  PacketHeader,
  parseHeader,
  readHeartbeat,
  readInfo,
  readUnrecoverable,
  SNAPSHOT_RETRANSMIT,
  type Unrecoverable,
} from './packet.js'
import type { Encoded, Sequencer } from './sequencer.js'
import type { ReplicaStats } from './stats.js'

export interface ReplicaReceiveHooks {
  /** The fingerprint to compare packets with. */
  ids(): FeedIds
  /** The session followed (undefined before one is known). */
  session(): { session0: number; session1: number } | undefined
  /** An INFO packet; `header` is reused for the next datagram (copy it to keep it). */
  info(header: PacketHeader, info: FeedInfo, from: DatagramAddress): void
  /** A packet of our state from another session: true when it is adopted (a restart), else it is stray. */
  adopt(header: PacketHeader, from: DatagramAddress): boolean
  /** A packet of the session followed came (called before it is handled). */
  heard(): void
  heartbeat(heartbeat: Heartbeat, last: number): void
  /** A SNAPSHOT part of the carousel, its part header at `r`; `bytes`: its body's length. */
  snapshot(r: ByteReader, cut: number, retransmit: boolean, bytes: number): void
  unrecoverable(lost: Unrecoverable, seq: number): void
}

/**
 * A replica's receive path: checks each datagram's header (malformed, foreign, stray), reassembles
 * fragments, decodes DATA straight into the sequencer and hands every other kind of packet to its
 * hook. A broken body is counted as malformed, never thrown.
 */
export class ReplicaReceiver<K, L, P> {
  readonly #codec: StateCodec<K, L, P>
  readonly #sequencer: Sequencer<Delta<K, L, P>>
  readonly #stats: ReplicaStats
  readonly #hooks: ReplicaReceiveHooks
  readonly #header = new PacketHeader()
  readonly #assembler: FragmentAssembler
  /** Where the delta being applied was decoded from (reused: no object per delta). */
  readonly #encoded: Encoded = { bytes: new Uint8Array(0), start: 0, end: 0 }

  constructor(
    codec: StateCodec<K, L, P>,
    sequencer: Sequencer<Delta<K, L, P>>,
    stats: ReplicaStats,
    hooks: ReplicaReceiveHooks,
  ) {
    this.#codec = codec
    this.#sequencer = sequencer
    this.#stats = stats
    this.#hooks = hooks
    this.#assembler = new FragmentAssembler({ maxBytes: Math.max(codec.maxDeltaBytes + 64, 1 << 20) })
  }

  /** Drops the fragments held. */
  clear(): void {
    this.#assembler.clear()
  }

  datagram(bytes: Buffer, from: DatagramAddress): void {
    const header = this.#header
    if (parseHeader(bytes, header) !== undefined) {
      this.#stats.malformed++
      return
    }
    if (header.kind === Kind.INFO) {
      this.#onInfo(bytes, from)
      return
    }
    if (!header.sameFingerprint(this.#hooks.ids())) {
      this.#stats.foreign++
      return
    }
    const session = this.#hooks.session()
    if (!session || !header.sameSession(session)) {
      if (!session || !this.#hooks.adopt(header, from)) {
        this.#stats.stray++
        return
      }
    }
    this.#stats.packets++
    this.#hooks.heard()
    try {
      this.#dispatch(header.kind, header.seq, bytes, HEADER_BYTES, bytes.length)
    } catch (err) {
      if (!(err instanceof GrenacheError)) throw err
      this.#stats.malformed++
    }
  }

  #onInfo(bytes: Buffer, from: DatagramAddress): void {
    let info: FeedInfo
    try {
      info = readInfo(new ByteReader(bytes, HEADER_BYTES))
    } catch {
      this.#stats.malformed++
      return
    }
    this.#hooks.info(this.#header, info, from)
  }

  #dispatch(kind: number, seq: number, bytes: Buffer, start: number, end: number): void {
    const r = new ByteReader(bytes, start, end)
    switch (kind) {
      case Kind.DATA:
        this.#onData(r, seq)
        return
      case Kind.HEARTBEAT:
        this.#hooks.heartbeat(readHeartbeat(r), seq)
        return
      case Kind.SNAPSHOT: {
        const retransmit = ((bytes[start + 8] as number) & SNAPSHOT_RETRANSMIT) !== 0
        this.#hooks.snapshot(r, seq, retransmit, end - start)
        return
      }
      case Kind.UNRECOVERABLE:
        this.#hooks.unrecoverable(readUnrecoverable(r), seq)
        return
      case Kind.FRAGMENT: {
        const whole = this.#assembler.add(bytes, seq, performance.now())
        if (whole) this.#dispatch(whole.kind, whole.seq, whole.body, 0, whole.body.length)
        return
      }
      default:
        this.#stats.malformed++
    }
  }

  #onData(r: ByteReader, first: number): void {
    const count = r.u8() + r.u8() * 256
    const flags = r.u8()
    r.u8()
    if (count === 0 || first < 1) r.fail('a DATA packet without deltas')
    if (flags & 1) this.#stats.retransmits++
    const last = first + count - 1
    const sequencer = this.#sequencer
    sequencer.saw(last)
    if (sequencer.applied(last)) {
      this.#stats.duplicates += count
      return
    }
    const encoded = this.#encoded
    encoded.bytes = r.buf
    for (let i = 0; i < count; i++) {
      encoded.start = r.pos + 1
      const delta = this.#codec.decodeDelta(r)
      encoded.end = r.pos
      if (!sequencer.offer(first + i, delta, encoded)) return
    }
    if (r.remaining !== 0) r.fail(`${r.remaining} bytes after the last delta`)
    sequencer.settle()
  }
}
