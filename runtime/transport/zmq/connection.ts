import { setTimeout as delay, setImmediate as nextTurn } from 'node:timers/promises'
import { debuglog } from 'node:util'
import type { Dealer } from 'zeromq'
import { GrenacheError } from '../../errors.js'
import { zmqModule } from '../../util/lazy-modules.js'
import { decodeReply, peekRequestId } from '../envelope.js'
import { PendingRequests } from '../pending.js'
import type { Endpoint } from './endpoint.js'

const debug = debuglog('grenache')

/**
 * When a connection drops, replies already on their way are read first, for at most this long (ms).
 * libzmq reports the disconnect on its monitor before the socket shows the last replies readable
 * (they cross from its I/O thread asynchronously), so `readable` alone cannot tell whether one is
 * still coming: a worker that replies and then closes would otherwise lose the reply.
 */
const DRAIN_MS = 25
/** How much of a frame is read to find its rid. */
const HEAD_BYTES = 1024

export interface DealerConnectionOptions {
  /** The worker, `"ip:port"`, as the caller named it. */
  address: string
  endpoint: Endpoint
  /** Largest reply accepted; a larger one fails its request with `ERR_PAYLOAD_TOO_LARGE`. */
  maxPayloadBytes: number
  /** Deadline of the TCP connect plus the ZMTP handshake. */
  connectTimeoutMs: number
  /** Called once, when the connection dies, so that the next request opens a new one. */
  onDead(connection: DealerConnection): void
}

/**
 * One Dealer socket to one worker, for the life of one connection. It is born connecting, becomes
 * ready at the ZMTP handshake and dies at the first failure, failing every request it carries:
 *
 * - TCP connect failed (`connect:retry` before any `connect`): `ERR_CONNECTION_REFUSED`;
 * - the port accepted TCP but no handshake followed (`handshake:error:*`, or `disconnect`, as an
 *   HTTP or WebSocket server does): `ERR_TRANSPORT_MISMATCH`;
 * - no handshake within `connectTimeoutMs`: `ERR_TRANSPORT_MISMATCH` (TCP up) or `ERR_CONNECTION_FAILED`;
 * - `disconnect` after the handshake: `ERR_CONNECTION_RESET`, once replies already received are read.
 *
 * A dead connection closes its socket (linger 0), so no request of it can reach a worker later;
 * libzmq's own reconnection is never relied on. Frames wait in JS until the handshake and then go
 * straight to libzmq: with `immediate`, an unlimited send high-water mark and `sendTimeout: 0`, a
 * send never blocks, so no send is ever pending (zeromq@6 allows only one).
 */
export class DealerConnection {
  readonly pending: PendingRequests
  /** Settles when the socket is closed and both of its loops have ended. */
  readonly done: Promise<void>
  readonly #socket: Dealer
  readonly #what: string
  readonly #maxPayloadBytes: number
  readonly #onDead: (connection: DealerConnection) => void
  readonly #connectTimer: NodeJS.Timeout
  #state: 'connecting' | 'ready' | 'dead' = 'connecting'
  #tcpConnected = false
  /** Frames sent before the handshake. */
  #waiting: string[] = []
  readonly #onSendError = (err: unknown): void => {
    this.#die(this.#error('ERR_CONNECTION_RESET', `the send failed: ${(err as Error).message}`, err), true)
  }

  constructor(options: DealerConnectionOptions) {
    this.#what = `zmq ${options.address}`
    this.#maxPayloadBytes = options.maxPayloadBytes
    this.#onDead = options.onDead
    this.pending = new PendingRequests(this.#what)
    this.#socket = new (zmqModule().Dealer)({
      linger: 0,
      immediate: true,
      sendHighWaterMark: 0,
      sendTimeout: 0,
      // libzmq drops the connection on a reply above 4× the limit; below, we answer the request.
      maxMessageSize: Math.min(options.maxPayloadBytes * 4, Number.MAX_SAFE_INTEGER),
      handshakeInterval: options.connectTimeoutMs,
      ipv6: options.endpoint.ipv6,
    })
    // The observer must exist before connect(), or the first events are lost.
    const events = this.#socket.events
    this.done = Promise.all([this.#receive(), this.#watch(events)]).then(() => undefined)
    this.#connectTimer = setTimeout(() => {
      this.#die(
        this.#tcpConnected
          ? this.#error('ERR_TRANSPORT_MISMATCH', `no ZeroMQ handshake within ${options.connectTimeoutMs} ms`)
          : this.#error('ERR_CONNECTION_FAILED', `no connection within ${options.connectTimeoutMs} ms`),
      )
    }, options.connectTimeoutMs)
    this.#connectTimer.unref()
    this.#socket.connect(options.endpoint.url)
  }

  /** The handshake is done and the connection has not failed. */
  get ready(): boolean {
    return this.#state === 'ready'
  }

  /** Sends a request frame (its rid is already in `pending`). */
  send(frame: string): void {
    if (this.#state === 'ready') {
      try {
        this.#socket.send(frame).then(undefined, this.#onSendError)
      } catch (err) {
        this.#onSendError(err)
      }
    } else if (this.#state === 'connecting') {
      this.#waiting.push(frame)
    }
  }

  /** Fails every request with `error` and closes the socket now. */
  close(error: GrenacheError): void {
    this.#die(error)
  }

  async #receive(): Promise<void> {
    const socket = this.#socket
    try {
      for (;;) this.#onReply(await socket.receive())
    } catch (err) {
      if (socket.closed) return
      this.#die(this.#error('ERR_CONNECTION_RESET', `receive failed: ${(err as Error).message}`, err))
    }
  }

  async #watch(events: Dealer['events']): Promise<void> {
    try {
      for await (const event of events) {
        switch (event.type) {
          case 'connect':
            this.#tcpConnected = true
            break
          case 'handshake':
            this.#ready()
            break
          case 'connect:retry':
            // After a disconnect this is libzmq reconnecting a connection that is already dead.
            if (!this.#tcpConnected)
              this.#die(this.#error('ERR_CONNECTION_REFUSED', 'the connection was refused'))
            break
          case 'handshake:error:protocol':
          case 'handshake:error:auth':
          case 'handshake:error:other':
            this.#die(
              this.#error(
                'ERR_TRANSPORT_MISMATCH',
                `the ZeroMQ handshake failed (${event.error.message}): the port speaks another protocol`,
                event.error,
              ),
            )
            break
          case 'disconnect':
            if (this.#state === 'ready') {
              this.#die(this.#error('ERR_CONNECTION_RESET', 'the connection closed'), true)
            } else {
              this.#die(
                this.#error(
                  'ERR_TRANSPORT_MISMATCH',
                  'the port closed the connection before a ZeroMQ handshake: it speaks another protocol',
                ),
              )
            }
            break
        }
      }
    } catch (err) {
      if (!this.#socket.closed) debug('%s: the event observer failed: %s', this.#what, (err as Error).message)
    }
  }

  #ready(): void {
    if (this.#state !== 'connecting') return
    this.#state = 'ready'
    clearTimeout(this.#connectTimer)
    const waiting = this.#waiting
    this.#waiting = []
    for (const frame of waiting) this.send(frame)
  }

  #onReply(frames: Buffer[]): void {
    const frame = frames[0]
    if (frames.length !== 1 || frame === undefined) {
      debug('%s: dropped a reply of %d frames', this.#what, frames.length)
      return
    }
    if (frame.length > this.#maxPayloadBytes) {
      const rid = peekRequestId(frame.toString('utf8', 0, HEAD_BYTES))
      const error = this.#error(
        'ERR_PAYLOAD_TOO_LARGE',
        `the reply is ${frame.length} bytes, above the limit of ${this.#maxPayloadBytes}`,
      )
      if (rid === undefined || !this.pending.fail(rid, error))
        debug('%s: dropped a reply too large', this.#what)
      return
    }
    const text = frame.toString()
    let reply: ReturnType<typeof decodeReply>
    try {
      reply = decodeReply(text)
    } catch (err) {
      // A reply we can match but not decode fails its request at once instead of at its deadline.
      const rid = peekRequestId(text.slice(0, HEAD_BYTES))
      const error = this.#error('ERR_BAD_REPLY', (err as Error).message, err)
      if (rid === undefined || !this.pending.fail(rid, error)) {
        debug('%s: dropped a reply that does not decode: %s', this.#what, text.slice(0, 100))
      }
      return
    }
    if (!this.pending.settle(reply.rid, reply.error, reply.result)) {
      debug('%s: dropped a reply to no request waiting (%j)', this.#what, reply.rid)
    }
  }

  #die(error: GrenacheError, drain = false): void {
    if (this.#state === 'dead') return
    this.#state = 'dead'
    clearTimeout(this.#connectTimer)
    this.#waiting = []
    this.#onDead(this)
    debug('%s: %s', this.#what, error.message)
    if (drain) {
      void this.#drainThenClose(error)
    } else {
      this.pending.failAll(error)
      this.#socket.close()
    }
  }

  async #drainThenClose(error: GrenacheError): Promise<void> {
    const until = Date.now() + DRAIN_MS
    while (this.pending.size > 0 && !this.#socket.closed && Date.now() < until) {
      await (this.#socket.readable ? nextTurn() : delay(1))
    }
    this.pending.failAll(error)
    this.#socket.close()
  }

  #error(code: GrenacheError['code'], message: string, cause?: unknown): GrenacheError {
    return new GrenacheError(code, `${this.#what}: ${message}`, cause === undefined ? undefined : { cause })
  }
}
