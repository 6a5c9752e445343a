import { debuglog } from 'node:util'
import type { Router } from 'zeromq'
import { GrenacheError, toGrenacheError } from '../../errors.js'
import { zmqModule } from '../../util/lazy-modules.js'
import { decodeRequest, encodeHandlerReply, encodeReply, peekRequestId } from '../envelope.js'
import { InFlight, thrown } from '../shared/in-flight.js'
import type { RequestHandler, ServerTransport } from '../types.js'
import { bindEndpoint, endpointPort } from './endpoint.js'
import {
  type ResolvedServerOptions,
  resolveServerOptions,
  type ZmqServerTransportOptions,
} from './options.js'
import { ZmqPeers } from './peers.js'

const debug = debuglog('grenache')

/** How much of a frame is read to find its rid. */
const HEAD_BYTES = 1024
/** How long libzmq keeps flushing replies already sent once the socket is closed, in ms. */
const LINGER_MS = 1000
/** How long the socket stays open after the last reply before it is closed, in ms (see #close). */
const FLUSH_MS = 50
/** How long `close()` waits for libzmq to report the socket closed (its port free again), in ms. */
const CLOSE_WAIT_MS = 2000

/**
 * A ZeroMQ worker endpoint: a Router bound to `tcp://host:port`. Each request is
 * `[identity, frame]`, the frame `[rid, key, payload]` as JSON; each reply goes back as
 * `[identity, [rid, error, result]]`, in whatever order the handler answers. A malformed request is
 * answered `[null, "ERR_BAD_REQUEST: …", null]`, one over `maxPayloadBytes` with
 * `[rid, "ERR_PAYLOAD_TOO_LARGE: …", null]`; above 4× the limit libzmq drops it and the connection.
 * A caller's unsent replies are bounded by libzmq's high-water mark (2 × `maxInFlightPerConnection`
 * replies; past it libzmq drops them), its requests in flight and the callers active by `ZmqPeers`.
 */
export class ZmqServerTransport implements ServerTransport {
  readonly kind = 'zmq' as const
  readonly options: Readonly<ResolvedServerOptions>
  #port = 0
  #router: Router | undefined
  #listening: Promise<number> | undefined
  #loops: Promise<unknown> | undefined
  readonly #inFlight = new InFlight()
  readonly #peers: ZmqPeers
  /** Replies handed to zeromq but not yet sent: closing the socket before they are would drop them. */
  readonly #sending = new Set<Promise<void>>()
  /** When the last reply was handed to libzmq (ms since the epoch). */
  #lastSentAt = 0
  #closing: Promise<void> | undefined

  constructor(options: ZmqServerTransportOptions) {
    this.options = resolveServerOptions(options)
    this.#peers = new ZmqPeers(this.options.limits, this.options.bounds)
  }

  get port(): number {
    return this.#port
  }

  get host(): string {
    return this.options.host
  }

  listen(handler: RequestHandler): Promise<number> {
    if (this.#closing)
      return Promise.reject(new GrenacheError('ERR_CLOSED', 'the zmq server transport was closed'))
    if (this.#listening) {
      return Promise.reject(new GrenacheError('ERR_INVALID_ARGUMENT', 'listen() was already called'))
    }
    if (typeof handler !== 'function') {
      return Promise.reject(new GrenacheError('ERR_INVALID_ARGUMENT', 'handler must be a function'))
    }
    this.#listening = this.#listen(handler)
    return this.#listening
  }

  async #listen(handler: RequestHandler): Promise<number> {
    const { host, port, maxPayloadBytes } = this.options
    const endpoint = bindEndpoint(host, port)
    const router = new (zmqModule().Router)({
      linger: LINGER_MS,
      // A Router never blocks: it drops what it cannot queue. A peer that does not read may hold
      // this many replies (0 would be no bound: measured 1.5 GB of native memory in 6 s).
      sendTimeout: 0,
      sendHighWaterMark: 2 * this.options.bounds.maxInFlight,
      // The ZMTP handshake of a new connection is its "headers": bounded the same way.
      handshakeInterval: this.options.limits.headersTimeoutMs,
      maxMessageSize: Math.min(maxPayloadBytes * 4, Number.MAX_SAFE_INTEGER),
      ipv6: endpoint.ipv6,
    })
    const events = router.events
    const watching = this.#watch(events)
    try {
      await router.bind(endpoint.url)
      this.#port = endpointPort(router.lastEndpoint)
    } catch (err) {
      router.close()
      await watching
      throw toGrenacheError(err, `zmq listen on ${endpoint.url}`)
    }
    this.#router = router
    this.#loops = Promise.all([this.#receive(router, handler), watching])
    return this.#port
  }

  /**
   * Stops handing requests to the handler (new ones are answered `ERR_CLOSED`), waits up to
   * `drainTimeoutMs` for the replies in flight, then closes the socket; resolves once libzmq
   * reports it closed, so the port can be bound again. Idempotent.
   */
  close(): Promise<void> {
    this.#closing ??= this.#close()
    return this.#closing
  }

  async #close(): Promise<void> {
    await this.#listening?.catch(() => undefined)
    const router = this.#router
    if (!router) return
    await this.#inFlight.drain(this.options.drainTimeoutMs)
    await Promise.all(this.#sending)
    // libzmq can drop a reply a ROUTER took just before zmq_close, linger or not: measured, 1 close
    // in 40 lost the reply sent right before it, none in 160 with a 20 ms pause. Shutdown is rare.
    const flushMs = this.#lastSentAt + FLUSH_MS - Date.now()
    if (flushMs > 0) await new Promise((resolve) => setTimeout(resolve, flushMs))
    router.close()
    let timer: NodeJS.Timeout | undefined
    await Promise.race([this.#loops, new Promise((resolve) => (timer = setTimeout(resolve, CLOSE_WAIT_MS)))])
    clearTimeout(timer)
  }

  async #receive(router: Router, handler: RequestHandler): Promise<void> {
    try {
      for (;;) this.#onRequest(router, await router.receive(), handler)
    } catch (err) {
      if (!router.closed) debug('zmq server :%d: receive failed: %s', this.#port, (err as Error).message)
    }
  }

  async #watch(events: Router['events']): Promise<void> {
    try {
      for await (const event of events) {
        if (event.type === 'end') break
        if (debug.enabled)
          debug('zmq server :%d: %s %s', this.#port, event.type, 'address' in event ? event.address : '')
      }
    } catch (err) {
      debug('zmq server :%d: the event observer failed: %s', this.#port, (err as Error).message)
    }
  }

  #onRequest(router: Router, frames: Buffer[], handler: RequestHandler): void {
    const identity = frames[0] as Buffer
    const frame = frames[1]
    if (frames.length !== 2 || frame === undefined) {
      const count = frames.length - 1
      this.#send(router, identity, encodeReply(null, `ERR_BAD_REQUEST: expected 1 frame, got ${count}`, null))
      return
    }
    const { maxPayloadBytes } = this.options
    if (frame.length > maxPayloadBytes) {
      const rid = peekRequestId(frame.toString('utf8', 0, HEAD_BYTES)) ?? null
      const message = `ERR_PAYLOAD_TOO_LARGE: the request is ${frame.length} bytes, above the limit of ${maxPayloadBytes}`
      this.#send(router, identity, encodeReply(rid, message, null))
      return
    }
    let request: ReturnType<typeof decodeRequest>
    try {
      request = decodeRequest(frame.toString())
    } catch (err) {
      this.#send(router, identity, encodeReply(null, (err as Error).message, null))
      return
    }
    const { rid } = request
    if (this.#closing) {
      this.#send(router, identity, encodeReply(rid, 'ERR_CLOSED: the worker is closing', null))
      return
    }
    const peer = this.#peers.admit(identity, Date.now())
    if (typeof peer === 'string') {
      this.#send(router, identity, encodeReply(rid, peer, null))
      return
    }
    const reply = this.#inFlight.open((error, result) => {
      peer.inFlight--
      this.#send(router, identity, encodeHandlerReply(rid, error, result))
    })
    try {
      const returned: unknown = handler(
        { rid, key: request.key, payload: request.payload, transport: 'zmq', certificate: undefined },
        reply,
      )
      // An async handler that rejects answers with its error, as a handler that throws.
      if (returned instanceof Promise) returned.then(undefined, (err: unknown) => reply(thrown(err)))
    } catch (err) {
      reply(thrown(err))
    }
  }

  #send(router: Router, identity: Buffer, text: string): void {
    if (router.closed) return
    try {
      this.#lastSentAt = Date.now()
      const sent: Promise<void> = router.send([identity, text]).then(
        () => void this.#sending.delete(sent),
        (err: unknown) => {
          this.#sending.delete(sent)
          debug('zmq server :%d: a reply was not sent: %s', this.#port, (err as Error).message)
        },
      )
      this.#sending.add(sent)
    } catch (err) {
      debug('zmq server :%d: a reply was not sent: %s', this.#port, (err as Error).message)
    }
  }
}
