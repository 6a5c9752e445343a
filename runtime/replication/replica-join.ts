import type { ByteReader } from '../state/byte-reader.js'
import { ByteWriter } from '../state/byte-writer.js'
import type { StateCodec } from '../state/types.js'
import type { TransportKind } from '../transport/types.js'
import type { DatagramAddress } from './endpoint.js'
import { CarouselJoin } from './join.js'
import { MEMORY_HOST } from './memory-network.js'
import {
  type FeedIds,
  type FeedInfo,
  HEADER_BYTES,
  HELLO_CAROUSEL,
  Kind,
  writeHeader,
  writeSnapshotNack,
} from './packet.js'
import { ReplicaStore } from './replica-store.js'
import { fetchSnapshot, STREAM_TRANSPORTS } from './snapshot-stream.js'
import type { ReplicaStats } from './stats.js'

export interface ReplicaJoinHooks<K, L, P> {
  /** A whole cut, its leaf count and digest those the publisher announced, is in `store`: install it. */
  install(cut: number, store: ReplicaStore<K, L, P>): void
  /** A cut whose leaf count or digest is not the one announced (the join goes on from the carousel). */
  rejected(cut: number): void
  /** Whether the replica is still joining (a stream fetch that ends after it stopped is ignored). */
  joining(): boolean
  /** The ids to stamp on a SNAPSHOT_NACK. */
  ids(): FeedIds
  /** Says HELLO to the publisher with `flags`. */
  hello(flags: number): void
  /** Sends a packet built in `w` to the publisher. */
  send(w: ByteWriter): void
  /** Starts (or stops) hearing the snapshot carousel's group. */
  snapshots(on: boolean): void
}

/**
 * How a replica gets its snapshot when it joins: over the publisher's snapshot stream when it serves
 * one (and `join` is `auto`), else, or when that fails, from the carousel; each cut filled into a
 * fresh store and checked before it is handed over.
 */
export class ReplicaJoin<K, L, P> {
  readonly #codec: StateCodec<K, L, P>
  readonly #mode: 'auto' | 'carousel'
  readonly #stats: ReplicaStats
  readonly #hooks: ReplicaJoinHooks<K, L, P>
  readonly #carousel: CarouselJoin<K, L, ReplicaStore<K, L, P>>
  #startedMs = 0
  /** Whether a carousel part came since the last tick (then no new HELLO is needed to keep it turning). */
  #partsSinceTick = false
  #attempt = 0
  #streaming = false

  constructor(
    codec: StateCodec<K, L, P>,
    mode: 'auto' | 'carousel',
    stats: ReplicaStats,
    hooks: ReplicaJoinHooks<K, L, P>,
  ) {
    this.#codec = codec
    this.#mode = mode
    this.#stats = stats
    this.#hooks = hooks
    this.#carousel = new CarouselJoin<K, L, ReplicaStore<K, L, P>>(codec as StateCodec<K, L, unknown>, {
      install: (cut, store, leaves, digest) => this.#installCut(cut, store, leaves, digest),
      store: (leaves) => this.#freshStore(leaves),
      nack: (cut, cycle, parts) => {
        const w = new ByteWriter(Buffer.allocUnsafe(HEADER_BYTES + 8 + parts.length * 4))
        writeHeader(w, Kind.SNAPSHOT_NACK, hooks.ids(), cut)
        writeSnapshotNack(w, cycle, parts)
        hooks.send(w)
      },
    })
  }

  /** Whether a snapshot stream is being fetched (the carousel is not asked for meanwhile). */
  get streaming(): boolean {
    return this.#streaming
  }

  /** How long the join has taken so far (ms). */
  get elapsedMs(): number {
    return performance.now() - this.#startedMs
  }

  /** Starts a join (again): by the stream `info` offers when it can, else by the carousel. */
  begin(info: FeedInfo | undefined, publisher: DatagramAddress | undefined, session: string): void {
    this.#carousel.reset()
    this.#startedMs = performance.now()
    this.#attempt++
    const stream = info?.stream
    const transport = stream ? STREAM_TRANSPORTS[stream.code] : undefined
    if (stream && transport && this.#mode === 'auto' && publisher) {
      this.#byStream(transport, stream.port, publisher, session)
      return
    }
    this.#byCarousel()
  }

  /** A SNAPSHOT part (only while joining). */
  part(r: ByteReader, cut: number, retransmit: boolean, bytes: number): void {
    this.#partsSinceTick = true
    this.#stats.snapshotBytes += bytes
    this.#carousel.part(r, cut, retransmit)
  }

  /** A heartbeat while joining: it says which carousel cycle runs. */
  heartbeat(cycle: number): void {
    this.#carousel.heartbeat(cycle)
  }

  /** The publisher no longer has the parts of `cycle`. */
  lost(cycle: number): void {
    this.#carousel.lost(cycle)
  }

  /** Every heartbeat interval while joining from the carousel. */
  tick(): void {
    if (!this.#partsSinceTick) this.#hooks.hello(HELLO_CAROUSEL)
    this.#partsSinceTick = false
    this.#carousel.tick()
  }

  #byCarousel(): void {
    this.#streaming = false
    this.#hooks.snapshots(true)
    this.#hooks.hello(HELLO_CAROUSEL)
  }

  /** Fetches the whole state in one request; falls back to the carousel when that fails. */
  #byStream(transport: TransportKind, port: number, publisher: DatagramAddress, session: string): void {
    const attempt = this.#attempt
    this.#streaming = true
    // On a memory network the stream is still TCP, on the publisher's host (127.0.0.1 by default).
    const host = publisher.host === MEMORY_HOST ? '127.0.0.1' : publisher.host
    const into = this.#freshStore()
    fetchSnapshot({
      codec: this.#codec,
      transport,
      address: `${host}:${port}`,
      session,
      timeoutMs: 10_000,
      into,
    }).then(
      ({ seq, leaves, digest, bytes }) => {
        if (attempt !== this.#attempt || !this.#hooks.joining()) return
        this.#streaming = false
        this.#stats.snapshotBytes += bytes
        this.#installCut(seq, into, leaves, digest)
      },
      () => {
        if (attempt === this.#attempt && this.#hooks.joining()) this.#byCarousel()
      },
    )
  }

  /** An empty store to fill a snapshot cut of `leaves` leaves (when known) into. */
  #freshStore(leaves = 0): ReplicaStore<K, L, P> {
    return new ReplicaStore(
      this.#codec,
      new ByteWriter(this.#codec.maxKeyBytes + this.#codec.maxLeafBytes + 16),
      leaves,
    )
  }

  /**
   * Hands over a complete cut, filled into `fresh` as it came, once its leaf count and digest are
   * those the publisher announced.
   */
  #installCut(cut: number, fresh: ReplicaStore<K, L, P>, leaves: number, digest: number): void {
    if (fresh.size !== leaves || fresh.digest !== digest >>> 0) {
      this.#hooks.rejected(cut)
      this.#byCarousel()
      return
    }
    this.#hooks.install(cut, fresh)
  }
}
