import { EventEmitter } from 'node:events'
import { GrenacheError, toGrenacheError } from '../errors.js'
import type { RpcServer } from '../peer/rpc-server.js'
import { ByteWriter } from '../state/byte-writer.js'
import { deleteDelta, patchDelta, upsertDelta } from '../state/delta-objects.js'
import type { Delta, StateCodec } from '../state/types.js'
import { Batcher } from './batcher.js'
import { Carousel } from './carousel.js'
import type { DatagramAddress, DatagramEndpoint } from './endpoint.js'
import { type FeedTransport, pickPorts, type ResolvedTransport, resolveTransport } from './feed-transport.js'
import { LeafStore } from './leaf-store.js'
import { FeedIds, type FeedInfo, HEARTBEAT_CLOSING } from './packet.js'
import { placePublisher } from './publisher-bind.js'
import { PublisherControl } from './publisher-control.js'
import { PublisherFanout } from './publisher-fanout.js'
import { PublisherHeartbeat } from './publisher-heartbeat.js'
import { feedInfo } from './publisher-info.js'
import {
  type PublisherOptions,
  type ResolvedPublisherOptions,
  resolvePublisherOptions,
} from './publisher-options.js'
import { RepairService } from './repair.js'
import { serveSnapshots } from './snapshot-stream.js'
import { type PublisherStats, publisherStats } from './stats.js'
import { Subscribers } from './subscribers.js'

export type { PublisherOptions } from './publisher-options.js'

export interface PublisherEvents {
  /** A datagram could not be sent (counted; the NACK path repairs it). */
  'send:error': [error: GrenacheError]
  close: []
}

/**
 * Publishes a state: applies absolute deltas to its own copy, multicasts them batched into
 * datagrams with one seq each, answers NACKs from a retransmit ring, runs the snapshot carousel for
 * joining replicas and sends heartbeats. See docs/replication.md.
 */
export class Publisher<K, L, P = Partial<L>> extends EventEmitter<PublisherEvents> {
  readonly codec: StateCodec<K, L, P>
  readonly #o: ResolvedPublisherOptions
  #transport: ResolvedTransport
  readonly #transportOption: FeedTransport | undefined
  readonly #store: LeafStore<K, L, P>
  readonly #stats = publisherStats()
  readonly #subscribers: Subscribers
  readonly #batcher: Batcher<Delta<K, L, P>>
  readonly #repair: RepairService
  readonly #controlPort: PublisherControl
  readonly #heartbeats: PublisherHeartbeat
  #ids: FeedIds
  #control: DatagramEndpoint | undefined
  /** Where datagrams go (after start). */
  #fanout: PublisherFanout | undefined
  #stream: { server: RpcServer; port: number } | undefined
  #carousel: Carousel<K, L, P> | undefined
  #started: Promise<DatagramAddress> | undefined
  #closing: Promise<void> | undefined

  constructor(codec: StateCodec<K, L, P>, options: PublisherOptions = {}) {
    super()
    this.codec = codec
    this.#o = resolvePublisherOptions(options)
    this.#transportOption = options.transport
    this.#transport = resolveTransport(options.transport, codec.feed)
    this.#ids =
      this.#o.session === undefined
        ? FeedIds.random(codec.fingerprint)
        : new FeedIds(Buffer.from(this.#o.session, 'hex'), codec.fingerprint)
    this.#store = new LeafStore(codec, new ByteWriter(codec.maxKeyBytes + codec.maxLeafBytes + 16))
    this.#subscribers = new Subscribers(this.#o.heartbeatMs, this.#o.maxSubscribers)
    this.#repair = new RepairService(
      {
        retransmitBufferBytes: this.#o.retransmitBufferBytes,
        // A retransmit sent to one requester reaches no other replica: each gets its own.
        repairHoldMs: this.#o.repairTo === 'group' ? this.#o.repairHoldMs : 0,
        ids: () => this.#ids,
        seq: () => this.#batcher.seq,
        resend: (datagram, requester) => {
          const fanout = this.#fanout
          if (!fanout) return
          const toGroup = this.#o.repairTo === 'group'
          if (toGroup) this.#count(datagram)
          fanout.retransmit(datagram, requester, toGroup)
        },
        answer: (datagram, to) => this.#control?.send(datagram, to),
      },
      this.#stats,
    )
    this.#batcher = new Batcher({
      encode: (delta, out) => codec.encodeDelta(delta, out),
      maxDatagramBytes: this.#o.maxDatagramBytes,
      maxDeltaBytes: codec.maxDeltaBytes,
      lingerMs: this.#o.lingerMs,
      ids: () => this.#ids,
      send: (datagram, first, count) => {
        this.#repair.keep(datagram, first, count)
        this.#sendData(datagram)
      },
    })
    this.#controlPort = new PublisherControl(
      {
        layout: codec.layout,
        maxDatagramBytes: this.#o.maxDatagramBytes,
        ids: () => this.#ids,
        seq: () => this.#batcher.seq,
        info: () => this.info as FeedInfo,
        subscribe: (flags, from) => {
          if (this.#transport.kind === 'unicast' && !this.#subscribers.hello(flags, from)) {
            this.#stats.subscribersRefused++
          }
        },
        demand: () => this.#carousel?.demand(),
        parts: (cycle, parts) => this.#carousel?.parts(cycle, parts),
        flush: () => this.#batcher.flush(),
        nack: (ranges, from) => this.#repair.nack(ranges, from),
        send: (datagram, to) => this.#control?.send(datagram, to),
      },
      this.#stats,
    )
    this.#heartbeats = new PublisherHeartbeat(
      {
        intervalMs: this.#o.heartbeatMs,
        ids: () => this.#ids,
        seq: () => this.#batcher.seq,
        store: this.#store,
        cycle: () => this.#carousel?.cycle ?? 0,
        flush: () => {
          this.#batcher.flush()
          this.#subscribers.expire()
        },
        send: (datagram) => this.#sendData(datagram, false),
        stats: () => this.stats,
      },
      this.#stats,
    )
  }

  /** The discovery name of the feed: `<name>@<major>/feed`. */
  get feedName(): string {
    return `${this.codec.feed}/feed`
  }

  /** This start's session id (hex). */
  get session(): string {
    return this.#ids.sessionHex
  }

  /** The last seq assigned (0 before the first delta). */
  get seq(): number {
    return this.#batcher.seq
  }

  get size(): number {
    return this.#store.size
  }

  /** The publisher's own copy of the state. */
  get leaves(): ReadonlyMap<K, L> {
    return this.#store.leaves
  }

  get(key: K): L | undefined {
    return this.#store.get(key)
  }

  get stats(): PublisherStats {
    const stats = { ...this.#stats }
    stats.seq = this.#batcher.seq
    stats.leaves = this.#store.size
    stats.digest = this.#store.digest
    stats.subscribers = this.#subscribers.size
    stats.snapshotCycles = this.#carousel?.cycles ?? 0
    stats.snapshotBytes = this.#carousel?.bytesSent ?? 0
    stats.snapshotCycleMs = this.#carousel?.lastCycleMs ?? 0
    return stats
  }

  /** Where the feed's packets go (after start): what a replica learns from INFO. */
  get info(): FeedInfo | undefined {
    return this.#control ? feedInfo(this.#transport, this.#o, this.#stream?.port) : undefined
  }

  /** The control endpoint's address (after start). */
  get address(): DatagramAddress | undefined {
    return this.#control?.address
  }

  /** Binds, picks ports, starts heartbeats and announces the feed; resolves with the control address. */
  start(): Promise<DatagramAddress> {
    if (this.#closing) return Promise.reject(new GrenacheError('ERR_CLOSED', 'the publisher is closed'))
    this.#started ??= this.#start()
    return this.#started
  }

  async #start(): Promise<DatagramAddress> {
    const { host, transport } = await placePublisher({
      feed: this.codec.feed,
      link: this.#o.link,
      host: this.#o.host,
      checkAnnounce: this.#o.checkAnnounce,
      option: this.#transportOption,
      transport: this.#transport,
    })
    this.#transport = transport
    await pickPorts(this.#transport)
    const control = await this.#transport.network.bind({ host, port: this.#o.port })
    this.#control = control
    this.#fanout = new PublisherFanout(control, this.#transport, this.#subscribers)
    control.onMessage((bytes, from) => this.#controlPort.receive(bytes, from))
    control.onError((error) => this.#sendError(error))
    this.#carousel = new Carousel({
      codec: this.codec,
      store: this.#store,
      ids: () => this.#ids,
      maxDatagramBytes: this.#o.maxDatagramBytes,
      bytesPerSecond: this.#o.snapshotBytesPerSecond,
      seq: () => this.#batcher.seq,
      send: (datagram) => this.#fanout?.snapshot(datagram),
      now: () => performance.now(),
    })
    if (this.#o.snapshotStream) {
      const server = serveSnapshots({
        codec: this.codec,
        transport: this.#o.snapshotStream,
        host,
        state: () => ({
          session: this.#ids.sessionHex,
          seq: this.#batcher.seq,
          leaves: this.#store.leaves,
          digest: this.#store.digest,
        }),
      })
      const [listening] = await server.start()
      this.#stream = { server, port: listening?.port ?? 0 }
    }
    this.#heartbeats.start()
    if (this.#o.link) {
      try {
        await this.#o.link.startAnnouncing(this.feedName, control.address.port)
      } catch (err) {
        await this.#shutdown()
        throw toGrenacheError(err, `announcing ${this.feedName}`)
      }
    }
    return control.address
  }

  /** Validates (unless `validate: false`), encodes, sends and applies one delta; returns its seq. */
  apply(delta: Delta<K, L, P>): number {
    this.#ready()
    const checked = this.#o.validate ? this.codec.parseDelta(delta) : delta
    const seq = this.#batcher.add(checked) // throws before a seq is taken
    this.#applyLocally(checked, this.#batcher.last)
    return seq
  }

  /**
   * Applies a delta under the seq an upstream feed gave it (a relay, such as the repeater): no zod
   * check, the seq must be past the last one. A seq that skips some leaves a hole replicas cannot
   * repair here (UNRECOVERABLE), so they resync from this publisher's carousel.
   */
  relay(seq: number, delta: Delta<K, L, P>): void {
    this.#ready()
    const last = this.#batcher.seq
    if (!Number.isSafeInteger(seq) || seq <= last) {
      throw new GrenacheError('ERR_INVALID_ARGUMENT', `relay: seq ${seq} is not past ${last}`)
    }
    if (seq > last + 1) this.#batcher.skipTo(seq - 1)
    this.#batcher.add(delta)
    this.#applyLocally(delta, this.#batcher.last)
  }

  /**
   * Replaces the whole state, which is now the state after delta `seq` (a relay whose upstream
   * resynced or restarted). With a new `session`, a closing heartbeat of the old one goes first, so
   * replicas reset at once; otherwise they find the seqs they miss unrecoverable and resync.
   */
  reset(options: { seq: number; leaves: Iterable<readonly [K, L]>; session?: string }): void {
    if (this.#closing) throw new GrenacheError('ERR_CLOSED', 'the publisher is closed')
    if (!Number.isSafeInteger(options.seq) || options.seq < 0) {
      throw new GrenacheError(
        'ERR_INVALID_ARGUMENT',
        `reset: seq must be a safe integer ≥ 0, got ${options.seq}`,
      )
    }
    this.#batcher.flush()
    if (options.session !== undefined && options.session !== this.#ids.sessionHex) {
      this.#heartbeat(HEARTBEAT_CLOSING)
      this.#ids = new FeedIds(Buffer.from(options.session, 'hex'), this.codec.fingerprint)
    }
    this.#carousel?.reset()
    this.#repair.clear()
    this.#store.clear()
    for (const [key, leaf] of options.leaves) this.#store.set(key, leaf)
    this.#batcher.skipTo(options.seq)
    this.#heartbeat(0)
  }

  upsert(key: K, leaf: L): number {
    return this.apply(upsertDelta(key, leaf))
  }

  patch(key: K, fields: P): number {
    return this.apply(patchDelta(key, fields))
  }

  delete(key: K): number {
    return this.apply(deleteDelta(key))
  }

  clear(): number {
    return this.apply({ op: 'clear' })
  }

  /** Sends the open datagram now. */
  flush(): void {
    this.#batcher.flush()
  }

  /** Sends a closing heartbeat, stops announcing and closes the sockets; idempotent. */
  close(): Promise<void> {
    this.#closing ??= this.#close()
    return this.#closing
  }

  async #close(): Promise<void> {
    await this.#started?.catch(() => undefined)
    if (this.#control) {
      this.#batcher.flush()
      this.#heartbeat(HEARTBEAT_CLOSING)
    }
    if (this.#o.link && this.#control) this.#o.link.stopAnnouncing(this.feedName, this.#control.address.port)
    await this.#shutdown()
    this.emit('close')
  }

  async #shutdown(): Promise<void> {
    this.#heartbeats.stop()
    this.#batcher.close()
    this.#carousel?.close()
    this.#repair.clear()
    await Promise.all([this.#control?.close(), this.#stream?.server.close()])
  }

  #ready(): void {
    if (this.#closing) throw new GrenacheError('ERR_CLOSED', 'the publisher is closed')
    if (!this.#control) throw new GrenacheError('ERR_INVALID_ARGUMENT', 'start() the publisher first')
  }

  /** Applies to the publisher's copy (a carousel cycle running sends its own copy of the cut). */
  #applyLocally(delta: Delta<K, L, P>, encoded: { bytes: Uint8Array; start: number; end: number }): void {
    this.#store.apply(delta, encoded)
    this.#stats.deltas++
  }

  // ── sending ────────────────────────────────────────────────────────────────────────────────

  #sendData(datagram: Buffer, counted = true): void {
    const fanout = this.#fanout
    if (!fanout) return
    if (counted) this.#count(datagram)
    fanout.data(datagram)
  }

  /** Counts a DATA datagram sent to the group. */
  #count(datagram: Buffer): void {
    this.#stats.datagrams++
    this.#stats.bytes += datagram.length
  }

  #heartbeat(flags: number): void {
    if (this.#control) this.#heartbeats.send(flags)
  }

  #sendError(error: Error): void {
    this.#stats.sendErrors++
    const coded = toGrenacheError(error, `${this.codec.feed} publisher: send`)
    if (this.listenerCount('send:error') > 0) this.emit('send:error', coded)
  }
}
