import { createServer as createHttpServer, type Server } from 'node:http'
import { createServer as createHttpsServer } from 'node:https'
import type { AddressInfo, Socket } from 'node:net'
import { debuglog } from 'node:util'
import { GrenacheError, toGrenacheError } from '../../errors.js'
import { checkOption } from '../../util/validate.js'
import { encodeReply } from '../envelope.js'
import { resolveConnectionBounds } from '../shared/in-flight.js'
import { rawResponse, sniffPlainHttp } from '../shared/plain-on-tls.js'
import {
  capConnections,
  httpTimeouts,
  resolveServerLimits,
  type ServerLimits,
} from '../shared/server-limits.js'
import type { RequestHandler, ServerTransport, ServerTransportOptions } from '../types.js'
import {
  type ExchangeContext,
  kInFlight,
  RpcIncomingMessage,
  startExchange,
  type TrackedSocket,
} from './exchange.js'
import { httpKind, serverTlsOptions } from './tls.js'

const debug = debuglog('grenache')

/** Options of `HttpServerTransport`; `tls` makes it `https`. */
export interface HttpServerTransportOptions extends ServerTransportOptions {
  /**
   * `'http'` or `'https'`; by default `'https'` exactly when `tls` is given. `'https'` without
   * `tls`, or `'http'` with it, is `ERR_INVALID_OPTION`.
   */
  kind?: 'http' | 'https'
  /**
   * How long `close()` waits for replies in flight before it closes every connection, in ms.
   * Default 5000.
   */
  drainTimeoutMs?: number
}

const DEFAULT_MAX_REQUEST_BYTES = 1024 * 1024

/**
 * The HTTP(S) server transport: node:http(s), any method and path (as the reference), the whole
 * body up to `maxPayloadBytes`, `grc-compress` and `_gr` as the reference, and clear answers to
 * what the reference leaves hanging (400 for a malformed request, 413 over the limit, 426 for
 * plain HTTP on the HTTPS port, 400 for a WebSocket upgrade).
 */
export class HttpServerTransport implements ServerTransport {
  readonly kind: 'http' | 'https'
  readonly #host: string
  readonly #requestedPort: number
  readonly #drainTimeoutMs: number
  readonly #tls: ReturnType<typeof serverTlsOptions> | undefined
  readonly #context: ExchangeContext
  readonly #limits: ServerLimits
  /** Every TCP connection, for the forced close. */
  readonly #sockets = new Set<Socket>()
  /** HTTPS connections that have not sent their first byte yet: close() closes them at once. */
  readonly #silent = new Set<Socket>()
  /** The connections node:http serves (TLS sockets for HTTPS), with their requests in flight. */
  readonly #connections = new Set<TrackedSocket>()
  #server: Server | undefined
  #port = 0
  #listening: Promise<number> | undefined
  #closing: Promise<void> | undefined

  constructor(options: HttpServerTransportOptions) {
    this.#requestedPort = checkOption.port('port', options.port)
    this.#host = checkOption.string('host', options.host ?? '127.0.0.1')
    this.#drainTimeoutMs = checkOption.integer('drainTimeoutMs', options.drainTimeoutMs ?? 5000, 0)
    this.kind = httpKind(options.kind, options.tls)
    if (this.kind === 'https' && options.tls === undefined) {
      checkOption.fail('tls', "is required for kind 'https'", options.tls)
    }
    this.#tls = options.tls === undefined ? undefined : serverTlsOptions(options.tls)
    this.#limits = resolveServerLimits(options, 5000)
    this.#context = {
      kind: this.kind,
      maxPayloadBytes: checkOption.integer(
        'maxPayloadBytes',
        options.maxPayloadBytes ?? DEFAULT_MAX_REQUEST_BYTES,
        1,
      ),
      peerCertificates: this.#tls?.requestCert === true,
      handler: () => {},
      closing: false,
      busy: `ERR_BUSY: this worker has ${this.#limits.maxConnections} connections open, its limit (maxConnections)`,
      // Replies go back in order on a connection: deep pipelining buys nothing, and each request
      // read is a reply held.
      bounds: resolveConnectionBounds(options, 16),
    }
  }

  get port(): number {
    return this.#port
  }

  get host(): string {
    return this.#host
  }

  listen(handler: RequestHandler): Promise<number> {
    if (this.#closing !== undefined) {
      return Promise.reject(new GrenacheError('ERR_CLOSED', `${this.kind} server transport is closed`))
    }
    if (this.#listening !== undefined) {
      return Promise.reject(
        new GrenacheError('ERR_INVALID_ARGUMENT', `${this.kind} server transport is already listening`),
      )
    }
    if (typeof handler !== 'function') {
      return Promise.reject(new GrenacheError('ERR_INVALID_ARGUMENT', 'handler must be a function'))
    }
    this.#context.handler = handler
    this.#listening = this.#listen()
    return this.#listening
  }

  async #listen(): Promise<number> {
    const server = this.#createServer()
    this.#server = server
    await new Promise<void>((resolve, reject) => {
      server.once('error', reject)
      server.listen({ port: this.#requestedPort, host: this.#host }, () => {
        server.off('error', reject)
        resolve()
      })
    }).catch((err: unknown) => {
      throw toGrenacheError(err, `${this.kind} server on ${this.#host}:${this.#requestedPort}`)
    })
    server.on('error', (err) => debug('%s server error: %s', this.kind, err.message))
    this.#port = (server.address() as AddressInfo).port
    return this.#port
  }

  /**
   * Stops accepting connections, closes idle ones, lets replies in flight finish (their
   * connections close after them) for up to `drainTimeoutMs`, then closes every connection.
   * Idempotent.
   */
  close(): Promise<void> {
    this.#closing ??= this.#close()
    return this.#closing
  }

  async #close(): Promise<void> {
    this.#context.closing = true
    await this.#listening?.catch(() => {})
    const server = this.#server
    if (server === undefined) return
    // Resolves once every connection is gone; node:http closes the idle keep-alive ones now.
    const closed = new Promise<void>((resolve) => server.close(() => resolve()))
    for (const socket of this.#silent) socket.destroy()
    // Connections with nothing in flight end now (node:http's closeIdleConnections() misses
    // those that never sent a request); the others end after their reply (Connection: close).
    for (const socket of this.#connections) if (socket[kInFlight] === 0) socket.end()
    let timer: NodeJS.Timeout | undefined
    const drained = await Promise.race([
      closed.then(() => true),
      new Promise<boolean>((resolve) => {
        timer = setTimeout(resolve, this.#drainTimeoutMs, false)
      }),
    ])
    clearTimeout(timer)
    if (!drained) {
      server.closeAllConnections()
      for (const socket of this.#sockets) socket.destroy()
      await closed
    }
  }

  #track(socket: Socket): void {
    const tracked = socket as TrackedSocket
    tracked[kInFlight] = 0
    this.#connections.add(tracked)
    socket.once('close', () => this.#connections.delete(tracked))
  }

  #createServer(): Server {
    const options = { IncomingMessage: RpcIncomingMessage, ...httpTimeouts(this.#limits) }
    const context = this.#context
    const onRequest = (req: RpcIncomingMessage, res: Parameters<typeof startExchange>[2]): void =>
      startExchange(context, req, res)
    const server: Server =
      this.#tls === undefined
        ? createHttpServer(options, onRequest as never)
        : createHttpsServer({ ...this.#tls, ...options }, onRequest as never)
    if (this.#tls !== undefined) sniffPlainHttp(server, this.#silent, this.#limits.headersTimeoutMs, 'HTTPS')
    capConnections(server, this.#limits)
    server.on('connection', (socket: Socket) => {
      this.#sockets.add(socket)
      socket.once('close', () => this.#sockets.delete(socket))
      if (this.#tls === undefined) this.#track(socket)
    })
    server.on('secureConnection', (socket: Socket) => {
      if (this.#context.closing) socket.destroy()
      else this.#track(socket)
    })
    server.on('clientError', onClientError)
    server.on('tlsClientError', (err: Error) => debug('%s TLS client error: %s', this.kind, err.message))
    return server
  }
}

/** A request node:http could not parse: a coded 400 (or 408/431), then the connection closes. */
function onClientError(err: Error & { code?: string }, socket: Socket): void {
  debug('http client error: %s', err.message)
  if (
    socket.writable &&
    !(socket as { _httpMessage?: { headersSent?: boolean } })._httpMessage?.headersSent
  ) {
    const [status, reason] =
      err.code === 'HPE_HEADER_OVERFLOW'
        ? [431, 'Request Header Fields Too Large']
        : err.code === 'ERR_HTTP_REQUEST_TIMEOUT'
          ? [408, 'Request Timeout']
          : [400, 'Bad Request']
    const body = encodeReply(null, `ERR_BAD_REQUEST: ${err.code ?? err.message}`, null)
    socket.end(rawResponse(status, reason, body))
  }
  socket.destroy()
}
