import { EventEmitter } from 'node:events'
import type { IncomingMessage } from 'node:http'
import { debuglog } from 'node:util'
import type WebSocket from 'ws'
import { GrenacheError } from '../errors.js'
import type { Delta, StateCodec } from '../state/types.js'
import { WsEndpoint } from '../transport/ws/endpoint.js'
import {
  DeltaFrameWriter,
  encodeHello,
  encodeReset,
  encodeSnapshotFrame,
  type WsFeedResetReason,
  type WsFeedState,
} from './ws-feed-frame.js'
import {
  type ResolvedWsFeedServerOptions,
  resolveWsFeedServerOptions,
  type WsFeedServerOptions,
} from './ws-feed-server-options.js'

export type { WsFeedServerOptions }

const debug = debuglog('grenache')

/** The close code of a consumer dropped for reading too slowly (4000–4999: private use). */
export const WS_FEED_SLOW_CODE = 4008

/** A DELTAS frame is sent as soon as it holds this many bytes, without waiting for the tick's end. */
const MAX_FRAME_BYTES = 1 << 20
/** Consumers send nothing; a bound anyway (ws closes a larger message with 1009). */
const MAX_INCOMING_BYTES = 1024
/** How long a consumer closed for being slow may take to read its close frame before it is destroyed. */
const SLOW_CLOSE_GRACE_MS = 1000

export interface WsFeedServerEvents {
  'consumer:open': [info: { remote: string; consumers: number }]
  'consumer:close': [info: { remote: string; consumers: number; code: number; reason: string }]
  /** A consumer passed `maxBufferedBytes` and is being closed. */
  'consumer:slow': [info: { remote: string; bufferedBytes: number }]
}

export interface WsFeedServerStats {
  /** Consumers connected now. */
  consumers: number
  /** Frames sent (a frame sent to three consumers counts three times). */
  frames: number
  /** Bytes of those frames. */
  bytes: number
  /** Snapshots sent. */
  snapshots: number
  /** Consumers closed for reading too slowly. */
  slow: number
}

interface Consumer {
  readonly socket: WebSocket
  readonly remote: string
  /** Has the current state (a snapshot, then every delta since): receives DELTAS frames. */
  live: boolean
  /** Answered the last ping. */
  alive: boolean
  /** Bytes of a snapshot still being sent, allowed over `maxBufferedBytes` (0 once the queue is below it). */
  allowance: number
}

/**
 * Serves a replicated state to WebSocket consumers: each gets HELLO (fingerprint and feed), a
 * snapshot of the current state, then every delta with its seq, the deltas of one tick in one
 * frame (`ws-feed-frame.ts`). `source()` says what the state is now (undefined while it is not
 * known: consumers then wait); `delta()` queues a change, `reset()` tells consumers the state is
 * being replaced and `sync()` sends them the new one.
 */
export class WsFeedServer<K, L, P = Partial<L>> extends EventEmitter<WsFeedServerEvents> {
  readonly codec: StateCodec<K, L, P>
  readonly #source: () => WsFeedState<K, L> | undefined
  readonly #o: ResolvedWsFeedServerOptions
  readonly #consumers = new Set<Consumer>()
  readonly #batch: DeltaFrameWriter<K, L, P>
  readonly #hello: Buffer
  readonly #timers = new Set<NodeJS.Timeout>()
  readonly #stats = { frames: 0, bytes: 0, snapshots: 0, slow: 0 }
  #endpoint: WsEndpoint | undefined
  #flushScheduled: NodeJS.Immediate | undefined
  #pingTimer: NodeJS.Timeout | undefined
  #started: Promise<{ host: string; port: number }> | undefined
  #closing: Promise<void> | undefined

  constructor(
    codec: StateCodec<K, L, P>,
    source: () => WsFeedState<K, L> | undefined,
    options: WsFeedServerOptions = {},
  ) {
    super()
    this.codec = codec
    this.#source = source
    this.#o = resolveWsFeedServerOptions(options)
    this.#batch = new DeltaFrameWriter(codec)
    this.#hello = encodeHello(codec)
  }

  /** The bound port (0 before `start()` resolved). */
  get port(): number {
    return this.#endpoint?.port ?? 0
  }

  /** `ws://host:port/path` (or `wss://`), after `start()`. */
  get url(): string {
    return `${this.#o.tls ? 'wss' : 'ws'}://${this.#o.host}:${this.port}${this.#o.path}`
  }

  get stats(): WsFeedServerStats {
    return { consumers: this.#consumers.size, ...this.#stats }
  }

  /** Listens; resolves with the bound address. Idempotent. */
  start(): Promise<{ host: string; port: number }> {
    if (this.#closing) return Promise.reject(new GrenacheError('ERR_CLOSED', 'the ws feed server is closed'))
    this.#started ??= this.#start()
    return this.#started
  }

  async #start(): Promise<{ host: string; port: number }> {
    const endpoint = new WsEndpoint(
      {
        kind: this.#o.tls ? 'wss' : 'ws',
        host: this.#o.host,
        port: this.#o.port,
        tls: this.#o.tls,
        maxPayload: MAX_INCOMING_BYTES,
        role: `${this.codec.feed} ws feed`,
        limits: this.#o.limits,
      },
      (socket, request) => this.#onConnection(socket, request),
    )
    const path = this.#o.path
    // ws's documented hook: which upgrade requests this server takes (others get HTTP 400).
    endpoint.wss.shouldHandle = (request) => (request.url ?? '/').split('?')[0] === path
    this.#endpoint = endpoint
    const port = await endpoint.listen()
    if (this.#o.pingIntervalMs > 0) this.#pingTimer = setInterval(() => this.#ping(), this.#o.pingIntervalMs)
    return { host: this.#o.host, port }
  }

  /** Queues the delta of `seq` for every consumer that has the state; sent at the end of the tick. */
  delta(seq: number, delta: Delta<K, L, P>): void {
    // Nobody to send it to: a consumer that comes later gets a snapshot that holds it.
    if (this.#closing || this.#consumers.size === 0) return
    if (!this.#batch.add(seq, delta)) {
      this.flush()
      this.#batch.add(seq, delta)
    }
    if (this.#batch.bytes >= MAX_FRAME_BYTES) this.flush()
    else this.#flushScheduled ??= setImmediate(() => this.flush())
  }

  /** Sends the queued deltas now. */
  flush(): void {
    if (this.#flushScheduled) clearImmediate(this.#flushScheduled)
    this.#flushScheduled = undefined
    const frame = this.#batch.take()
    if (!frame) return
    for (const consumer of this.#consumers) if (consumer.live) this.#send(consumer, frame)
  }

  /**
   * The state is being replaced (the upstream resynced or restarted): queued deltas are dropped and
   * every consumer that had the state gets RESET; `sync()` sends the new state.
   */
  reset(reason: WsFeedResetReason): void {
    if (this.#flushScheduled) clearImmediate(this.#flushScheduled)
    this.#flushScheduled = undefined
    this.#batch.clear()
    const frame = encodeReset(reason)
    for (const consumer of this.#consumers) {
      if (!consumer.live) continue
      consumer.live = false
      this.#send(consumer, frame)
    }
  }

  /** Sends the current state to every consumer waiting for it (after `reset()`, or that joined meanwhile). */
  sync(): void {
    this.flush()
    let snapshot: Buffer | undefined
    for (const consumer of this.#consumers) {
      if (consumer.live || consumer.socket.readyState !== consumer.socket.OPEN) continue
      snapshot ??= this.#snapshot()
      if (!snapshot) return
      this.#sendSnapshot(consumer, snapshot)
    }
  }

  /** Closes every consumer (code 1001) and the server. Idempotent. */
  close(): Promise<void> {
    this.#closing ??= this.#close()
    return this.#closing
  }

  async #close(): Promise<void> {
    await this.#started?.catch(() => undefined)
    if (this.#flushScheduled) clearImmediate(this.#flushScheduled)
    this.#flushScheduled = undefined
    clearInterval(this.#pingTimer)
    await this.#endpoint?.closeSockets()
    for (const timer of this.#timers) clearTimeout(timer)
    this.#timers.clear()
  }

  #onConnection(socket: WebSocket, request: IncomingMessage): void {
    if (this.#closing) {
      socket.close(1001, 'closing')
      return
    }
    const consumer: Consumer = {
      socket,
      remote: `${request.socket.remoteAddress}:${request.socket.remotePort}`,
      live: false,
      alive: true,
      allowance: 0,
    }
    this.#consumers.add(consumer)
    socket.on('pong', () => {
      consumer.alive = true
    })
    socket.on('close', (code: number, reason: Buffer) => {
      this.#consumers.delete(consumer)
      const { remote } = consumer
      this.emit('consumer:close', { remote, consumers: this.#consumers.size, code, reason: `${reason}` })
    })
    this.emit('consumer:open', { remote: consumer.remote, consumers: this.#consumers.size })
    this.#send(consumer, this.#hello)
    // Deltas queued before this consumer came are in the snapshot: send them to the others first.
    this.flush()
    const snapshot = this.#snapshot()
    if (snapshot) this.#sendSnapshot(consumer, snapshot)
  }

  #snapshot(): Buffer | undefined {
    const state = this.#source()
    return state ? encodeSnapshotFrame(this.codec, state) : undefined
  }

  #sendSnapshot(consumer: Consumer, snapshot: Buffer): void {
    consumer.live = true
    consumer.allowance = snapshot.length
    this.#stats.snapshots++
    this.#send(consumer, snapshot)
  }

  #send(consumer: Consumer, frame: Buffer): void {
    const socket = consumer.socket
    if (socket.readyState !== socket.OPEN) return
    socket.send(frame)
    this.#stats.frames++
    this.#stats.bytes += frame.length
    const buffered = socket.bufferedAmount
    const max = this.#o.maxBufferedBytes
    if (buffered <= max) consumer.allowance = 0
    else if (buffered > max + consumer.allowance) this.#dropSlow(consumer, buffered)
  }

  #dropSlow(consumer: Consumer, bufferedBytes: number): void {
    this.#stats.slow++
    consumer.live = false
    debug('%s ws feed: closing %s, %d bytes queued', this.codec.feed, consumer.remote, bufferedBytes)
    this.emit('consumer:slow', { remote: consumer.remote, bufferedBytes })
    const socket = consumer.socket
    socket.close(
      WS_FEED_SLOW_CODE,
      `too slow: ${bufferedBytes} bytes queued, over maxBufferedBytes ${this.#o.maxBufferedBytes}`,
    )
    // A consumer that does not read will not read the close frame either.
    const timer = setTimeout(() => {
      this.#timers.delete(timer)
      socket.terminate()
    }, SLOW_CLOSE_GRACE_MS)
    this.#timers.add(timer)
    socket.once('close', () => {
      clearTimeout(timer)
      this.#timers.delete(timer)
    })
  }

  #ping(): void {
    for (const consumer of this.#consumers) {
      const socket = consumer.socket
      if (!consumer.alive) {
        debug('%s ws feed: %s did not answer a ping', this.codec.feed, consumer.remote)
        socket.terminate()
        continue
      }
      consumer.alive = false
      if (socket.readyState === socket.OPEN) socket.ping()
    }
  }
}
