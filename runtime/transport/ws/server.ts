import type { IncomingMessage } from 'node:http'
import type { PeerCertificate } from 'node:tls'
import type WebSocket from 'ws'
import type { RawData } from 'ws'
import { GrenacheError } from '../../errors.js'
import { decodeRequest, encodeHandlerReply, encodeReply, peekRequestId } from '../envelope.js'
import { ConnectionGate, InFlight } from '../shared/in-flight.js'
import { ConnectionRequest } from '../shared/rpc-request.js'
import type { Reply, RequestHandler, ServerTransport } from '../types.js'
import { batchedSender } from './batched-send.js'
import { peerCertificate, WsEndpoint } from './endpoint.js'
import {
  type ResolvedServerOptions,
  resolveServerOptions,
  type WsKind,
  type WsServerTransportOptions,
} from './options.js'

/** Bytes read from the start of an over-limit request to find its rid. */
const RID_PEEK_BYTES = 256

/**
 * The WebSocket (and WSS) server transport, wire-compatible with grenache-nodejs-ws workers: any
 * path, one text (or binary) frame `[rid, key, payload]` per request, the reply
 * `[rid, error, result]` on the same socket. Unlike the reference it answers a malformed frame
 * (`ERR_BAD_REQUEST`) and an over-limit one (`ERR_PAYLOAD_TOO_LARGE`) instead of staying silent.
 */
export class WsServerTransport implements ServerTransport {
  readonly kind: WsKind
  readonly options: Readonly<ResolvedServerOptions>
  #endpoint: WsEndpoint | undefined
  #handler: RequestHandler | undefined
  readonly #inFlight = new InFlight()
  #draining = false
  #closing: Promise<void> | undefined

  constructor(options: WsServerTransportOptions) {
    this.options = resolveServerOptions(options)
    this.kind = this.options.kind
  }

  get port(): number {
    return this.#endpoint?.port ?? 0
  }

  get host(): string {
    return this.options.host
  }

  async listen(handler: RequestHandler): Promise<number> {
    if (this.#closing) throw new GrenacheError('ERR_CLOSED', `${this.kind} server transport is closed`)
    if (this.#endpoint)
      throw new GrenacheError('ERR_INVALID_ARGUMENT', `${this.kind} server transport is already listening`)
    if (typeof handler !== 'function') {
      throw new GrenacheError('ERR_INVALID_ARGUMENT', `handler must be a function, got ${typeof handler}`)
    }
    const { kind, port, host, tls, maxPayloadBytes, limits } = this.options
    this.#handler = handler
    const endpoint = new WsEndpoint(
      { kind, port, host, tls, maxPayload: 4 * maxPayloadBytes, role: 'Grenache worker', limits },
      (socket, request) => this.#serve(socket, request),
    )
    this.#endpoint = endpoint
    let bound: number
    try {
      bound = await endpoint.listen()
    } catch (err) {
      this.#endpoint = undefined
      throw err
    }
    if (this.#closing)
      throw new GrenacheError('ERR_CLOSED', `${this.kind} server transport closed while binding`)
    return bound
  }

  close(): Promise<void> {
    this.#closing ??= this.#close()
    return this.#closing
  }

  async #close(): Promise<void> {
    const endpoint = this.#endpoint
    if (!endpoint) return
    this.#draining = true
    endpoint.stopAccepting()
    await this.#inFlight.drain(this.options.drainTimeoutMs)
    await endpoint.closeSockets()
  }

  #serve(socket: WebSocket, request: IncomingMessage): void {
    if (this.#draining) {
      socket.close(1001, 'closing')
      return
    }
    const certificate = this.options.tls ? peerCertificate(request) : undefined
    let closed: AbortSignal | undefined
    // Made on first read (RpcRequest.closed): one listener per connection, only when a handler asks.
    const connection = {
      certificate,
      get closed(): AbortSignal {
        if (closed) return closed
        const controller = new AbortController()
        closed = controller.signal
        const abort = (): void =>
          controller.abort(new GrenacheError('ERR_CONNECTION_RESET', 'the caller closed the connection'))
        if (socket.readyState === socket.CLOSED || socket.readyState === socket.CLOSING) abort()
        else socket.once('close', abort)
        return closed
      },
    }
    const batched = batchedSender(socket)
    // A caller that sends and never reads: its socket is not read until its replies drain, and
    // the frames already read meanwhile (one read's worth at most) wait in `backlog`.
    const backlog: Buffer[] = []
    const gate = new ConnectionGate(
      this.options.bounds,
      () => socket.pause(),
      () => {
        // Taken off before it runs: its reply may pause and resume the gate again meanwhile.
        while (backlog.length > 0 && !gate.paused) {
          this.#onFrame(send, gate, backlog.shift() as Buffer, connection)
        }
        if (!gate.paused) socket.resume()
      },
    )
    request.socket.on('drain', () => gate.unsent(socket.bufferedAmount))
    // A reply to a socket that closed meanwhile is dropped: the caller is gone, nothing to tell.
    const send = (text: string): void => {
      if (socket.readyState !== socket.OPEN) return
      batched(text)
      gate.unsent(socket.bufferedAmount)
    }
    socket.on('message', (data: RawData) => {
      if (gate.paused) backlog.push(data as Buffer)
      else this.#onFrame(send, gate, data as Buffer, connection)
    })
  }

  #onFrame(
    send: (text: string) => void,
    gate: ConnectionGate,
    data: Buffer,
    connection: { certificate: PeerCertificate | undefined; readonly closed: AbortSignal },
  ): void {
    const limit = this.options.maxPayloadBytes
    if (data.length > limit) {
      const rid = peekRequestId(data.toString('utf8', 0, RID_PEEK_BYTES)) ?? null
      send(
        encodeReply(
          rid,
          `ERR_PAYLOAD_TOO_LARGE: the request is ${data.length} bytes, over this worker's limit of ${limit}`,
          null,
        ),
      )
      return
    }
    let envelope: ReturnType<typeof decodeRequest>
    try {
      envelope = decodeRequest(data.toString())
    } catch (err) {
      send(encodeReply(null, (err as GrenacheError).message, null))
      return
    }
    const rid = envelope.rid
    if (this.#draining) {
      send(encodeReply(rid, 'ERR_CLOSED: the worker is closing', null))
      return
    }
    const reply: Reply = this.#inFlight.open(
      (error, result) => send(encodeHandlerReply(rid, error, result)),
      gate,
    )
    try {
      ;(this.#handler as RequestHandler)(
        new ConnectionRequest(
          rid,
          envelope.key,
          envelope.payload,
          this.kind,
          connection.certificate,
          () => connection.closed,
        ),
        reply,
      )
    } catch (err) {
      reply(err instanceof Error ? err : String(err))
    }
  }
}
