import { EventEmitter } from 'node:events'
import { GrenacheError, toGrenacheError } from '../errors.js'
import type { Discovery } from '../peer/discovery.js'
import { ByteReader } from '../state/byte-reader.js'
import { ByteWriter } from '../state/byte-writer.js'
import type { Delta, StateCodec } from '../state/types.js'
import { type CallOptions, createDeadline } from '../util/deadline.js'
import { checkOption } from '../util/validate.js'
import type { DatagramAddress, DatagramEndpoint, DatagramNetwork } from './endpoint.js'
import type { FeedTransport } from './feed-transport.js'
import { FragmentAssembler } from './fragments.js'
import { SnapshotCollector } from './join.js'
import { LeafStore } from './leaf-store.js'
import {
  FeedIds,
  type FeedInfo,
  HEADER_BYTES,
  HEARTBEAT_CLOSING,
  HELLO_CAROUSEL,
  HELLO_LEAVE,
  HELLO_SUBSCRIBE,
  Kind,
  PacketHeader,
  parseHeader,
  readHeartbeat,
  readInfo,
  readSnapshotPartHeader,
  readUnrecoverable,
  type SeqRange,
  SNAPSHOT_LAST,
  seal,
  writeHeader,
  writeNack,
  writeSnapshotNack,
} from './packet.js'
import { type ReplicaStats, replicaStats, replicaStatsChannel } from './stats.js'
import { UdpNetwork } from './udp-endpoint.js'

export interface ReplicaOptions {
  /** Finds the publisher by the feed's name through this Link. */
  link?: Discovery
  /** Or the publisher's control address, `host:port` (no lookup). */
  publisher?: string
  /**
   * The local side of the transport: `{ kind: 'memory', network }` for the publisher's memory
   * network, or UDP options (`interface`, `recvBufferBytes`); groups and ports come from the publisher.
   */
  transport?: FeedTransport
  /** Address of this replica's own socket (NACKs, retransmits, unicast fan-out); default `127.0.0.1`. */
  host?: string
  /** A hole is NACKed after a random delay of up to this many ms (a hole that fills meanwhile is not); default 1. */
  nackDelayMs?: number
  /** A NACK not answered is sent again after this many ms; default 5. */
  nackRetryMs?: number
  /** NACKs for one hole before giving up and resyncing; default 5. */
  nackAttempts?: number
  /** Deltas held out of order or while joining; past it, the replica resyncs. Default 65536. */
  maxBufferedDeltas?: number
  /** Heartbeats missed before the publisher is `stale`; default 3. */
  deadAfterHeartbeats?: number
}

/** One applied delta, for `change` listeners. */
export interface ReplicaChange<K, L> {
  seq: number
  op: Delta<K, L>['op']
  /** Undefined for `clear`. */
  key: K | undefined
  /** The leaf after the delta (undefined once deleted or cleared). */
  leaf: L | undefined
  /** The leaf before it. */
  previous: L | undefined
}

export type ResyncReason = 'unrecoverable' | 'nack-attempts' | 'digest' | 'overflow' | 'snapshot' | 'restart'

export interface ReplicaEvents<K, L> {
  change: [change: ReplicaChange<K, L>]
  /** A snapshot was installed: the replica is live. */
  synced: [info: { seq: number; leaves: number; session: string; joinMs: number }]
  /** The replica dropped what it had and joins again. */
  resync: [info: { reason: ResyncReason; seq: number }]
  /** No heartbeat for `deadAfterHeartbeats` intervals. */
  stale: [info: { silentMs: number }]
  /** Heard from the publisher again after `stale`. */
  live: []
  close: []
}

type Status = ReplicaStats['status']

/**
 * A replica of a published state: finds the publisher, joins (buffer deltas, install one snapshot
 * cut, replay past it), applies deltas in seq order, repairs holes by NACK, resyncs when it cannot,
 * and checks its digest against the publisher's. See docs/replication.md.
 */
export class Replica<K, L, P = Partial<L>> extends EventEmitter<ReplicaEvents<K, L>> {
  readonly codec: StateCodec<K, L, P>
  readonly #o: {
    link: Discovery | undefined
    publisher: string | undefined
    host: string
    nackDelayMs: number
    nackRetryMs: number
    nackAttempts: number
    maxBufferedDeltas: number
    deadAfterHeartbeats: number
  }
  readonly #network: DatagramNetwork
  readonly #store: LeafStore<K, L, P>
  readonly #stats = replicaStats()
  readonly #header = new PacketHeader()
  readonly #window = new Map<number, Delta<K, L, P>>()
  readonly #assembler: FragmentAssembler
  #status: Status = 'idle'
  #control: DatagramEndpoint | undefined
  #data: DatagramEndpoint | undefined
  #snapshotEndpoint: DatagramEndpoint | undefined
  #info: FeedInfo | undefined
  #publisher: DatagramAddress | undefined
  #session: { session0: number; session1: number; hex: string } | undefined
  #next = 0
  #known = 0
  #missingSinceMs = 0
  #nackTimer: NodeJS.Timeout | undefined
  #nackTries = 0
  #collector: SnapshotCollector<K, L> | undefined
  #joinStartedMs = 0
  #lastHeardMs = 0
  #heartbeatMs = 100
  #tickTimer: NodeJS.Timeout | undefined
  #closedSession = false
  #started: Promise<void> | undefined
  #closing: Promise<void> | undefined
  #synced: { promise: Promise<void>; resolve: () => void; reject: (e: unknown) => void }
  #onInfo: ((header: PacketHeader, info: FeedInfo, from: DatagramAddress) => void) | undefined
  /** The fingerprint to compare packets with, and the session we follow (zero before one is known). */
  #selfIds: FeedIds
  #rediscoverAtMs = 0
  #switching = false

  constructor(codec: StateCodec<K, L, P>, options: ReplicaOptions = {}) {
    super()
    if (typeof options !== 'object' || options === null) checkOption.fail('', 'must be an object', options)
    this.codec = codec
    if (options.link === undefined && options.publisher === undefined) {
      checkOption.fail(
        'link',
        'or options.publisher must be given (how else to find the publisher?)',
        undefined,
      )
    }
    this.#o = {
      link: options.link,
      publisher:
        options.publisher === undefined ? undefined : checkOption.hostPort('publisher', options.publisher),
      host: checkOption.string('host', options.host ?? '127.0.0.1'),
      nackDelayMs: checkOption.integer('nackDelayMs', options.nackDelayMs ?? 1, 0, 10_000),
      nackRetryMs: checkOption.integer('nackRetryMs', options.nackRetryMs ?? 5, 1, 60_000),
      nackAttempts: checkOption.integer('nackAttempts', options.nackAttempts ?? 5, 1, 1000),
      maxBufferedDeltas: checkOption.integer('maxBufferedDeltas', options.maxBufferedDeltas ?? 65_536, 1),
      deadAfterHeartbeats: checkOption.integer(
        'deadAfterHeartbeats',
        options.deadAfterHeartbeats ?? 3,
        1,
        1000,
      ),
    }
    const t = options.transport
    if (t?.kind === 'memory') {
      if (typeof t.network?.bind !== 'function')
        checkOption.fail('transport.network', 'must be a MemoryNetwork', t.network)
      this.#network = t.network
    } else {
      this.#network = new UdpNetwork({
        interface: t?.kind === 'multicast' && t.interface !== undefined ? t.interface : '127.0.0.1',
        ...(t && t.recvBufferBytes !== undefined ? { recvBufferBytes: t.recvBufferBytes } : {}),
      })
    }
    this.#selfIds = new FeedIds(Buffer.alloc(8), codec.fingerprint)
    this.#store = new LeafStore(codec, new ByteWriter(codec.maxKeyBytes + codec.maxLeafBytes + 16))
    this.#assembler = new FragmentAssembler({ maxBytes: Math.max(codec.maxDeltaBytes + 64, 1 << 20) })
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
    return this.#next === 0 ? 0 : this.#next - 1
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
    return this.#store.leaves.get(key)
  }

  has(key: K): boolean {
    return this.#store.leaves.has(key)
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
    stats.lagSeqs =
      this.#status === 'live' ? Math.max(0, this.#known - this.seq) : Math.max(0, this.#known - this.seq)
    stats.lagMs = this.#missingSinceMs === 0 ? 0 : performance.now() - this.#missingSinceMs
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
      await Promise.race([
        this.#synced.promise,
        new Promise<never>((_, reject) => {
          if (deadline.signal.aborted) reject(deadline.reason())
          deadline.signal.addEventListener('abort', () => reject(deadline.reason()), { once: true })
        }),
      ])
    } finally {
      deadline.dispose()
    }
  }

  close(): Promise<void> {
    this.#closing ??= this.#close()
    return this.#closing
  }

  async #close(): Promise<void> {
    await this.#started?.catch(() => undefined)
    if (this.#info?.transport === 'unicast') this.#hello(HELLO_LEAVE)
    this.#synced.reject(new GrenacheError('ERR_CLOSED', 'the replica closed before it was in sync'))
    await this.#shutdown()
    this.#status = 'closed'
    this.emit('close')
  }

  async #shutdown(): Promise<void> {
    clearTimeout(this.#nackTimer)
    clearInterval(this.#tickTimer)
    this.#nackTimer = undefined
    this.#tickTimer = undefined
    this.#window.clear()
    this.#assembler.clear()
    await Promise.all([this.#snapshotEndpoint?.close(), this.#data?.close(), this.#control?.close()])
  }

  // ── start ──────────────────────────────────────────────────────────────────────────────────

  async #start(options: CallOptions | undefined): Promise<void> {
    const deadline = createDeadline(options, 10_000, `${this.codec.feed} replica: start()`)
    try {
      const candidates = this.#o.publisher
        ? [this.#o.publisher]
        : await (this.#o.link as Discovery).lookup(this.feedName, { signal: deadline.signal })
      const control = await this.#network.bind({ host: this.#o.host, port: 0 })
      this.#control = control
      control.onMessage((bytes, from) => this.#onDatagram(bytes, from))
      control.onError(() => undefined)
      const { header, info, from } = await this.#askInfo(candidates, deadline.signal)
      const fingerprint = header.fingerprintHex()
      if (fingerprint !== this.codec.fingerprint) {
        throw new GrenacheError(
          'ERR_FEED_INCOMPATIBLE',
          `${this.feedName} at ${from.host}:${from.port} publishes fingerprint ${fingerprint}, this replica reads ${this.codec.fingerprint}: the state layouts differ`,
        )
      }
      this.#info = info
      this.#heartbeatMs = info.heartbeatMs
      this.#adopt(header, from)
      if (info.transport !== 'unicast') {
        const data = await this.#network.bind(this.#groupBind(info, info.dataPort))
        this.#data = data
        data.onMessage((bytes, source) => this.#onDatagram(bytes, source))
        data.onError(() => undefined)
        data.joinGroup(info.group)
        const snapshot = await this.#network.bind(this.#groupBind(info, info.snapshotPort))
        this.#snapshotEndpoint = snapshot
        snapshot.onMessage((bytes, source) => this.#onDatagram(bytes, source))
        snapshot.onError(() => undefined)
      }
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

  /** A multicast receiver binds the group address (only that group's datagrams reach it). */
  #groupBind(info: FeedInfo, port: number): { host?: string; port: number; reuseAddr: boolean } {
    return info.transport === 'multicast'
      ? { host: info.group, port, reuseAddr: true }
      : { port, reuseAddr: true }
  }

  /** Says HELLO to each candidate until one answers INFO. */
  #askInfo(
    candidates: readonly string[],
    signal: AbortSignal,
  ): Promise<{ header: PacketHeader; info: FeedInfo; from: DatagramAddress }> {
    return new Promise((resolve, reject) => {
      let round = 0
      const ask = () => {
        for (const candidate of candidates) {
          const at = candidate.lastIndexOf(':')
          this.#sendHello({ host: candidate.slice(0, at), port: Number(candidate.slice(at + 1)) }, 0)
        }
        round++
      }
      const timer = setInterval(ask, Math.min(250, 50 * 2 ** round))
      const finish = () => {
        clearInterval(timer)
        this.#onInfo = undefined
        signal.removeEventListener('abort', onAbort)
      }
      const onAbort = () => {
        finish()
        reject(signal.reason)
      }
      signal.addEventListener('abort', onAbort, { once: true })
      this.#onInfo = (header, info, from) => {
        const copy = new PacketHeader()
        Object.assign(copy, header)
        finish()
        resolve({ header: copy, info, from })
      }
      ask()
    })
  }

  #adopt(header: PacketHeader, from: DatagramAddress): void {
    const bytes = header.sessionBytes()
    this.#session = { session0: header.session0, session1: header.session1, hex: bytes.toString('hex') }
    this.#selfIds = new FeedIds(bytes, this.codec.fingerprint)
    this.#publisher = { ...from }
    this.#closedSession = false
  }

  // ── joining ────────────────────────────────────────────────────────────────────────────────

  #join(): void {
    this.#status = 'joining'
    this.#next = 0
    this.#collector = undefined
    this.#joinStartedMs = performance.now()
    this.#clearGap()
    if (this.#info && this.#info.transport !== 'unicast') this.#snapshotEndpoint?.joinGroup(this.#info.group)
    this.#hello(HELLO_CAROUSEL)
  }

  #resync(reason: ResyncReason): void {
    this.#stats.resyncs++
    this.#window.clear()
    if (this.listenerCount('resync') > 0) this.emit('resync', { reason, seq: this.seq })
    this.#join()
  }

  #onSnapshot(r: ByteReader, cut: number, retransmit: boolean, bytes: number): void {
    if (this.#status !== 'joining') return
    const part = readSnapshotPartHeader(r)
    const snapshot = this.codec.decodeSnapshot(r)
    if (snapshot.seq !== cut) r.fail(`a snapshot part says seq ${snapshot.seq} in a cut at ${cut}`)
    const header = { cycle: part.cycle, cut, leaves: part.leaves, digest: part.digest }
    const now = performance.now()
    if (!this.#collector || (!this.#collector.matches(header) && !retransmit && part.part === 0)) {
      this.#collector = new SnapshotCollector(header, now)
    }
    const collector = this.#collector
    if (!collector.matches(header)) return
    this.#stats.snapshotBytes += bytes
    if (!collector.add(part.part, (part.flags & SNAPSHOT_LAST) !== 0, snapshot.entries, bytes)) {
      this.#collector = undefined
      return
    }
    const missing = collector.missing(false)
    if (missing.length > 0 && !retransmit) this.#snapshotNack(collector, missing)
    if (collector.complete) this.#install(collector)
  }

  #install(collector: SnapshotCollector<K, L>): void {
    const fresh = new LeafStore(
      this.codec,
      new ByteWriter(this.codec.maxKeyBytes + this.codec.maxLeafBytes + 16),
    )
    for (const [key, leaf] of collector.entries()) fresh.set(key, leaf)
    if (fresh.size !== collector.leaves || fresh.digest !== collector.digest >>> 0) {
      this.#collector = undefined
      this.#stats.resyncs++
      if (this.listenerCount('resync') > 0) this.emit('resync', { reason: 'snapshot', seq: collector.cut })
      return
    }
    this.#store.clear()
    for (const [key, leaf] of fresh.leaves) this.#store.set(key, leaf)
    this.#collector = undefined
    this.#next = collector.cut + 1
    for (const seq of this.#window.keys()) if (seq < this.#next) this.#window.delete(seq)
    this.#status = 'live'
    if (this.#info && this.#info.transport !== 'unicast') this.#snapshotEndpoint?.leaveGroup(this.#info.group)
    this.#hello(0)
    this.#drain()
    this.#checkGap()
    const joinMs = performance.now() - this.#joinStartedMs
    this.emit('synced', {
      seq: this.seq,
      leaves: this.#store.size,
      session: this.#session?.hex ?? '',
      joinMs,
    })
    this.#synced.resolve()
  }

  #snapshotNack(collector: SnapshotCollector<K, L>, parts: number[]): void {
    const w = new ByteWriter(Buffer.allocUnsafe(HEADER_BYTES + 8 + parts.length * 4))
    writeHeader(w, Kind.SNAPSHOT_NACK, this.#ids(), collector.cut)
    writeSnapshotNack(w, collector.cycle, parts)
    this.#sendControl(w)
  }

  // ── receiving ──────────────────────────────────────────────────────────────────────────────

  #onDatagram(bytes: Buffer, from: DatagramAddress): void {
    if (this.#status === 'closed') return
    const header = this.#header
    const problem = parseHeader(bytes, header)
    if (problem !== undefined) {
      this.#stats.malformed++
      return
    }
    if (header.kind === Kind.INFO) {
      this.#onInfoPacket(bytes, from)
      return
    }
    if (!header.sameFingerprint(this.#selfIds)) {
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
      this.#status = this.#next === 0 ? 'joining' : 'live'
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
        const retransmit = ((bytes[start + 8] as number) & 2) !== 0
        this.#onSnapshot(r, seq, retransmit, end - start)
        return
      }
      case Kind.UNRECOVERABLE: {
        const u = readUnrecoverable(r)
        if (u.what === 'snapshot') {
          if (this.#collector?.cycle === u.cycle) this.#collector = undefined
          return
        }
        if (this.#status === 'live' && seq <= this.#known && seq >= this.#next) this.#resync('unrecoverable')
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
    if (last > this.#known) this.#known = last
    if (this.#status === 'live' && last < this.#next) {
      this.#stats.duplicates += count
      return
    }
    const live = this.#status === 'live'
    for (let i = 0; i < count; i++) {
      const seq = first + i
      const delta = this.codec.decodeDelta(r)
      if (live && seq === this.#next) {
        this.#apply(seq, delta)
        this.#next++
      } else if (live && seq < this.#next) {
        this.#stats.duplicates++
      } else if (this.#window.has(seq)) {
        this.#stats.duplicates++
      } else {
        if (live) this.#stats.outOfOrder++
        this.#window.set(seq, delta)
        if (this.#window.size > this.#o.maxBufferedDeltas) {
          this.#resync('overflow')
          return
        }
      }
    }
    if (r.remaining !== 0) r.fail(`${r.remaining} bytes after the last delta`)
    if (this.#status === 'live') {
      if (this.#window.size > 0) this.#drain()
      this.#checkGap()
    }
  }

  #apply(seq: number, delta: Delta<K, L, P>): void {
    const previous = this.#store.apply(delta)
    this.#stats.deltas++
    if (this.listenerCount('change') > 0) {
      this.emit('change', {
        seq,
        op: delta.op,
        key: delta.op === 'clear' ? undefined : delta.key,
        leaf: delta.op === 'clear' ? undefined : this.#store.leaves.get(delta.key),
        previous,
      })
    }
  }

  /** Applies what the window holds from `next` on. */
  #drain(): void {
    let delta = this.#window.get(this.#next)
    while (delta !== undefined) {
      this.#window.delete(this.#next)
      this.#apply(this.#next, delta)
      this.#next++
      delta = this.#window.get(this.#next)
    }
  }

  #onHeartbeat(r: ByteReader, last: number): void {
    const heartbeat = readHeartbeat(r)
    if (heartbeat.flags & HEARTBEAT_CLOSING) {
      this.#closedSession = true
      this.#markStale(0)
    }
    if (last > this.#known) this.#known = last
    if (this.#status === 'joining') {
      const collector = this.#collector
      if (collector && heartbeat.cycle !== collector.cycle) {
        const missing = collector.missing(true)
        if (missing.length > 0) this.#snapshotNack(collector, missing)
      }
      return
    }
    if (this.#status !== 'live') return
    if (last === this.seq) {
      if (heartbeat.digest !== this.#store.digest || heartbeat.leaves !== this.#store.size)
        this.#resync('digest')
      return
    }
    this.#checkGap()
  }

  #onInfoPacket(bytes: Buffer, from: DatagramAddress): void {
    let info: FeedInfo
    try {
      info = readInfo(new ByteReader(bytes, HEADER_BYTES))
    } catch {
      this.#stats.malformed++
      return
    }
    if (this.#onInfo) {
      this.#onInfo(this.#header, info, from)
      return
    }
    // After start: an answer to a rediscovery. A new session of our state is a restarted publisher.
    const header = this.#header
    if (!header.sameFingerprint(this.#selfIds)) {
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
      const old = this.#info
      this.#info = info
      this.#heartbeatMs = info.heartbeatMs
      if (
        info.transport !== 'unicast' &&
        (old?.dataPort !== info.dataPort ||
          old.group !== info.group ||
          old.snapshotPort !== info.snapshotPort)
      ) {
        if (old && old.transport !== 'unicast') this.#snapshotEndpoint?.leaveGroup(old.group)
        await Promise.all([this.#data?.close(), this.#snapshotEndpoint?.close()])
        if (this.#status === 'closed') return
        const data = await this.#network.bind(this.#groupBind(info, info.dataPort))
        this.#data = data
        data.onMessage((bytes, source) => this.#onDatagram(bytes, source))
        data.onError(() => undefined)
        data.joinGroup(info.group)
        const snapshot = await this.#network.bind(this.#groupBind(info, info.snapshotPort))
        this.#snapshotEndpoint = snapshot
        snapshot.onMessage((bytes, source) => this.#onDatagram(bytes, source))
        snapshot.onError(() => undefined)
      }
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
      for (const candidate of candidates) {
        const at = candidate.lastIndexOf(':')
        this.#sendHello({ host: candidate.slice(0, at), port: Number(candidate.slice(at + 1)) }, 0)
      }
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

  // ── gaps and NACKs ─────────────────────────────────────────────────────────────────────────

  #checkGap(): void {
    if (this.#known < this.#next) {
      this.#clearGap()
      return
    }
    if (this.#missingSinceMs === 0) {
      this.#missingSinceMs = performance.now()
      this.#stats.gaps++
    }
    if (this.#known - this.#next >= this.#o.maxBufferedDeltas) {
      this.#resync('overflow')
      return
    }
    if (!this.#nackTimer) {
      this.#nackTimer = setTimeout(() => this.#nack(), Math.random() * this.#o.nackDelayMs)
    }
  }

  #clearGap(): void {
    this.#missingSinceMs = 0
    this.#nackTries = 0
    clearTimeout(this.#nackTimer)
    this.#nackTimer = undefined
  }

  #nack(): void {
    this.#nackTimer = undefined
    if (this.#status !== 'live' || this.#known < this.#next) {
      this.#clearGap()
      return
    }
    if (this.#nackTries >= this.#o.nackAttempts) {
      this.#resync('nack-attempts')
      return
    }
    const ranges: SeqRange[] = []
    let from = 0
    for (let seq = this.#next; seq <= this.#known + 1 && ranges.length < 64; seq++) {
      const missing = seq <= this.#known && !this.#window.has(seq)
      if (missing && from === 0) from = seq
      if (!missing && from !== 0) {
        ranges.push({ from, count: seq - from })
        from = 0
      }
    }
    if (ranges.length > 0) {
      this.#nackTries++
      this.#stats.nacks++
      const w = new ByteWriter(Buffer.allocUnsafe(HEADER_BYTES + 2 + ranges.length * 12))
      writeHeader(w, Kind.NACK, this.#ids(), 0)
      writeNack(w, ranges)
      this.#sendControl(w)
    }
    this.#nackTimer = setTimeout(() => this.#nack(), this.#o.nackRetryMs * 2 ** Math.min(this.#nackTries, 4))
  }

  // ── timers and sending ─────────────────────────────────────────────────────────────────────

  #tick(): void {
    const silentMs = performance.now() - this.#lastHeardMs
    if (this.#status !== 'stale' && silentMs > this.#heartbeatMs * this.#o.deadAfterHeartbeats)
      this.#markStale(silentMs)
    if (this.#status === 'stale') this.#rediscover()
    if (this.#status === 'joining') {
      this.#hello(HELLO_CAROUSEL)
      const collector = this.#collector
      if (collector) {
        const missing = collector.missing(true)
        if (missing.length > 0) this.#snapshotNack(collector, missing)
      }
    } else if (this.#info?.transport === 'unicast') this.#hello(0)
    if (replicaStatsChannel.hasSubscribers) replicaStatsChannel.publish(this.stats)
  }

  #markStale(silentMs: number): void {
    if (this.#status === 'stale' || this.#status === 'closed') return
    this.#status = 'stale'
    if (this.listenerCount('stale') > 0) this.emit('stale', { silentMs })
  }

  #hello(flags: number): void {
    if (this.#publisher) this.#sendHello(this.#publisher, flags)
  }

  #sendHello(to: DatagramAddress, flags: number): void {
    const unicast = this.#info?.transport === 'unicast'
    const w = new ByteWriter(Buffer.allocUnsafe(HEADER_BYTES + 1))
    writeHeader(w, Kind.HELLO, this.#ids(), 0)
    w.u8(flags | (unicast && !(flags & HELLO_LEAVE) ? HELLO_SUBSCRIBE : 0))
    seal(w.buf, 0, w.pos)
    this.#control?.send(w.buf.subarray(0, w.pos), to)
  }

  #sendControl(w: ByteWriter): void {
    seal(w.buf, 0, w.pos)
    if (this.#publisher) this.#control?.send(w.buf.subarray(0, w.pos), this.#publisher)
  }

  /** Our packets carry the session we follow and the codec's fingerprint. */
  #ids(): FeedIds {
    return this.#selfIds
  }
}
