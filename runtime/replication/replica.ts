import { EventEmitter } from 'node:events'
import { GrenacheError, toGrenacheError } from '../errors.js'
import { ByteReader } from '../state/byte-reader.js'
import { ByteWriter } from '../state/byte-writer.js'
import type { Delta, StateCodec } from '../state/types.js'
import type { TransportKind } from '../transport/types.js'
import { type CallOptions, createDeadline, raceSignal } from '../util/deadline.js'
import type { DatagramAddress } from './endpoint.js'
import { FeedSockets, parseAddress } from './feed-sockets.js'
import { FragmentAssembler } from './fragments.js'
import { CarouselJoin } from './join.js'
import { LeafStore } from './leaf-store.js'
import { MEMORY_HOST } from './memory-network.js'
import {
  FeedIds,
  type FeedInfo,
  HEADER_BYTES,
  HEARTBEAT_CLOSING,
  HELLO_CAROUSEL,
  HELLO_LEAVE,
  Kind,
  PacketHeader,
  parseHeader,
  readHeartbeat,
  readInfo,
  readUnrecoverable,
  SNAPSHOT_RETRANSMIT,
  writeHeader,
  writeNack,
  writeSnapshotNack,
} from './packet.js'
import { replicaHost } from './replica-bind.js'
import type { ReplicaChange, ReplicaEvents, ResyncReason } from './replica-events.js'
import { type ReplicaOptions, type ResolvedReplicaOptions, resolveReplicaOptions } from './replica-options.js'
import { type Encoded, Sequencer } from './sequencer.js'
import { fetchSnapshot, STREAM_TRANSPORTS } from './snapshot-stream.js'
import { type ReplicaStats, replicaStats, replicaStatsChannel } from './stats.js'

export type { ReplicaChange, ReplicaEvents, ResyncReason } from './replica-events.js'
export type { ReplicaOptions } from './replica-options.js'

type Status = ReplicaStats['status']

/**
 * A replica of a published state: finds the publisher, joins (buffer deltas, install one snapshot
 * cut, replay past it), applies deltas in seq order, repairs holes by NACK, resyncs when it cannot,
 * and checks its digest against the publisher's. See docs/replication.md.
 */
export class Replica<K, L, P = Partial<L>> extends EventEmitter<ReplicaEvents<K, L, P>> {
  readonly codec: StateCodec<K, L, P>
  readonly #o: ResolvedReplicaOptions
  readonly #store: LeafStore<K, L, P>
  readonly #stats = replicaStats()
  readonly #header = new PacketHeader()
  readonly #assembler: FragmentAssembler
  readonly #sockets: FeedSockets
  readonly #sequencer: Sequencer<Delta<K, L, P>>
  /** Where the delta being applied was decoded from (reused: no object per delta). */
  readonly #encoded: Encoded = { bytes: new Uint8Array(0), start: 0, end: 0 }
  #status: Status = 'idle'
  #publisher: DatagramAddress | undefined
  #session: { session0: number; session1: number; hex: string } | undefined
  /** The fingerprint to compare packets with, and the session followed (zero before one is known). */
  #ids: FeedIds
  readonly #carousel: CarouselJoin<K, L, P>
  #joinStartedMs = 0
  /** Whether a carousel part came since the last tick (then no new HELLO is needed to keep it turning). */
  #partsSinceTick = false
  #joinAttempt = 0
  #streaming = false
  #lastHeardMs = 0
  #heartbeatMs = 100
  #tickTimer: NodeJS.Timeout | undefined
  #closedSession = false
  #rediscoverAtMs = 0
  #switching = false
  #started: Promise<void> | undefined
  #closing: Promise<void> | undefined
  readonly #synced: { promise: Promise<void>; resolve: () => void; reject: (e: unknown) => void }

  constructor(codec: StateCodec<K, L, P>, options: ReplicaOptions) {
    super()
    this.codec = codec
    this.#o = resolveReplicaOptions(options)
    this.#ids = new FeedIds(Buffer.alloc(8), codec.fingerprint)
    this.#store = new LeafStore(codec, new ByteWriter(codec.maxKeyBytes + codec.maxLeafBytes + 16))
    this.#assembler = new FragmentAssembler({ maxBytes: Math.max(codec.maxDeltaBytes + 64, 1 << 20) })
    this.#sockets = new FeedSockets(this.#o.network, (bytes, from) => this.#onDatagram(bytes, from))
    this.#carousel = new CarouselJoin<K, L, P>(codec as StateCodec<K, L, unknown>, {
      install: (cut, store, leaves, digest) => this.#installCut(cut, store, leaves, digest),
      store: () => this.#freshStore(),
      nack: (cut, cycle, parts) => {
        if (!this.#publisher) return
        const w = new ByteWriter(Buffer.allocUnsafe(HEADER_BYTES + 8 + parts.length * 4))
        writeHeader(w, Kind.SNAPSHOT_NACK, this.#ids, cut)
        writeSnapshotNack(w, cycle, parts)
        this.#sockets.send(w, this.#publisher)
      },
    })
    this.#sequencer = new Sequencer(
      {
        apply: (seq, delta, encoded) => this.#apply(seq, delta, encoded),
        nack: (ranges) => {
          const w = new ByteWriter(Buffer.allocUnsafe(HEADER_BYTES + 2 + ranges.length * 12))
          writeHeader(w, Kind.NACK, this.#ids, 0)
          writeNack(w, ranges)
          if (this.#publisher) this.#sockets.send(w, this.#publisher)
        },
        giveUp: (reason) => this.#resync(reason),
      },
      this.#o,
      this.#stats,
    )
    let resolve!: () => void
    let reject!: (e: unknown) => void
    const promise = new Promise<void>((res, rej) => {
      resolve = res
      reject = rej
    })
    promise.catch(() => undefined)
    this.#synced = { promise, resolve, reject }
  }

  get feedName(): string {
    return `${this.codec.feed}/feed`
  }

  /** The last seq applied. */
  get seq(): number {
    return this.#sequencer.live ? this.#sequencer.next - 1 : 0
  }

  get size(): number {
    return this.#store.size
  }

  get status(): Status {
    return this.#status
  }

  /** The leaves, read-only (replaced, never mutated, as deltas arrive). */
  get leaves(): ReadonlyMap<K, L> {
    return this.#store.leaves
  }

  get(key: K): L | undefined {
    return this.#store.get(key)
  }

  has(key: K): boolean {
    return this.#store.has(key)
  }

  entries(): IterableIterator<[K, L]> {
    return this.#store.leaves.entries()
  }

  /** The publisher session followed (hex), once known. */
  get session(): string | undefined {
    return this.#session?.hex
  }

  get stats(): ReplicaStats {
    const stats = { ...this.#stats }
    stats.seq = this.seq
    stats.leaves = this.#store.size
    stats.digest = this.#store.digest
    stats.status = this.#status
    stats.lagSeqs = Math.max(0, this.#sequencer.known - this.seq)
    const since = this.#sequencer.missingSinceMs
    stats.lagMs = since === 0 ? 0 : performance.now() - since
    return stats
  }

  /**
   * Finds the publisher, checks its fingerprint (`ERR_FEED_INCOMPATIBLE`), subscribes and starts
   * joining. Resolves once subscribed; `synced()` resolves when the first snapshot is installed.
   */
  start(options?: CallOptions): Promise<void> {
    if (this.#closing) return Promise.reject(new GrenacheError('ERR_CLOSED', 'the replica is closed'))
    this.#started ??= this.#start(options).catch(async (err: unknown) => {
      this.#synced.reject(err)
      await this.#shutdown()
      throw err
    })
    return this.#started
  }

  /** Resolves when the replica is live for the first time (joined and in sync). */
  async synced(options?: CallOptions): Promise<void> {
    const deadline = createDeadline(options, 30_000, `${this.codec.feed} replica: synced()`)
    try {
      await raceSignal(this.#synced.promise, deadline.signal)
    } finally {
      deadline.dispose()
    }
  }

  /** Leaves the groups (a unicast feed: unsubscribes) and closes the sockets; idempotent. */
  close(): Promise<void> {
    this.#closing ??= this.#close()
    return this.#closing
  }

  async #close(): Promise<void> {
    await this.#started?.catch(() => undefined)
    if (this.#sockets.info?.transport === 'unicast') this.#hello(HELLO_LEAVE)
    this.#synced.reject(new GrenacheError('ERR_CLOSED', 'the replica closed before it was in sync'))
    await this.#shutdown()
    this.#status = 'closed'
    this.emit('close')
  }

  async #shutdown(): Promise<void> {
    clearInterval(this.#tickTimer)
    this.#tickTimer = undefined
    this.#sequencer.close()
    this.#assembler.clear()
    await this.#sockets.close()
  }

  // ── start and discovery ────────────────────────────────────────────────────────────────────

  async #start(options: CallOptions | undefined): Promise<void> {
    const deadline = createDeadline(options, 10_000, `${this.codec.feed} replica: start()`)
    try {
      const candidates = this.#o.publisher
        ? [this.#o.publisher]
        : await (this.#o.link as NonNullable<ResolvedReplicaOptions['link']>).lookup(this.feedName, {
            signal: deadline.signal,
          })
      await this.#sockets.openControl(this.#o.host ?? (await replicaHost(candidates)))
      const { header, info, from } = await this.#sockets.askInfo(candidates, this.#ids, deadline.signal)
      const fingerprint = header.fingerprintHex()
      if (fingerprint !== this.codec.fingerprint) {
        throw new GrenacheError(
          'ERR_FEED_INCOMPATIBLE',
          `${this.feedName} at ${from.host}:${from.port} publishes fingerprint ${fingerprint}, this replica reads ${this.codec.fingerprint}: the state layouts differ`,
        )
      }
      this.#heartbeatMs = info.heartbeatMs
      await this.#sockets.subscribe(info)
      this.#adopt(header, from)
      this.#lastHeardMs = performance.now()
      this.#join()
      this.#tickTimer = setInterval(() => this.#tick(), this.#heartbeatMs)
    } catch (err) {
      throw deadline.signal.aborted
        ? deadline.reason()
        : toGrenacheError(err, `${this.codec.feed} replica: start()`)
    } finally {
      deadline.dispose()
    }
  }

  #adopt(header: PacketHeader, from: DatagramAddress): void {
    const bytes = header.sessionBytes()
    this.#session = { session0: header.session0, session1: header.session1, hex: bytes.toString('hex') }
    this.#ids = new FeedIds(bytes, this.codec.fingerprint)
    this.#publisher = { ...from }
    this.#closedSession = false
  }

  #onInfoPacket(bytes: Buffer, from: DatagramAddress): void {
    let info: FeedInfo
    try {
      info = readInfo(new ByteReader(bytes, HEADER_BYTES))
    } catch {
      this.#stats.malformed++
      return
    }
    if (this.#sockets.offerInfo(this.#header, info, from)) return
    // After start: an answer to a rediscovery. A new session of our state is a restarted publisher.
    const header = this.#header
    if (!header.sameFingerprint(this.#ids)) {
      this.#stats.foreign++
      return
    }
    if (this.#status !== 'stale' || (this.#session && header.sameSession(this.#session))) return
    const copy = new PacketHeader()
    Object.assign(copy, header)
    void this.#switchTo(copy, info, from)
  }

  /** Follows a restarted publisher: new ports or group if it has them, then a fresh join. */
  async #switchTo(header: PacketHeader, info: FeedInfo, from: DatagramAddress): Promise<void> {
    if (this.#switching) return
    this.#switching = true
    try {
      this.#heartbeatMs = info.heartbeatMs
      await this.#sockets.subscribe(info)
      if (this.#status === 'closed') return
      this.#adopt(header, from)
      this.#lastHeardMs = performance.now()
      this.#resync('restart')
    } catch {
      // The next rediscovery tries again.
    } finally {
      this.#switching = false
    }
  }

  /** While stale, looks the feed up again and says HELLO: a restarted publisher answers INFO. */
  #rediscover(): void {
    const now = performance.now()
    if (now < this.#rediscoverAtMs) return
    this.#rediscoverAtMs = now + Math.max(250, this.#heartbeatMs * 2)
    const hello = (candidates: readonly string[]) => {
      for (const candidate of candidates) this.#sockets.hello(parseAddress(candidate), 0, this.#ids)
    }
    if (this.#o.publisher) hello([this.#o.publisher])
    else {
      this.#o.link?.invalidate?.(this.feedName)
      this.#o.link?.lookup(this.feedName, { timeoutMs: 2000 }).then(hello, () => undefined)
    }
  }

  /** A packet of another session: a restart when ours closed or went quiet. */
  #mayAdopt(header: PacketHeader): boolean {
    if (header.kind !== Kind.DATA && header.kind !== Kind.HEARTBEAT) return false
    const silentMs = performance.now() - this.#lastHeardMs
    return this.#closedSession || silentMs > this.#heartbeatMs * this.#o.deadAfterHeartbeats
  }

  // ── joining ────────────────────────────────────────────────────────────────────────────────

  #join(): void {
    this.#status = 'joining'
    this.#sequencer.reset()
    this.#carousel.reset()
    this.#joinStartedMs = performance.now()
    this.#joinAttempt++
    const stream = this.#sockets.info?.stream
    const transport = stream ? STREAM_TRANSPORTS[stream.code] : undefined
    if (stream && transport && this.#o.join === 'auto' && this.#publisher) {
      this.#joinByStream(transport, stream.port, this.#publisher)
      return
    }
    this.#joinByCarousel()
  }

  #joinByCarousel(): void {
    this.#streaming = false
    this.#sockets.snapshots(true)
    this.#hello(HELLO_CAROUSEL)
  }

  /** Fetches the whole state in one request; falls back to the carousel when that fails. */
  #joinByStream(transport: TransportKind, port: number, publisher: DatagramAddress): void {
    const attempt = this.#joinAttempt
    this.#streaming = true
    // On a memory network the stream is still TCP, on the publisher's host (127.0.0.1 by default).
    const host = publisher.host === MEMORY_HOST ? '127.0.0.1' : publisher.host
    const into = this.#freshStore()
    fetchSnapshot({
      codec: this.codec,
      transport,
      address: `${host}:${port}`,
      session: this.#session?.hex ?? '',
      timeoutMs: 10_000,
      into,
    }).then(
      ({ seq, leaves, digest, bytes }) => {
        if (attempt !== this.#joinAttempt || this.#status !== 'joining') return
        this.#streaming = false
        this.#stats.snapshotBytes += bytes
        this.#installCut(seq, into, leaves, digest)
      },
      () => {
        if (attempt === this.#joinAttempt && this.#status === 'joining') this.#joinByCarousel()
      },
    )
  }

  #resync(reason: ResyncReason): void {
    this.#stats.resyncs++
    if (this.listenerCount('resync') > 0) this.emit('resync', { reason, seq: this.seq })
    this.#join()
  }

  /** Installs a complete cut into a fresh store (its count and digest checked), then goes live. */
  /** An empty store to fill a snapshot cut into. */
  #freshStore(): LeafStore<K, L, P> {
    return new LeafStore(this.codec, new ByteWriter(this.codec.maxKeyBytes + this.codec.maxLeafBytes + 16))
  }

  /**
   * Installs a complete cut, filled into `fresh` as it came, once its leaf count and digest are
   * those the publisher announced: the stores trade contents (no copy).
   */
  #installCut(cut: number, fresh: LeafStore<K, L, P>, leaves: number, digest: number): void {
    if (fresh.size !== leaves || fresh.digest !== digest >>> 0) {
      this.#stats.resyncs++
      if (this.listenerCount('resync') > 0) this.emit('resync', { reason: 'snapshot', seq: cut })
      this.#joinByCarousel()
      return
    }
    this.#store.swap(fresh)
    this.#status = 'live'
    this.#sockets.snapshots(false)
    this.#hello(0)
    // `synced` (at the cut) comes before the `change`s of the deltas buffered past it.
    this.#sequencer.begin(cut)
    const joinMs = performance.now() - this.#joinStartedMs
    this.emit('synced', { seq: cut, leaves: this.#store.size, session: this.#session?.hex ?? '', joinMs })
    this.#synced.resolve()
    this.#sequencer.settle()
  }

  // ── receiving ──────────────────────────────────────────────────────────────────────────────

  #onDatagram(bytes: Buffer, from: DatagramAddress): void {
    if (this.#status === 'closed') return
    const header = this.#header
    if (parseHeader(bytes, header) !== undefined) {
      this.#stats.malformed++
      return
    }
    if (header.kind === Kind.INFO) {
      this.#onInfoPacket(bytes, from)
      return
    }
    if (!header.sameFingerprint(this.#ids)) {
      this.#stats.foreign++
      return
    }
    if (!this.#session || !header.sameSession(this.#session)) {
      if (!this.#session || !this.#mayAdopt(header)) {
        this.#stats.stray++
        return
      }
      this.#adopt(header, from)
      this.#resync('restart')
    }
    this.#stats.packets++
    this.#lastHeardMs = performance.now()
    if (this.#status === 'stale') {
      this.#status = this.#sequencer.live ? 'live' : 'joining'
      this.emit('live')
    }
    try {
      this.#dispatch(header.kind, header.seq, bytes, HEADER_BYTES, bytes.length)
    } catch (err) {
      if (!(err instanceof GrenacheError)) throw err
      this.#stats.malformed++
    }
  }

  #dispatch(kind: number, seq: number, bytes: Buffer, start: number, end: number): void {
    const r = new ByteReader(bytes, start, end)
    switch (kind) {
      case Kind.DATA:
        this.#onData(r, seq)
        return
      case Kind.HEARTBEAT:
        this.#onHeartbeat(r, seq)
        return
      case Kind.SNAPSHOT: {
        if (this.#status !== 'joining') return
        this.#partsSinceTick = true
        this.#stats.snapshotBytes += end - start
        this.#carousel.part(r, seq, ((bytes[start + 8] as number) & SNAPSHOT_RETRANSMIT) !== 0)
        return
      }
      case Kind.UNRECOVERABLE: {
        const lost = readUnrecoverable(r)
        if (lost.what === 'snapshot') {
          this.#carousel.lost(lost.cycle)
        } else if (this.#status === 'live' && seq >= this.#sequencer.next) this.#resync('unrecoverable')
        return
      }
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
      const delta = this.codec.decodeDelta(r)
      encoded.end = r.pos
      if (!sequencer.offer(first + i, delta, encoded)) return
    }
    if (r.remaining !== 0) r.fail(`${r.remaining} bytes after the last delta`)
    sequencer.settle()
  }

  #apply(seq: number, delta: Delta<K, L, P>, encoded?: Encoded): void {
    const previous = this.#store.apply(delta, encoded)
    this.#stats.deltas++
    if (this.listenerCount('change') > 0) {
      const change: ReplicaChange<K, L, P> = {
        seq,
        op: delta.op,
        key: delta.op === 'clear' ? undefined : delta.key,
        leaf: delta.op === 'clear' ? undefined : this.#store.get(delta.key),
        previous,
        delta,
      }
      try {
        this.emit('change', change)
      } catch (err) {
        // A listener's bug is not a bad datagram: it surfaces as any listener error would, outside
        // the receive path, which goes on applying.
        queueMicrotask(() => {
          throw err
        })
      }
    }
  }

  #onHeartbeat(r: ByteReader, last: number): void {
    const heartbeat = readHeartbeat(r)
    if (heartbeat.flags & HEARTBEAT_CLOSING) {
      this.#closedSession = true
      this.#markStale(0)
    }
    this.#sequencer.saw(last)
    if (this.#status === 'joining') {
      this.#carousel.heartbeat(heartbeat.cycle)
      return
    }
    if (this.#status !== 'live') return
    if (last === this.seq) {
      if (heartbeat.digest !== this.#store.digest || heartbeat.leaves !== this.#store.size) {
        this.#resync('digest')
      }
      return
    }
    this.#sequencer.settle()
  }

  // ── timers ─────────────────────────────────────────────────────────────────────────────────

  #tick(): void {
    const silentMs = performance.now() - this.#lastHeardMs
    if (this.#status !== 'stale' && silentMs > this.#heartbeatMs * this.#o.deadAfterHeartbeats) {
      this.#markStale(silentMs)
    }
    if (this.#status === 'stale') this.#rediscover()
    if (this.#status === 'joining' && !this.#streaming) {
      if (!this.#partsSinceTick) this.#hello(HELLO_CAROUSEL)
      this.#partsSinceTick = false
      this.#carousel.tick()
    } else if (this.#sockets.info?.transport === 'unicast') this.#hello(0)
    if (replicaStatsChannel.hasSubscribers) replicaStatsChannel.publish(this.stats)
  }

  #markStale(silentMs: number): void {
    if (this.#status === 'stale' || this.#status === 'closed') return
    this.#status = 'stale'
    if (this.listenerCount('stale') > 0) this.emit('stale', { silentMs })
  }

  #hello(flags: number): void {
    if (this.#publisher) this.#sockets.hello(this.#publisher, flags, this.#ids)
  }
}
