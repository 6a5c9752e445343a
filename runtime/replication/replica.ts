import { EventEmitter } from 'node:events'
import { GrenacheError, toGrenacheError } from '../errors.js'
import type { ByteReader } from '../state/byte-reader.js'
import { ByteWriter } from '../state/byte-writer.js'
import type { Delta, StateCodec } from '../state/types.js'
import { type CallOptions, createDeadline, raceSignal } from '../util/deadline.js'
import { FeedSockets } from './feed-sockets.js'
import {
  HEADER_BYTES,
  HEARTBEAT_CLOSING,
  HELLO_LEAVE,
  type Heartbeat,
  Kind,
  type Unrecoverable,
  writeHeader,
  writeNack,
} from './packet.js'
import type { ReplicaChange, ReplicaEvents, ResyncReason } from './replica-events.js'
import { ReplicaJoin } from './replica-join.js'
import { ReplicaLiveness } from './replica-liveness.js'
import { type ReplicaOptions, type ResolvedReplicaOptions, resolveReplicaOptions } from './replica-options.js'
import { ReplicaReceiver } from './replica-receive.js'
import { ReplicaStore } from './replica-store.js'
import { ReplicaUpstream } from './replica-upstream.js'
import { type Encoded, Sequencer } from './sequencer.js'
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
  readonly #store: ReplicaStore<K, L, P>
  readonly #stats = replicaStats()
  readonly #sockets: FeedSockets
  readonly #sequencer: Sequencer<Delta<K, L, P>>
  readonly #receiver: ReplicaReceiver<K, L, P>
  readonly #joiner: ReplicaJoin<K, L, P>
  readonly #liveness: ReplicaLiveness
  readonly #upstream: ReplicaUpstream
  #status: Status = 'idle'
  #started: Promise<void> | undefined
  #closing: Promise<void> | undefined
  readonly #synced: { promise: Promise<void>; resolve: () => void; reject: (e: unknown) => void }

  constructor(codec: StateCodec<K, L, P>, options: ReplicaOptions) {
    super()
    this.codec = codec
    this.#o = resolveReplicaOptions(options)
    this.#store = new ReplicaStore(codec, new ByteWriter(codec.maxKeyBytes + codec.maxLeafBytes + 16))
    this.#sockets = new FeedSockets(this.#o.network, (bytes, from) => {
      if (this.#status !== 'closed') this.#receiver.datagram(bytes, from)
    })
    this.#liveness = new ReplicaLiveness(this.#o.deadAfterHeartbeats)
    this.#upstream = new ReplicaUpstream(
      {
        feedName: this.feedName,
        fingerprint: codec.fingerprint,
        publisher: this.#o.publisher,
        link: this.#o.link,
        host: this.#o.host,
      },
      this.#sockets,
      this.#liveness,
      this.#stats,
      {
        stale: () => this.#status === 'stale',
        closed: () => this.#status === 'closed',
        restarted: () => this.#resync('restart'),
      },
    )
    this.#joiner = new ReplicaJoin(codec, this.#o.join, this.#stats, {
      install: (cut, store) => this.#install(cut, store),
      rejected: (cut) => this.#resynced('snapshot', cut),
      joining: () => this.#status === 'joining',
      ids: () => this.#upstream.ids,
      hello: (flags) => this.#upstream.hello(flags),
      send: (w) => this.#upstream.send(w),
      snapshots: (on) => this.#sockets.snapshots(on),
    })
    this.#sequencer = new Sequencer(
      {
        apply: (seq, delta, encoded) => this.#apply(seq, delta, encoded),
        nack: (ranges) => {
          const w = new ByteWriter(Buffer.allocUnsafe(HEADER_BYTES + 2 + ranges.length * 12))
          writeHeader(w, Kind.NACK, this.#upstream.ids, 0)
          writeNack(w, ranges)
          this.#upstream.send(w)
        },
        giveUp: (reason) => this.#resync(reason),
      },
      this.#o,
      this.#stats,
    )
    this.#receiver = new ReplicaReceiver(codec, this.#sequencer, this.#stats, {
      ids: () => this.#upstream.ids,
      session: () => this.#upstream.session,
      info: (header, info, from) => this.#upstream.info(header, info, from),
      adopt: (header, from) => {
        if (!this.#liveness.mayAdopt(header)) return false
        this.#upstream.adopt(header, from)
        this.#resync('restart')
        return true
      },
      heard: () => this.#heard(),
      heartbeat: (heartbeat, last) => this.#onHeartbeat(heartbeat, last),
      snapshot: (r, cut, retransmit, bytes) => this.#onSnapshot(r, cut, retransmit, bytes),
      unrecoverable: (lost, seq) => this.#onUnrecoverable(lost, seq),
    })
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
    return this.#upstream.session?.hex
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
    if (this.#sockets.info?.transport === 'unicast') this.#upstream.hello(HELLO_LEAVE)
    this.#synced.reject(new GrenacheError('ERR_CLOSED', 'the replica closed before it was in sync'))
    await this.#shutdown()
    this.#status = 'closed'
    this.emit('close')
  }

  async #shutdown(): Promise<void> {
    this.#liveness.stop()
    this.#sequencer.close()
    this.#receiver.clear()
    await this.#sockets.close()
  }

  // ── start and discovery ────────────────────────────────────────────────────────────────────

  async #start(options: CallOptions | undefined): Promise<void> {
    const deadline = createDeadline(options, 10_000, `${this.codec.feed} replica: start()`)
    try {
      await this.#upstream.find(deadline.signal)
      this.#join()
      this.#liveness.start(() => this.#tick())
    } catch (err) {
      throw deadline.signal.aborted
        ? deadline.reason()
        : toGrenacheError(err, `${this.codec.feed} replica: start()`)
    } finally {
      deadline.dispose()
    }
  }

  // ── joining ────────────────────────────────────────────────────────────────────────────────

  #join(): void {
    this.#status = 'joining'
    this.#sequencer.reset()
    this.#joiner.begin(this.#sockets.info, this.#upstream.address, this.#upstream.session?.hex ?? '')
  }

  #resync(reason: ResyncReason): void {
    this.#resynced(reason, this.seq)
    this.#join()
  }

  /** Counts a resync and tells the listeners. */
  #resynced(reason: ResyncReason, seq: number): void {
    this.#stats.resyncs++
    if (this.listenerCount('resync') > 0) this.emit('resync', { reason, seq })
  }

  /** Installs a checked cut (the stores trade contents, no copy), then goes live. */
  #install(cut: number, fresh: ReplicaStore<K, L, P>): void {
    this.#store.swap(fresh)
    this.#status = 'live'
    this.#sockets.snapshots(false)
    this.#upstream.hello(0)
    // `synced` (at the cut) comes before the `change`s of the deltas buffered past it.
    this.#sequencer.begin(cut)
    const joinMs = this.#joiner.elapsedMs
    this.emit('synced', {
      seq: cut,
      leaves: this.#store.size,
      session: this.#upstream.session?.hex ?? '',
      joinMs,
    })
    this.#synced.resolve()
    this.#sequencer.settle()
  }

  // ── receiving ──────────────────────────────────────────────────────────────────────────────

  /** A packet of the session followed came. */
  #heard(): void {
    this.#liveness.heard()
    if (this.#status === 'stale') {
      this.#status = this.#sequencer.live ? 'live' : 'joining'
      this.emit('live')
    }
  }

  #onSnapshot(r: ByteReader, cut: number, retransmit: boolean, bytes: number): void {
    if (this.#status === 'joining') this.#joiner.part(r, cut, retransmit, bytes)
  }

  #onUnrecoverable(lost: Unrecoverable, seq: number): void {
    if (lost.what === 'snapshot') {
      this.#joiner.lost(lost.cycle)
    } else if (this.#status === 'live' && seq >= this.#sequencer.next) this.#resync('unrecoverable')
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

  #onHeartbeat(heartbeat: Heartbeat, last: number): void {
    if (heartbeat.flags & HEARTBEAT_CLOSING) {
      this.#liveness.closing()
      this.#markStale(0)
    }
    this.#sequencer.saw(last)
    if (this.#status === 'joining') {
      this.#joiner.heartbeat(heartbeat.cycle)
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
    const silentMs = this.#liveness.silentMs
    if (this.#status !== 'stale' && this.#liveness.dead(silentMs)) this.#markStale(silentMs)
    if (this.#status === 'stale') this.#upstream.rediscover()
    if (this.#status === 'joining' && !this.#joiner.streaming) this.#joiner.tick()
    else if (this.#sockets.info?.transport === 'unicast') this.#upstream.hello(0)
    if (replicaStatsChannel.hasSubscribers) replicaStatsChannel.publish(this.stats)
  }

  #markStale(silentMs: number): void {
    if (this.#status === 'stale' || this.#status === 'closed') return
    this.#status = 'stale'
    if (this.listenerCount('stale') > 0) this.emit('stale', { silentMs })
  }
}
