import { GrenacheError, toGrenacheError } from '../errors.js'
import { createServerTransport } from '../transport/factory.js'
import type {
  Reply,
  RequestHandler,
  RpcRequest,
  ServerTransport,
  ServerTransportOptions,
  TlsOptions,
  TransportKind,
} from '../transport/types.js'
import type { CallOptions } from '../util/deadline.js'
import { checkArgument, checkOption } from '../util/validate.js'
import { type Discovery, type DiscoveryMode, discoveryName } from './discovery.js'

/**
 * One endpoint an `RpcServer` listens on, with the bounds of every server transport
 * (`maxConnections`, `headersTimeoutMs`, `requestTimeoutMs`, `idleTimeoutMs`,
 * `maxInFlightPerConnection`, `maxUnsentBytes`; see `ServerTransportOptions`).
 */
export interface ListenOptions
  extends Pick<
    ServerTransportOptions,
    | 'maxConnections'
    | 'headersTimeoutMs'
    | 'requestTimeoutMs'
    | 'idleTimeoutMs'
    | 'maxInFlightPerConnection'
    | 'maxUnsentBytes'
  > {
  transport: TransportKind
  /** Port; 0 (the default) picks a free one. */
  port?: number
  /** Address to bind. Default `'127.0.0.1'`. Announces carry the Grape's IP, not this. */
  host?: string
  /** Certificate and key for `https` and `wss`; `requestCert` for mutual TLS. */
  tls?: TlsOptions
  /** Largest request accepted, in bytes. Default 1 MiB. */
  maxPayloadBytes?: number
}

/** Options of an `RpcServer`. */
export interface RpcServerOptions {
  /** Announces every key while the server runs. Without it nothing is announced. */
  link?: Discovery
  /** Where to listen: endpoint options, or server transports you built. At least one. */
  listen: ReadonlyArray<ListenOptions | ServerTransport>
  /** How long `close()` waits for replies in flight, in ms. Default 5000. */
  drainTimeoutMs?: number
}

/** Options of `handle()`. */
export interface HandleOptions {
  /** `tagged` (default): announced as `<key>/<transport>` on every transport. `plain`: the key as is. */
  discovery?: DiscoveryMode
  /** For a plain key on a server with several transport kinds: the one kind to announce it on. */
  transport?: TransportKind
}

/** A request handler with the caller's TLS certificate on `request.certificate`. */
export type Handler = (request: RpcRequest, reply: Reply) => void

interface Registration {
  handler: Handler
  options: HandleOptions
}

/**
 * Serves requests on one or more transports and announces its keys through the Link while it runs.
 * Requests for a key nobody handles get `ERR_UNKNOWN_KEY`; after `close()` began, `ERR_CLOSED`.
 */
export class RpcServer {
  readonly #link: Discovery | undefined
  readonly #transports: ServerTransport[]
  readonly #handlers = new Map<string, Registration>()
  readonly #announced: Array<[name: string, port: number]> = []
  #starting: Promise<Array<{ transport: TransportKind; port: number }>> | undefined
  #attempt: Promise<unknown> | undefined
  #closing: Promise<void> | undefined

  constructor(options: RpcServerOptions) {
    if (typeof options !== 'object' || options === null) checkOption.fail('', 'must be an object', options)
    if (!Array.isArray(options.listen) || options.listen.length === 0) {
      checkOption.fail('listen', 'must list at least one endpoint', options.listen)
    }
    this.#link = options.link
    const drainTimeoutMs = checkOption.integer('drainTimeoutMs', options.drainTimeoutMs ?? 5000, 0)
    this.#transports = options.listen.map((endpoint, i) => {
      if (typeof (endpoint as ServerTransport).listen === 'function') return endpoint as ServerTransport
      const { transport, port = 0, ...rest } = endpoint as ListenOptions
      checkOption.port(`listen[${i}].port`, port)
      const given = Object.fromEntries(Object.entries(rest).filter(([, value]) => value !== undefined))
      return createServerTransport(transport, { drainTimeoutMs, ...given, port })
    })
  }

  /** Handles requests for `key` (`'*'`: every key without a handler of its own). Before `start()`. */
  handle(key: string, handler: Handler, options: HandleOptions = {}): this {
    checkArgument.string('key', key)
    if (typeof handler !== 'function') checkArgument.fail('handler', 'must be a function', handler)
    if (this.#starting)
      throw new GrenacheError('ERR_INVALID_ARGUMENT', 'handle() must be called before start()')
    if (this.#handlers.has(key))
      throw new GrenacheError('ERR_INVALID_ARGUMENT', `key ${JSON.stringify(key)} is already handled`)
    this.#handlers.set(key, { handler, options })
    return this
  }

  /**
   * Listens on every transport, then announces every key (not `'*'`) and resolves once each is
   * announced, with the bound ports. Idempotent.
   */
  start(options?: CallOptions): Promise<Array<{ transport: TransportKind; port: number }>> {
    if (this.#closing) return Promise.reject(new GrenacheError('ERR_CLOSED', 'the RpcServer was closed'))
    if (!this.#starting) {
      const attempt = this.#start(options)
      this.#attempt = attempt.catch(() => undefined)
      this.#starting = attempt.catch(async (err: unknown) => {
        await this.close()
        throw toGrenacheError(err, 'RpcServer start')
      })
    }
    return this.#starting
  }

  async #start(options: CallOptions | undefined): Promise<Array<{ transport: TransportKind; port: number }>> {
    const names = this.#announcements()
    const dispatch: RequestHandler = (request, reply) => this.#dispatch(request, reply)
    await Promise.all(this.#transports.map((transport) => transport.listen(dispatch)))
    if (this.#link) {
      for (const [name, transport] of names) this.#announced.push([name, transport.port])
      const link = this.#link
      await Promise.all(this.#announced.map(([name, port]) => link.startAnnouncing(name, port, options)))
    }
    return this.#transports.map((transport) => ({ transport: transport.kind, port: transport.port }))
  }

  /** Each (DHT name, transport) to announce. */
  #announcements(): Array<[string, ServerTransport]> {
    const out: Array<[string, ServerTransport]> = []
    const kinds = [...new Set(this.#transports.map((t) => t.kind))]
    for (const [key, { options }] of this.#handlers) {
      if (key === '*') continue
      const mode = options.discovery ?? 'tagged'
      let transports = this.#transports
      if (mode === 'plain') {
        const kind = options.transport ?? (kinds.length === 1 ? kinds[0] : undefined)
        if (kind === undefined) {
          throw new GrenacheError(
            'ERR_INVALID_OPTION',
            `the plain key ${JSON.stringify(key)} needs options.transport: a reference client cannot tell which of ${kinds.join(', ')} to speak`,
          )
        }
        transports = transports.filter((t) => t.kind === kind)
      }
      for (const transport of transports) out.push([discoveryName(key, transport.kind, mode), transport])
    }
    return out
  }

  #dispatch(request: RpcRequest, reply: Reply): void {
    const registration = this.#handlers.get(request.key) ?? this.#handlers.get('*')
    if (this.#closing) reply('ERR_CLOSED: the worker is shutting down')
    else if (!registration) reply(`ERR_UNKNOWN_KEY: ${request.key}`)
    else registration.handler(request, reply)
  }

  /** The ports listened on, in the order of `listen` (0 before `start()`). */
  get ports(): Array<{ transport: TransportKind; port: number }> {
    return this.#transports.map((transport) => ({ transport: transport.kind, port: transport.port }))
  }

  /** Stops announcing, refuses new requests, waits (bounded) for replies in flight, closes. Idempotent. */
  close(): Promise<void> {
    this.#closing ??= (async () => {
      await this.#attempt
      for (const [name, port] of this.#announced) this.#link?.stopAnnouncing(name, port)
      await Promise.all(this.#transports.map((transport) => transport.close()))
    })()
    return this.#closing
  }
}
