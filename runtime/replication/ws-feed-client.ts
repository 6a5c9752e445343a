import { EventEmitter } from 'node:events'
import { GrenacheError } from '../errors.js'
import { ByteWriter } from '../state/byte-writer.js'
import type { StateCodec } from '../state/types.js'
import { type CallOptions, createDeadline, raceSignal } from '../util/deadline.js'
import { LeafStore } from './leaf-store.js'
import type { ReplicaChange } from './replica.js'
import { resolveWsFeedClientOptions, type WsFeedClientOptions } from './ws-feed-client-options.js'
import { WsFeedConnection } from './ws-feed-connection.js'
import { decodeFrame, WS_FEED_VERSION, type WsFeedFrame, type WsFeedResetReason } from './ws-feed-frame.js'

export type { WsFeedClientOptions }

export type WsFeedClientStatus = 'idle' | 'connecting' | 'joining' | 'live' | 'closed'

export interface WsFeedClientEvents<K, L, P = Partial<L>> {
  change: [change: ReplicaChange<K, L, P>]
  /** A snapshot was installed (first connection, after a reconnect, after a `reset`). */
  synced: [info: { seq: number; leaves: number; session: string }]
  /** The server's state is being replaced (its upstream resynced or restarted); a snapshot follows. */
  reset: [info: { reason: WsFeedResetReason }]
  /** An open connection closed; the client reconnects unless it was closed. */
  disconnected: [info: { code: number; reason: string; error: GrenacheError | undefined }]
  /** The client stopped: `close()` was called, or it gave up (`error` says why). */
  close: [error?: GrenacheError]
}

export interface WsFeedClientStats {
  /** Frames received. */
  frames: number
  /** Deltas applied. */
  deltas: number
  /** Snapshots installed. */
  snapshots: number
  /** Reconnections scheduled (after a drop or a failed attempt). */
  reconnects: number
  /** Deltas frames that did not follow the last seq (each dropped the connection). */
  gaps: number
  /** Frames that could not be decoded, and snapshots whose digest or count was wrong. */
  malformed: number
  seq: number
  leaves: number
  /** The digest of the leaves: equal to the publisher's `stats.digest` at the same seq. */
  digest: number
  status: WsFeedClientStatus
}

function deferred(): { promise: Promise<void>; resolve: () => void; reject: (error: unknown) => void } {
  const handle = {} as ReturnType<typeof deferred>
  handle.promise = new Promise<void>((resolve, reject) => Object.assign(handle, { resolve, reject }))
  return handle
}

/**
 * A consumer of a repeater's WebSocket feed, for readers outside the LAN: connects, checks the
 * server's fingerprint (`ERR_FEED_INCOMPATIBLE`), installs the snapshot, applies deltas in seq
 * order and reconnects with a bounded backoff (a fresh snapshot each time; a gap in seqs, which
 * TCP cannot make, is treated the same way). Reads as a `Replica`: `get`, `size`, `seq`, `leaves`.
 */
export class WsFeedClient<K, L, P = Partial<L>> extends EventEmitter<WsFeedClientEvents<K, L, P>> {
  readonly codec: StateCodec<K, L, P>
  readonly #connection: WsFeedConnection
  readonly #stats = { frames: 0, deltas: 0, snapshots: 0, gaps: 0, malformed: 0 }
  readonly #helloWaiters = new Set<(error?: GrenacheError) => void>()
  readonly #synced = deferred()
  #store: LeafStore<K, L, P>
  #status: WsFeedClientStatus = 'idle'
  #seq = 0
  #session: string | undefined
  /** The connection's HELLO was accepted. */
  #hello = false
  #started: Promise<void> | undefined
  #closing: Promise<void> | undefined

  constructor(codec: StateCodec<K, L, P>, options: WsFeedClientOptions) {
    super()
    this.codec = codec
    this.#connection = new WsFeedConnection(codec.feed, resolveWsFeedClientOptions(options), {
      message: (data) => this.#onMessage(data),
      disconnected: (info) => {
        this.#hello = false
        this.#status = 'connecting'
        this.emit('disconnected', info)
      },
      failed: (error) => this.#fail(error),
    })
    this.#store = this.#newStore()
    this.#synced.promise.catch(() => undefined)
  }

  get status(): WsFeedClientStatus {
    return this.#status
  }

  /** The last seq applied (0 before the first snapshot). */
  get seq(): number {
    return this.#seq
  }

  get size(): number {
    return this.#store.size
  }

  /** The upstream session of the state held (hex), once synced. */
  get session(): string | undefined {
    return this.#session
  }

  /** The leaves, read-only (a new map after each snapshot). */
  get leaves(): ReadonlyMap<K, L> {
    return this.#store.leaves
  }

  get(key: K): L | undefined {
    return this.#store.get(key)
  }

  has(key: K): boolean {
    return this.#store.leaves.has(key)
  }

  entries(): IterableIterator<[K, L]> {
    return this.#store.leaves.entries()
  }

  /** Counters, and the digest of the leaves (equal to the publisher's at the same seq). */
  get stats(): WsFeedClientStats {
    return {
      ...this.#stats,
      reconnects: this.#connection.reconnects,
      seq: this.#seq,
      leaves: this.#store.size,
      digest: this.#store.digest,
      status: this.#status,
    }
  }

  /**
   * Connects (retrying with the backoff) until the server's HELLO is accepted. Rejects with
   * `ERR_FEED_INCOMPATIBLE`, or when the deadline (default 10 s) passes; the client is then closed.
   */
  start(options?: CallOptions): Promise<void> {
    if (this.#closing) return Promise.reject(new GrenacheError('ERR_CLOSED', 'the ws feed client is closed'))
    this.#started ??= this.#start(options)
    return this.#started
  }

  async #start(options: CallOptions | undefined): Promise<void> {
    const deadline = createDeadline(options, 10_000, `${this.codec.feed} ws feed client: start()`)
    const hello = new Promise<void>((resolve, reject) => {
      this.#helloWaiters.add((error) => (error ? reject(error) : resolve()))
    })
    this.#status = 'connecting'
    this.#connection.start()
    try {
      await raceSignal(hello, deadline.signal)
    } catch (err) {
      const last = this.#connection.lastError
      const error =
        deadline.signal.aborted && last
          ? new GrenacheError(
              deadline.reason().code,
              `${deadline.reason().message} (last: ${last.message})`,
              {
                cause: last,
              },
            )
          : (err as GrenacheError)
      this.#fail(error)
      await this.#closing
      throw error
    } finally {
      deadline.dispose()
    }
  }

  /** Resolves when the first snapshot is installed. */
  async synced(options?: CallOptions): Promise<void> {
    const deadline = createDeadline(options, 30_000, `${this.codec.feed} ws feed client: synced()`)
    try {
      await raceSignal(this.#synced.promise, deadline.signal)
    } finally {
      deadline.dispose()
    }
  }

  /** Stops reconnecting and closes the connection. Idempotent. */
  close(): Promise<void> {
    this.#closing ??= this.#shutdown(undefined)
    return this.#closing
  }

  /** Closes for good: `start()` and `synced()` reject with `error`, `close` carries it. */
  #fail(error: GrenacheError): void {
    this.#closing ??= this.#shutdown(error)
  }

  async #shutdown(error: GrenacheError | undefined): Promise<void> {
    const closed = new GrenacheError('ERR_CLOSED', 'the ws feed client closed')
    for (const waiter of this.#helloWaiters) waiter(error ?? closed)
    this.#helloWaiters.clear()
    this.#synced.reject(error ?? closed)
    await this.#connection.close(error?.code === 'ERR_FEED_INCOMPATIBLE' ? 1008 : 1000)
    this.#status = 'closed'
    if (error) this.emit('close', error)
    else this.emit('close')
  }

  #newStore(): LeafStore<K, L, P> {
    return new LeafStore(this.codec, new ByteWriter(this.codec.maxKeyBytes + this.codec.maxLeafBytes + 16))
  }

  #onMessage(data: Buffer): void {
    if (this.#closing) return
    this.#stats.frames++
    let frame: WsFeedFrame<K, L, P>
    try {
      frame = decodeFrame(this.codec, data)
    } catch (err) {
      this.#stats.malformed++
      this.#connection.drop(err as GrenacheError)
      return
    }
    if (frame.kind === 'hello') this.#onHello(frame)
    else if (!this.#hello) this.#protocol('a frame before HELLO')
    else if (frame.kind === 'snapshot') this.#install(frame)
    else if (frame.kind === 'deltas') this.#apply(frame)
    else {
      this.#status = 'joining'
      this.emit('reset', { reason: frame.reason })
    }
  }

  #onHello(frame: Extract<WsFeedFrame<K, L, P>, { kind: 'hello' }>): void {
    const { fingerprint, feed } = this.codec
    if (frame.version !== WS_FEED_VERSION || frame.fingerprint !== fingerprint || frame.feed !== feed) {
      this.#fail(
        new GrenacheError(
          'ERR_FEED_INCOMPATIBLE',
          `the ws feed serves ${frame.feed} (fingerprint ${frame.fingerprint}, protocol ${frame.version}), this client reads ${feed} (fingerprint ${fingerprint}, protocol ${WS_FEED_VERSION}): the state layouts differ`,
        ),
      )
      return
    }
    this.#hello = true
    this.#status = 'joining'
    for (const waiter of this.#helloWaiters) waiter()
    this.#helloWaiters.clear()
  }

  #install(frame: Extract<WsFeedFrame<K, L, P>, { kind: 'snapshot' }>): void {
    const fresh = this.#newStore()
    for (const [key, leaf] of frame.entries) fresh.set(key, leaf)
    if (fresh.digest !== frame.digest >>> 0 || fresh.size !== frame.entries.length) {
      this.#stats.malformed++
      this.#protocol(`a snapshot whose digest or leaf count is wrong (seq ${frame.seq})`)
      return
    }
    this.#store = fresh
    this.#seq = frame.seq
    this.#session = frame.session
    this.#status = 'live'
    this.#stats.snapshots++
    this.#connection.succeeded()
    this.emit('synced', { seq: frame.seq, leaves: fresh.size, session: frame.session })
    this.#synced.resolve()
  }

  #apply(frame: Extract<WsFeedFrame<K, L, P>, { kind: 'deltas' }>): void {
    if (this.#status !== 'live') {
      this.#protocol('deltas before a snapshot')
      return
    }
    if (frame.first !== this.#seq + 1) {
      this.#stats.gaps++
      this.#protocol(`deltas from seq ${frame.first} after seq ${this.#seq}`)
      return
    }
    const listening = this.listenerCount('change') > 0
    for (const delta of frame.deltas) {
      const previous = this.#store.apply(delta)
      const seq = ++this.#seq
      this.#stats.deltas++
      if (!listening) continue
      const key = delta.op === 'clear' ? undefined : delta.key
      const leaf = key === undefined ? undefined : this.#store.get(key)
      this.emit('change', { seq, op: delta.op, key, leaf, previous, delta })
    }
  }

  /** Drops a connection that broke the protocol; the next one starts with a fresh snapshot. */
  #protocol(problem: string): void {
    this.#status = 'connecting'
    this.#connection.drop(new GrenacheError('ERR_DECODE', `${this.codec.feed} ws feed client: ${problem}`))
  }
}
