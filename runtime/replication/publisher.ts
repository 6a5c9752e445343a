import { EventEmitter } from 'node:events'
import { GrenacheError, toGrenacheError } from '../errors.js'
import type { Discovery } from '../peer/discovery.js'
import type { RpcServer } from '../peer/rpc-server.js'
import { ByteReader } from '../state/byte-reader.js'
import { ByteWriter } from '../state/byte-writer.js'
import type { Delta, StateCodec } from '../state/types.js'
import { checkOption } from '../util/validate.js'
import { Carousel } from './carousel.js'
import type { DatagramAddress, DatagramEndpoint } from './endpoint.js'
import {
  addressKey,
  type FeedTransport,
  pickPorts,
  type ResolvedTransport,
  resolveTransport,
} from './feed-transport.js'
import { fragment } from './fragments.js'
import { LeafStore } from './leaf-store.js'
import {
  DATA_FLAGS_OFFSET,
  DATA_RETRANSMIT,
  FeedIds,
  type FeedInfo,
  HEADER_BYTES,
  HEARTBEAT_CLOSING,
  HELLO_CAROUSEL,
  HELLO_LAYOUT,
  HELLO_LEAVE,
  HELLO_SUBSCRIBE,
  Kind,
  PacketHeader,
  parseHeader,
  readNack,
  readSnapshotNack,
  seal,
  writeHeader,
  writeHeartbeat,
  writeInfo,
  writeUnrecoverable,
} from './packet.js'
import { RetransmitRing } from './ring.js'
import { type StreamTransport, serveSnapshots, streamCode } from './snapshot-stream.js'
import { type PublisherStats, publisherStats, publisherStatsChannel } from './stats.js'

export interface PublisherOptions {
  /** Announces the feed (`<name>@<major>/feed`) at the control port through this Link. */
  link?: Discovery
  /** How packets travel; default `{ kind: 'multicast' }`. */
  transport?: FeedTransport
  /** Address of the control endpoint (HELLO, NACK); default `127.0.0.1`. */
  host?: string
  /** Port of the control endpoint; default 0, a free one. */
  port?: number
  /** Run the author's zod schema on every delta before encoding; default true. */
  validate?: boolean
  /** How long a datagram may wait for more deltas (ms); 0 (the default): to the end of the tick. */
  lingerMs?: number
  /** Largest datagram (bytes); default 1472, what a 1500-byte MTU carries. */
  maxDatagramBytes?: number
  /** Interval of heartbeats (ms); default 100. */
  heartbeatMs?: number
  /** Bytes of sent datagrams kept for NACKs; default 8 MiB. */
  retransmitBufferBytes?: number
  /** Where retransmits go: the data group (default; every replica that lost them) or the requester. */
  repairTo?: 'group' | 'requester'
  /** A datagram retransmitted is not sent again for a NACK within this many ms; default 2. */
  repairHoldMs?: number
  /** Rate of the snapshot carousel (bytes per second); default 16 MB/s. */
  snapshotBytesPerSecond?: number
  /** The session id (16 hex digits); default a random one. A relay keeps its upstream's. */
  session?: string
  /**
   * Also serve the whole state on one of our RPC transports, for fast joins of large states
   * (replicas fetch it in one request instead of waiting for the carousel); default off.
   */
  snapshotStream?: StreamTransport | false
}

export interface PublisherEvents {
  /** A datagram could not be sent (counted; the NACK path repairs it). */
  'send:error': [error: GrenacheError]
  close: []
}

interface Subscriber {
  address: DatagramAddress
  expiresMs: number
  carouselUntilMs: number
}

/**
 * Publishes a state: applies absolute deltas to its own copy, multicasts them batched into
 * datagrams with one seq each, answers NACKs from a retransmit ring, runs the snapshot carousel for
 * joining replicas and sends heartbeats. See docs/replication.md.
 */
export class Publisher<K, L, P = Partial<L>> extends EventEmitter<PublisherEvents> {
  readonly codec: StateCodec<K, L, P>
  readonly #o: Required<Omit<PublisherOptions, 'link' | 'transport' | 'session'>> & {
    link: Discovery | undefined
  }
  readonly #transport: ResolvedTransport
  readonly #store: LeafStore<K, L, P>
  readonly #ring: RetransmitRing
  readonly #stats = publisherStats()
  readonly #header = new PacketHeader()
  readonly #subscribers = new Map<string, Subscriber>()
  readonly #held = new Map<Buffer, number>()
  #ids: FeedIds
  #control: DatagramEndpoint | undefined
  #stream: { server: RpcServer; port: number } | undefined
  #carousel: Carousel<K, L, P> | undefined
  #seq = 0
  #open: ByteWriter | undefined
  #openFirst = 0
  #openCount = 0
  #flushScheduled = false
  #lingerTimer: NodeJS.Timeout | undefined
  #heartbeatTimer: NodeJS.Timeout | undefined
  #started: Promise<DatagramAddress> | undefined
  #closing: Promise<void> | undefined

  constructor(codec: StateCodec<K, L, P>, options: PublisherOptions = {}) {
    super()
    if (typeof options !== 'object' || options === null) checkOption.fail('', 'must be an object', options)
    this.codec = codec
    const repairTo = options.repairTo ?? 'group'
    if (repairTo !== 'group' && repairTo !== 'requester') {
      checkOption.fail('repairTo', 'must be "group" or "requester"', repairTo)
    }
    this.#o = {
      link: options.link,
      host: checkOption.string('host', options.host ?? '127.0.0.1'),
      port: checkOption.port('port', options.port ?? 0),
      validate: checkOption.boolean('validate', options.validate ?? true),
      lingerMs: checkOption.integer('lingerMs', options.lingerMs ?? 0, 0, 1000),
      maxDatagramBytes: checkOption.integer('maxDatagramBytes', options.maxDatagramBytes ?? 1472, 256, 65507),
      heartbeatMs: checkOption.integer('heartbeatMs', options.heartbeatMs ?? 100, 1, 60_000),
      retransmitBufferBytes: checkOption.integer(
        'retransmitBufferBytes',
        options.retransmitBufferBytes ?? 8 * 1024 * 1024,
        0,
      ),
      repairTo,
      repairHoldMs: checkOption.integer('repairHoldMs', options.repairHoldMs ?? 2, 0, 60_000),
      snapshotBytesPerSecond: checkOption.integer(
        'snapshotBytesPerSecond',
        options.snapshotBytesPerSecond ?? 16 * 1024 * 1024,
        1024,
      ),
      snapshotStream: false,
    }
    const stream = options.snapshotStream ?? false
    if (stream !== false && stream !== 'http' && stream !== 'ws' && stream !== 'zmq') {
      checkOption.fail('snapshotStream', 'must be "http", "ws", "zmq" or false', stream)
    }
    this.#o.snapshotStream = stream
    this.#transport = resolveTransport(options.transport, codec.feed)
    if (options.session !== undefined && !/^[0-9a-f]{16}$/.test(options.session)) {
      checkOption.fail('session', 'must be 16 lower-case hex digits', options.session)
    }
    this.#ids =
      options.session === undefined
        ? FeedIds.random(codec.fingerprint)
        : new FeedIds(Buffer.from(options.session, 'hex'), codec.fingerprint)
    this.#store = new LeafStore(codec, new ByteWriter(codec.maxKeyBytes + codec.maxLeafBytes + 16))
    this.#ring = new RetransmitRing(this.#o.retransmitBufferBytes)
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
    return this.#seq
  }

  get size(): number {
    return this.#store.size
  }

  /** The publisher's own copy of the state. */
  get leaves(): ReadonlyMap<K, L> {
    return this.#store.leaves
  }

  get(key: K): L | undefined {
    return this.#store.leaves.get(key)
  }

  get stats(): PublisherStats {
    const stats = { ...this.#stats }
    stats.seq = this.#seq
    stats.leaves = this.#store.size
    stats.digest = this.#store.digest
    stats.subscribers = this.#subscribers.size
    stats.snapshotCycles = this.#carousel?.cycles ?? 0
    stats.snapshotBytes = this.#carousel?.bytesSent ?? 0
    return stats
  }

  /** Where the feed's packets go (after start): what a replica learns from INFO. */
  get info(): FeedInfo | undefined {
    if (!this.#control) return undefined
    return {
      transport: this.#transport.kind,
      group: this.#transport.data.host,
      dataPort: this.#transport.data.port,
      snapshotPort: this.#transport.snapshot.port,
      heartbeatMs: this.#o.heartbeatMs,
      maxDatagramBytes: this.#o.maxDatagramBytes,
      ...(this.#stream && this.#o.snapshotStream
        ? { stream: { code: streamCode(this.#o.snapshotStream), port: this.#stream.port } }
        : {}),
    }
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
    await pickPorts(this.#transport)
    const control = await this.#transport.network.bind({ host: this.#o.host, port: this.#o.port })
    this.#control = control
    control.onMessage((bytes, from) => this.#onControl(bytes, from))
    control.onError((error) => this.#sendError(error))
    this.#carousel = new Carousel({
      codec: this.codec,
      store: this.#store,
      ids: () => this.#ids,
      maxDatagramBytes: this.#o.maxDatagramBytes,
      bytesPerSecond: this.#o.snapshotBytesPerSecond,
      seq: () => this.#seq,
      send: (datagram) => this.#sendSnapshot(datagram),
      now: () => performance.now(),
    })
    if (this.#o.snapshotStream) {
      const server = serveSnapshots({
        codec: this.codec,
        transport: this.#o.snapshotStream,
        host: this.#o.host,
        state: () => ({
          session: this.#ids.sessionHex,
          seq: this.#seq,
          leaves: this.#store.leaves,
          digest: this.#store.digest,
        }),
      })
      const [listening] = await server.start()
      this.#stream = { server, port: listening?.port ?? 0 }
    }
    this.#heartbeatTimer = setInterval(() => this.#heartbeat(0), this.#o.heartbeatMs)
    this.#heartbeat(0)
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
    if (this.#closing) throw new GrenacheError('ERR_CLOSED', 'the publisher is closed')
    if (!this.#control) throw new GrenacheError('ERR_INVALID_ARGUMENT', 'start() the publisher first')
    const checked = this.#o.validate ? this.codec.parseDelta(delta) : delta
    this.#encode(checked)
    const carousel = this.#carousel
    if (carousel && carousel.cycle !== 0) {
      if (checked.op === 'clear') carousel.beforeClear()
      else carousel.beforeChange(checked.key)
    }
    this.#store.apply(checked)
    this.#stats.deltas++
    return this.#seq
  }

  /**
   * Applies a delta under the seq an upstream feed gave it (a relay, such as the repeater): no zod
   * check, the seq must be past the last one. A seq that skips some leaves a hole replicas cannot
   * repair here (UNRECOVERABLE), so they resync from this publisher's carousel.
   */
  relay(seq: number, delta: Delta<K, L, P>): void {
    if (this.#closing) throw new GrenacheError('ERR_CLOSED', 'the publisher is closed')
    if (!this.#control) throw new GrenacheError('ERR_INVALID_ARGUMENT', 'start() the publisher first')
    if (!Number.isSafeInteger(seq) || seq <= this.#seq) {
      throw new GrenacheError('ERR_INVALID_ARGUMENT', `relay: seq ${seq} is not past ${this.#seq}`)
    }
    if (seq > this.#seq + 1) {
      this.flush()
      this.#seq = seq - 1
    }
    this.#encode(delta)
    const carousel = this.#carousel
    if (carousel && carousel.cycle !== 0) {
      if (delta.op === 'clear') carousel.beforeClear()
      else carousel.beforeChange(delta.key)
    }
    this.#store.apply(delta)
    this.#stats.deltas++
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
    this.flush()
    if (options.session !== undefined && options.session !== this.#ids.sessionHex) {
      this.#heartbeat(HEARTBEAT_CLOSING)
      this.#ids = new FeedIds(Buffer.from(options.session, 'hex'), this.codec.fingerprint)
    }
    this.#carousel?.reset()
    this.#ring.clear()
    this.#held.clear()
    this.#store.clear()
    for (const [key, leaf] of options.leaves) this.#store.set(key, leaf)
    this.#seq = options.seq
    this.#heartbeat(0)
  }

  upsert(key: K, leaf: L): number {
    return this.apply({ op: 'upsert', key, leaf })
  }

  patch(key: K, fields: P): number {
    return this.apply({ op: 'patch', key, fields })
  }

  delete(key: K): number {
    return this.apply({ op: 'delete', key })
  }

  clear(): number {
    return this.apply({ op: 'clear' })
  }

  /** Sends the open datagram now. */
  flush(): void {
    clearTimeout(this.#lingerTimer)
    this.#lingerTimer = undefined
    const w = this.#open
    if (!w || this.#openCount === 0) return
    this.#open = undefined
    w.buf[HEADER_BYTES] = this.#openCount & 0xff
    w.buf[HEADER_BYTES + 1] = this.#openCount >>> 8
    seal(w.buf, 0, w.pos)
    const datagram = w.buf.subarray(0, w.pos)
    this.#ring.push(datagram, this.#openFirst, this.#openCount)
    this.#sendData(datagram)
  }

  /** Sends a closing heartbeat, stops announcing and closes the sockets; idempotent. */
  close(): Promise<void> {
    this.#closing ??= this.#close()
    return this.#closing
  }

  async #close(): Promise<void> {
    await this.#started?.catch(() => undefined)
    if (this.#control) {
      this.flush()
      this.#heartbeat(HEARTBEAT_CLOSING)
    }
    if (this.#o.link && this.#control) this.#o.link.stopAnnouncing(this.feedName, this.#control.address.port)
    await this.#shutdown()
    this.emit('close')
  }

  async #shutdown(): Promise<void> {
    clearInterval(this.#heartbeatTimer)
    clearTimeout(this.#lingerTimer)
    this.#carousel?.close()
    this.#ring.clear()
    this.#held.clear()
    await Promise.all([this.#control?.close(), this.#stream?.server.close()])
  }

  // ── sending ────────────────────────────────────────────────────────────────────────────────

  #encode(delta: Delta<K, L, P>): void {
    const limit = this.#o.maxDatagramBytes
    let w = this.#open ?? this.#openDatagram()
    const start = w.pos
    this.codec.encodeDelta(delta, w) // throws before the seq is taken
    if (w.pos > limit) {
      if (this.#openCount > 0) {
        // Does not fit: send what is open, move the delta to a new datagram.
        const bytes = Buffer.from(w.buf.subarray(start, w.pos))
        w.pos = start
        this.flush()
        w = this.#openDatagram()
        bytes.copy(w.buf, w.pos)
        w.pos += bytes.length
      }
      if (w.pos > limit) {
        // Alone it does not fit either: it travels in fragments.
        this.#seq++
        this.#openFirst = this.#seq
        this.#openCount = 1
        w.buf.writeUInt32LE(this.#seq >>> 0, 24)
        w.buf.writeUInt32LE(Math.floor(this.#seq / 2 ** 32), 28)
        w.buf[HEADER_BYTES] = 1
        w.buf[HEADER_BYTES + 1] = 0
        seal(w.buf, 0, w.pos)
        this.#open = undefined
        this.#openCount = 0
        for (const datagram of fragment(w.buf.subarray(0, w.pos), this.#ids, limit)) {
          this.#ring.push(datagram, this.#seq, 1)
          this.#sendData(datagram)
        }
        return
      }
    }
    this.#seq++
    if (this.#openCount === 0) {
      this.#openFirst = this.#seq
      w.buf.writeUInt32LE(this.#seq >>> 0, 24)
      w.buf.writeUInt32LE(Math.floor(this.#seq / 2 ** 32), 28)
    }
    this.#openCount++
    if (w.pos >= limit - 2 || this.#openCount === 0xffff) this.flush()
    else this.#scheduleFlush()
  }

  #openDatagram(): ByteWriter {
    const w = new ByteWriter(Buffer.allocUnsafe(this.#o.maxDatagramBytes + this.codec.maxDeltaBytes + 64))
    writeHeader(w, Kind.DATA, this.#ids, 0)
    w.u8(0)
    w.u8(0)
    w.u8(0)
    w.u8(0)
    this.#open = w
    this.#openCount = 0
    return w
  }

  #scheduleFlush(): void {
    if (this.#o.lingerMs > 0) {
      this.#lingerTimer ??= setTimeout(() => this.flush(), this.#o.lingerMs)
      return
    }
    if (this.#flushScheduled) return
    this.#flushScheduled = true
    queueMicrotask(() => {
      this.#flushScheduled = false
      this.flush()
    })
  }

  #sendData(datagram: Buffer, counted = true): void {
    const control = this.#control
    if (!control) return
    if (counted) {
      this.#stats.datagrams++
      this.#stats.bytes += datagram.length
    }
    if (this.#transport.kind === 'unicast') {
      for (const subscriber of this.#subscribers.values()) control.send(datagram, subscriber.address)
    } else control.send(datagram, this.#transport.data)
  }

  #sendSnapshot(datagram: Buffer): void {
    const control = this.#control
    if (!control) return
    if (this.#transport.kind === 'unicast') {
      const now = performance.now()
      for (const subscriber of this.#subscribers.values()) {
        if (subscriber.carouselUntilMs > now) control.send(datagram, subscriber.address)
      }
    } else control.send(datagram, this.#transport.snapshot)
  }

  #heartbeat(flags: number): void {
    const control = this.#control
    if (!control) return
    this.flush()
    this.#expireSubscribers()
    const w = new ByteWriter(Buffer.allocUnsafe(HEADER_BYTES + 32))
    writeHeader(w, Kind.HEARTBEAT, this.#ids, this.#seq)
    writeHeartbeat(w, {
      timeMs: performance.timeOrigin + performance.now(),
      digest: this.#store.digest,
      leaves: this.#store.size,
      cycle: this.#carousel?.cycle ?? 0,
      flags,
      intervalMs: this.#o.heartbeatMs,
    })
    seal(w.buf, 0, w.pos)
    this.#stats.heartbeats++
    this.#sendData(w.buf.subarray(0, w.pos), false)
    if (flags === 0 && publisherStatsChannel.hasSubscribers) publisherStatsChannel.publish(this.stats)
  }

  #sendError(error: Error): void {
    this.#stats.sendErrors++
    const coded = toGrenacheError(error, `${this.codec.feed} publisher: send`)
    if (this.listenerCount('send:error') > 0) this.emit('send:error', coded)
  }

  // ── control ────────────────────────────────────────────────────────────────────────────────

  #onControl(bytes: Buffer, from: DatagramAddress): void {
    const header = this.#header
    if (parseHeader(bytes, header) !== undefined) {
      this.#stats.dropped++
      return
    }
    // A HELLO of another layout gets INFO (and LAYOUT if asked) and nothing else: the replica (or
    // a tool reading any feed) then says what is incompatible.
    const foreign = !header.sameFingerprint(this.#ids)
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
          if (!header.sameSession(this.#ids)) break
          this.#onNack(readNack(r), from)
          return
        case Kind.SNAPSHOT_NACK: {
          if (!header.sameSession(this.#ids)) break
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
    const control = this.#control
    if (!control) return
    const now = performance.now()
    if (this.#transport.kind === 'unicast') {
      const key = addressKey(from)
      if (flags & HELLO_LEAVE) this.#subscribers.delete(key)
      else if (flags & HELLO_SUBSCRIBE) {
        const known = this.#subscribers.get(key)
        const subscriber = known ?? { address: { ...from }, expiresMs: 0, carouselUntilMs: 0 }
        subscriber.expiresMs = now + this.#o.heartbeatMs * 5
        if (flags & HELLO_CAROUSEL) subscriber.carouselUntilMs = now + this.#o.heartbeatMs * 3
        this.#subscribers.set(key, subscriber)
      }
    }
    if (flags & HELLO_LEAVE) return
    const w = new ByteWriter(Buffer.allocUnsafe(HEADER_BYTES + 64 + 255))
    writeHeader(w, Kind.INFO, this.#ids, this.#seq)
    writeInfo(w, this.info as FeedInfo)
    seal(w.buf, 0, w.pos)
    control.send(w.buf.subarray(0, w.pos), from)
    if (flags & HELLO_CAROUSEL) this.#carousel?.demand()
    if (flags & HELLO_LAYOUT) {
      const json = Buffer.from(JSON.stringify(this.codec.layout))
      const packet = new ByteWriter(Buffer.allocUnsafe(HEADER_BYTES + json.length))
      writeHeader(packet, Kind.LAYOUT, this.#ids, 0)
      json.copy(packet.buf, packet.pos)
      packet.pos += json.length
      seal(packet.buf, 0, packet.pos)
      const whole = packet.buf.subarray(0, packet.pos)
      const datagrams =
        whole.length > this.#o.maxDatagramBytes
          ? fragment(whole, this.#ids, this.#o.maxDatagramBytes)
          : [whole]
      for (const datagram of datagrams) control.send(datagram, from)
    }
  }

  #onNack(ranges: ReturnType<typeof readNack>, from: DatagramAddress): void {
    const control = this.#control
    if (!control) return
    this.#stats.nacks++
    this.flush()
    const now = performance.now()
    for (const range of ranges) {
      if (range.count === 0 || range.from < 1 || range.from > this.#seq) continue
      const count = Math.min(range.count, this.#seq - range.from + 1)
      const datagrams = this.#ring.find(range.from, count)
      if (!datagrams) {
        this.#stats.unrecoverable++
        const w = new ByteWriter(Buffer.allocUnsafe(HEADER_BYTES + 32))
        writeHeader(w, Kind.UNRECOVERABLE, this.#ids, range.from)
        const oldest = this.#ring.oldest
        writeUnrecoverable(w, {
          count,
          what: 'deltas',
          cycle: 0,
          oldest: Number.isFinite(oldest) ? oldest : this.#seq + 1,
        })
        seal(w.buf, 0, w.pos)
        control.send(w.buf.subarray(0, w.pos), from)
        continue
      }
      for (const datagram of datagrams) {
        const last = this.#held.get(datagram)
        if (last !== undefined && now - last < this.#o.repairHoldMs) {
          this.#stats.retransmitsHeld++
          continue
        }
        this.#held.set(datagram, now)
        const copy = Buffer.from(datagram)
        if (copy[3] === Kind.DATA) {
          copy[DATA_FLAGS_OFFSET] = (copy[DATA_FLAGS_OFFSET] as number) | DATA_RETRANSMIT
          seal(copy, 0, copy.length)
        }
        this.#stats.retransmits++
        if (this.#o.repairTo === 'requester') control.send(copy, from)
        else this.#sendData(copy)
      }
    }
    if (this.#held.size > 4096) {
      for (const [datagram, at] of this.#held)
        if (now - at >= this.#o.repairHoldMs) this.#held.delete(datagram)
    }
  }

  #onSnapshotNack(cycle: number, parts: number[], cut: number, from: DatagramAddress): void {
    const control = this.#control
    if (!control) return
    const datagrams = this.#carousel?.parts(cycle, parts)
    if (!datagrams) {
      const w = new ByteWriter(Buffer.allocUnsafe(HEADER_BYTES + 32))
      writeHeader(w, Kind.UNRECOVERABLE, this.#ids, cut)
      writeUnrecoverable(w, { count: parts.length, what: 'snapshot', cycle, oldest: 0 })
      seal(w.buf, 0, w.pos)
      control.send(w.buf.subarray(0, w.pos), from)
      return
    }
    for (const datagram of datagrams) control.send(datagram, from)
  }

  #expireSubscribers(): void {
    if (this.#subscribers.size === 0) return
    const now = performance.now()
    for (const [key, subscriber] of this.#subscribers)
      if (subscriber.expiresMs < now) this.#subscribers.delete(key)
  }
}
