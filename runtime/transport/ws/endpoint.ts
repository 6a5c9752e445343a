import {
  createServer as createHttpServer,
  type IncomingMessage,
  type Server,
  type ServerResponse,
} from 'node:http'
import { createServer as createHttpsServer } from 'node:https'
import type { AddressInfo, Socket } from 'node:net'
import type { PeerCertificate, TLSSocket } from 'node:tls'
import { debuglog } from 'node:util'
import type WebSocket from 'ws'
import type { WebSocketServer } from 'ws'
import { toGrenacheError } from '../../errors.js'
import { wsModule } from '../../util/lazy-modules.js'
import { sniffPlainHttp } from '../shared/plain-on-tls.js'
import {
  busyMessage,
  capConnections,
  httpTimeouts,
  isRefused,
  type ServerLimits,
} from '../shared/server-limits.js'
import type { TlsOptions } from '../types.js'
import { pickTls, type WsKind } from './options.js'

const debug = debuglog('grenache')

/** How long a closing handshake may take before the socket is destroyed. */
const CLOSE_GRACE_MS = 1000

export interface WsEndpointOptions {
  kind: WsKind
  port: number
  host: string
  tls: TlsOptions | undefined
  /** ws's own limit: a larger message closes the socket with 1009. */
  maxPayload: number
  /** What the 426 answer to a plain HTTP request says this port is. */
  role: string
  /** Connection cap, handshake timeouts, and the idle timeout of open WebSockets (0: none). */
  limits: ServerLimits
}

/**
 * A listening `ws` WebSocketServer on its own `node:http(s)` server, accepting any path. A plain
 * HTTP request gets 426 Upgrade Required, so an HTTP client fails at once instead of hanging. The
 * opening handshake is bounded by the header and request timeouts, a connection past the cap gets
 * `503 ERR_BUSY`, and an open WebSocket silent for `idleTimeoutMs` is closed with 1001.
 */
export class WsEndpoint {
  readonly server: Server
  readonly wss: WebSocketServer
  readonly #options: WsEndpointOptions
  /** TLS connections that have not sent their first byte yet. */
  readonly #silent = new Set<Socket>()
  #port = 0
  #stopped = false

  constructor(
    options: WsEndpointOptions,
    onConnection: (socket: WebSocket, request: IncomingMessage) => void,
  ) {
    this.#options = options
    const limits = options.limits
    const answerPlainHttp = (request: IncomingMessage, response: ServerResponse): void => {
      request.resume()
      if (isRefused(request.socket)) {
        const busy = `${busyMessage(limits)}\n`
        response.writeHead(503, { 'content-length': Buffer.byteLength(busy), connection: 'close' })
        response.end(busy)
        return
      }
      const body = `ERR_TRANSPORT_MISMATCH: this port is a ${options.role} and speaks WebSocket (${options.kind}://host:port/ws), not plain HTTP\n`
      response.writeHead(426, {
        'content-type': 'text/plain; charset=utf-8',
        'content-length': Buffer.byteLength(body),
        upgrade: 'websocket',
        connection: 'close',
      })
      response.end(body)
    }
    const tls = options.tls
    this.server = tls
      ? createHttpsServer(
          {
            ...httpTimeouts(limits),
            ...pickTls(tls),
            requestCert: tls.requestCert ?? false,
            rejectUnauthorized: tls.requestCert ? (tls.rejectUnauthorized ?? true) : false,
          },
          answerPlainHttp,
        )
      : createHttpServer(httpTimeouts(limits), answerPlainHttp)
    if (tls)
      sniffPlainHttp(this.server, this.#silent, limits.headersTimeoutMs, `${options.kind}://host:port/ws`)
    capConnections(this.server, limits)
    this.server.on('clientError', (err, socket) => {
      debug('%s: client error: %s', options.kind, err.message)
      // As Node does by default: a TLS client hitting a plain port then reads a clear "not TLS".
      if (socket.writable) socket.end('HTTP/1.1 400 Bad Request\r\nConnection: close\r\n\r\n')
      else socket.destroy()
    })
    this.server.on('tlsClientError', (err: Error) => {
      debug('%s: TLS client error: %s', options.kind, err.message)
    })
    this.wss = new (wsModule().WebSocketServer)({
      server: this.server,
      perMessageDeflate: false,
      maxPayload: options.maxPayload,
      verifyClient: (info, accept) => {
        if (isRefused(info.req.socket)) accept(false, 503, busyMessage(limits))
        else accept(true)
      },
    })
    this.wss.on('error', (err) => debug('%s: server error: %s', options.kind, err.message))
    this.wss.on('connection', (socket, request) => {
      socket.on('error', (err) => debug('%s: socket error: %s', options.kind, err.message))
      // ws clears the socket's timeout at the upgrade; from here it counts silence both ways.
      if (limits.idleTimeoutMs > 0) {
        request.socket.setTimeout(limits.idleTimeoutMs, () => closeSocket(socket, 'idle'))
      }
      onConnection(socket, request)
    })
  }

  get port(): number {
    return this.#port
  }

  /** Binds; `ERR_ADDRESS_IN_USE` and the like as a `GrenacheError`. */
  async listen(): Promise<number> {
    const { port, host, kind } = this.#options
    await new Promise<void>((resolve, reject) => {
      const onError = (err: Error): void => reject(toGrenacheError(err, `${kind} listen on ${host}:${port}`))
      this.server.once('error', onError)
      this.server.listen(port, host, () => {
        this.server.off('error', onError)
        resolve()
      })
    })
    this.server.on('error', (err) => debug('%s: server error: %s', kind, err.message))
    this.#port = (this.server.address() as AddressInfo).port
    // Closed while binding: stop at once.
    if (this.#stopped) this.server.close()
    return this.#port
  }

  /** Stops accepting new connections; open sockets stay. */
  stopAccepting(): void {
    this.#stopped = true
    if (this.server.listening) this.server.close()
  }

  /** Closes every socket (close frame 1001, destroyed after a grace period) and the server. */
  async closeSockets(): Promise<void> {
    this.stopAccepting()
    const closing: Promise<void>[] = []
    for (const socket of this.wss.clients) closing.push(closeSocket(socket))
    await Promise.all(closing)
    await new Promise<void>((resolve) => this.wss.close(() => resolve()))
    // Connections still in their opening handshake are plain HTTP connections of the server.
    this.server.closeAllConnections()
    for (const socket of this.#silent) socket.destroy()
  }
}

/** The caller's certificate on a TLS connection, when it sent one. */
export function peerCertificate(request: IncomingMessage): PeerCertificate | undefined {
  const socket = request.socket as Partial<TLSSocket>
  if (typeof socket.getPeerCertificate !== 'function') return undefined
  const certificate = socket.getPeerCertificate()
  return certificate && Object.keys(certificate).length > 0 ? certificate : undefined
}

function closeSocket(socket: WebSocket, reason = 'closing'): Promise<void> {
  if (socket.readyState === socket.CLOSED) return Promise.resolve()
  return new Promise((resolve) => {
    const timer = setTimeout(() => socket.terminate(), CLOSE_GRACE_MS)
    socket.once('close', () => {
      clearTimeout(timer)
      resolve()
    })
    if (socket.readyState === socket.OPEN) socket.close(1001, reason)
    else socket.terminate()
  })
}
