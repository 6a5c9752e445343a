import { debuglog } from 'node:util'
import type WebSocket from 'ws'
import type { ClientOptions, RawData } from 'ws'
import { GrenacheError } from '../../errors.js'
import { wsModule } from '../../util/lazy-modules.js'
import { decodeReply } from '../envelope.js'
import { PendingRequests } from '../pending.js'
import { batchedSender, type FrameSender } from './batched-send.js'
import { handshakeError } from './dial.js'
import type { WsKind } from './options.js'

const debug = debuglog('grenache')

/** Counters a client keeps about replies it dropped. */
export interface WsClientStats {
  /** Reply frames that were not `[rid, error, result]` JSON. */
  badReplies: number
  /** Replies nobody waited for (late after a timeout, or an unknown rid). */
  unmatchedReplies: number
}

/** How long a closing handshake may take before the socket is destroyed. */
const CLOSE_GRACE_MS = 1000

/**
 * One WebSocket to one worker, multiplexing requests by rid. Requests wait in a queue until the
 * socket opens; when it closes, every request still waiting fails at once and `onGone` tells the
 * owner to drop it (the next request dials a new one).
 */
export class WsConnection {
  readonly pending: PendingRequests
  readonly #socket: WebSocket
  readonly #what: string
  readonly #kind: WsKind
  readonly #stats: WsClientStats
  readonly #onGone: (connection: WsConnection) => void
  /** Frames of requests still waiting for the socket to open, by rid. */
  #queue: Map<string, string> | undefined = new Map()
  #open = false
  /** Set when the socket opens. */
  #send: FrameSender | undefined
  /** Why the connection failed, when an `'error'` or an unexpected answer said so before `'close'`. */
  #failure: GrenacheError | undefined
  #closed = false
  readonly #closedPromise: Promise<void>
  #resolveClosed!: () => void

  constructor(
    kind: WsKind,
    address: string,
    url: string,
    options: ClientOptions,
    stats: WsClientStats,
    onGone: (connection: WsConnection) => void,
  ) {
    this.#kind = kind
    this.#what = `${kind} ${address}`
    this.#stats = stats
    this.#onGone = onGone
    this.pending = new PendingRequests(this.#what)
    this.#closedPromise = new Promise((resolve) => {
      this.#resolveClosed = resolve
    })
    const socket = new (wsModule().WebSocket)(url, options)
    this.#socket = socket
    socket.on('open', this.#onOpen)
    socket.on('message', this.#onMessage)
    socket.on('error', this.#onError)
    socket.on('close', this.#onClose)
    socket.on('unexpected-response', (_request, response) => {
      response.resume()
      this.#failure ??=
        response.statusCode === 503
          ? new GrenacheError(
              'ERR_BUSY',
              `${this.#what} refused the connection with HTTP 503: it has too many connections open`,
            )
          : new GrenacheError(
              'ERR_TRANSPORT_MISMATCH',
              `${this.#what} answered the WebSocket upgrade with HTTP ${response.statusCode}: not a WebSocket worker`,
            )
      socket.terminate()
    })
  }

  /** Open, and not closing. */
  get isOpen(): boolean {
    return this.#open && this.#socket.readyState === this.#socket.OPEN
  }

  /** Connecting or open: a closing socket takes no new request (it would be lost). */
  get usable(): boolean {
    return this.#socket.readyState <= this.#socket.OPEN
  }

  /** Sends `frame` (the encoded `[rid, key, payload]`) now, or when the socket opens. */
  request(rid: string, frame: string, timeoutMs: number, signal: AbortSignal | undefined): Promise<unknown> {
    const promise = this.pending.add(rid, timeoutMs, signal)
    const send = this.#send
    if (send !== undefined) {
      send(frame)
    } else {
      const queue = this.#queue
      if (queue) {
        queue.set(rid, frame)
        // A request that times out or is aborted before the socket opens is never sent.
        const forget = (): void => {
          queue.delete(rid)
        }
        promise.then(forget, forget)
      }
    }
    return promise
  }

  /** Fails what is still waiting with `error` and closes the socket (bounded); resolves when closed. */
  close(error: GrenacheError): Promise<void> {
    this.pending.failAll(error)
    if (!this.#closed) {
      const socket = this.#socket
      if (socket.readyState === socket.OPEN) {
        socket.close(1000)
        const timer = setTimeout(() => socket.terminate(), CLOSE_GRACE_MS)
        void this.#closedPromise.then(() => clearTimeout(timer))
      } else {
        socket.terminate()
      }
    }
    return this.#closedPromise
  }

  #onOpen = (): void => {
    this.#open = true
    const send = batchedSender(this.#socket)
    this.#send = send
    const queue = this.#queue
    this.#queue = undefined
    if (queue) for (const frame of queue.values()) send(frame)
  }

  #onMessage = (data: RawData): void => {
    let reply: ReturnType<typeof decodeReply>
    try {
      reply = decodeReply((data as Buffer).toString())
    } catch (err) {
      this.#stats.badReplies++
      debug('%s: dropped a reply frame: %s', this.#what, (err as Error).message)
      return
    }
    if (!this.pending.settle(reply.rid, reply.error, reply.result)) {
      this.#stats.unmatchedReplies++
      debug('%s: dropped a reply nobody waits for (rid %j)', this.#what, reply.rid)
    }
  }

  #onError = (err: Error & { code?: string }): void => {
    debug('%s: socket error: %s', this.#what, err.message)
    if (this.#failure) return
    if (err.code === 'WS_ERR_UNSUPPORTED_MESSAGE_LENGTH') {
      this.#failure = new GrenacheError(
        'ERR_PAYLOAD_TOO_LARGE',
        `${this.#what}: a reply is larger than maxPayloadBytes (${err.message})`,
        { cause: err },
      )
    } else if (this.#open) {
      this.#failure = new GrenacheError('ERR_CONNECTION_RESET', `${this.#what}: ${err.message}`, {
        cause: err,
      })
    } else {
      this.#failure = handshakeError(err, this.#kind, this.#what)
    }
  }

  #onClose = (code: number, reason: Buffer): void => {
    const wasOpen = this.#open
    this.#open = false
    this.#send = undefined
    this.#closed = true
    this.#queue = undefined
    let error = this.#failure
    if (!error) {
      if (code === 1009) {
        error = new GrenacheError(
          'ERR_PAYLOAD_TOO_LARGE',
          `${this.#what} closed the connection with 1009: a request is larger than the worker accepts`,
        )
      } else {
        const why = reason.length > 0 ? ` (${reason.toString()})` : ''
        error = new GrenacheError(
          wasOpen ? 'ERR_CONNECTION_RESET' : 'ERR_CONNECTION_FAILED',
          `${this.#what}: the connection closed with ${code}${why} before the reply arrived`,
        )
      }
    }
    this.pending.failAll(error)
    this.#onGone(this)
    this.#resolveClosed()
  }
}
