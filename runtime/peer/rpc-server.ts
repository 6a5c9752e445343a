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
import { announcedHosts, bindHost, DEFAULT_HOST } from './bind-address.js'
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
  /**
   * Address to bind. Default: the address the DHT stores this worker's announces at (where the
   * other Grapes see its Grape; `Link.announceHosts`), so it listens exactly where clients look for
   * it, and nowhere else; `'127.0.0.1'` without a `link` or when the Grape cannot tell. A `host`
   * that does not reach the announced address is refused at `start()` (`ERR_ANNOUNCE_MISMATCH`).
   * `'0.0.0.0'` listens on every interface. See docs/many-hosts.md.
   */
  host?: string
  /**
   * Port to announce, when clients reach this endpoint on another port than the bound one (a
   * container's published port, a NAT's forwarded port). Default: the bound port.
   */
  announcePort?: number
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
  /**
   * Refuse to start when an endpoint's `host` does not reach the address it is announced at
   * (`ERR_ANNOUNCE_MISMATCH`). Default true; false when a proxy or NAT set up by hand forwards the
   * announced address to this bind.
   */
  checkAnnounce?: boolean
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

/** An endpoint as given: the options to rebuild it with once its address is known. */
interface Endpoint {
  /** Undefined for a transport built by the caller. */
  build: ((host: string) => ServerTransport) | undefined
  host: string | undefined
  announcePort: number | undefined
}

/**
 * Serves requests on one or more transports and announces its keys through the Link while it runs.
 * Requests for a key nobody handles get `ERR_UNKNOWN_KEY`; after `close()` began, `ERR_CLOSED`.
 */
export class RpcServer {
  readonly #link: Discovery | undefined
  readonly #transports: ServerTransport[]
  readonly #endpoints: Endpoint[]
  readonly #checkAnnounce: boolean
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
    this.#checkAnnounce = checkOption.boolean('checkAnnounce', options.checkAnnounce ?? true)
    this.#endpoints = options.listen.map((endpoint, i): Endpoint => {
      if (typeof (endpoint as ServerTransport).listen === 'function') {
        const given = endpoint as ServerTransport
        return { build: undefined, host: given.host, announcePort: undefined }
      }
      const { transport, port = 0, announcePort, ...rest } = endpoint as ListenOptions
      checkOption.port(`listen[${i}].port`, port)
      if (announcePort !== undefined) checkOption.integer(`listen[${i}].announcePort`, announcePort, 1, 65535)
      const given = Object.fromEntries(Object.entries(rest).filter(([, value]) => value !== undefined))
      const build = (host: string): ServerTransport =>
        createServerTransport(transport, { drainTimeoutMs, ...given, host, port })
      return { build, host: rest.host, announcePort }
    })
    // Built now so bad options fail here; an endpoint whose address comes from the Grape is built
    // again at start() when that address is not the default.
    this.#transports = options.listen.map((endpoint, i) => {
      const { build, host } = this.#endpoints[i] as Endpoint
      return build ? build(host ?? DEFAULT_HOST) : (endpoint as ServerTransport)
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
    await this.#bind(options)
    const names = this.#announcements()
    const dispatch: RequestHandler = (request, reply) => this.#dispatch(request, reply)
    await Promise.all(this.#transports.map((transport) => transport.listen(dispatch)))
    if (this.#link) {
      for (const [name, transport] of names) {
        const endpoint = this.#endpoints[this.#transports.indexOf(transport)]
        this.#announced.push([name, endpoint?.announcePort ?? transport.port])
      }
      const link = this.#link
      await Promise.all(this.#announced.map(([name, port]) => link.startAnnouncing(name, port, options)))
    }
    return this.#transports.map((transport) => ({ transport: transport.kind, port: transport.port }))
  }

  /** Picks (or checks) each endpoint's address against where its announces will be stored. */
  async #bind(options: CallOptions | undefined): Promise<void> {
    if (!this.#link || [...this.#handlers.keys()].every((key) => key === '*')) return
    const announced = await announcedHosts(this.#link, 'RpcServer', options)
    this.#endpoints.forEach((endpoint, i) => {
      const transport = this.#transports[i] as ServerTransport
      // Nothing to pick for a transport built by the caller, and nothing to check without its host.
      if (transport.kind === 'memory' || (!endpoint.build && endpoint.host === undefined)) return
      const host = bindHost(
        {
          what: `RpcServer listen[${i}] (${transport.kind})`,
          option: `listen[${i}].host`,
          host: endpoint.host,
          check: this.#checkAnnounce,
        },
        announced,
      )
      if (endpoint.build && host !== transport.host) this.#transports[i] = endpoint.build(host)
    })
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

  /**
   * Where each endpoint listens, in the order of `listen`: the address bound (chosen at `start()`
   * when not given; undefined for the memory transport) and the port (0 before `start()`).
   */
  get bound(): Array<{ transport: TransportKind; host: string | undefined; port: number }> {
    return this.#transports.map((t) => ({ transport: t.kind, host: t.host, port: t.port }))
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
