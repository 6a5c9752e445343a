import { GrenacheError } from '../errors.js'
import type { TlsOptions } from '../transport/types.js'
import { WsPublisher } from '../transport/ws/index.js'
import { ZmqPublisher } from '../transport/zmq/index.js'
import type { CallOptions } from '../util/deadline.js'
import { checkArgument, checkOption } from '../util/validate.js'
import { announcedHosts, bindHost, DEFAULT_HOST } from './bind-address.js'
import { type Discovery, type DiscoveryMode, discoveryName } from './discovery.js'

/** The protocols pub/sub runs on. `ws` is the reference's (raw frames, no topics); `zmq` has topics. */
export type PubSubKind = 'ws' | 'wss' | 'zmq'

/** Options of a `PubServer`. */
export interface PubServerOptions {
  /** Announces `name` while the publisher runs. Without it nothing is announced. */
  link?: Discovery
  /** The name subscribers look up. */
  name: string
  transport: PubSubKind
  /** Port; 0 (the default) picks a free one. */
  port?: number
  /**
   * Address to bind. Default: where the DHT stores this publisher's announce (the address the
   * other Grapes see its Grape at), `'127.0.0.1'` without a `link`; an explicit one that does not
   * reach it is refused at `start()` with `ERR_ANNOUNCE_MISMATCH`. As `RpcServer`'s `host`.
   */
  host?: string
  /** Port to announce, when subscribers reach it on another port than the bound one (NAT). */
  announcePort?: number
  /** Refuse a `host` that does not reach the announced address. Default true. */
  checkAnnounce?: boolean
  /** Certificate and key, for `wss`. */
  tls?: TlsOptions
  /**
   * `tagged` (default): announced as `<name>/<transport>`. `plain`: the name as it is, which the
   * reference `PeerSub` (WebSocket) looks up.
   */
  discovery?: DiscoveryMode
}

/**
 * Publishes to every subscriber: over WebSocket, each message as one raw frame, exactly as the
 * reference `PeerPub` does (so a reference `PeerSub` receives it); over ZeroMQ, as `[topic, message]`.
 * Subscribers get what is published while they are connected; there is no history.
 */
export class PubServer {
  readonly kind: PubSubKind
  readonly name: string
  readonly #link: Discovery | undefined
  readonly #ws: WsPublisher | undefined
  #zmq: ZmqPublisher | undefined
  readonly #announceAs: string
  readonly #port: number
  readonly #host: string | undefined
  readonly #announcePort: number | undefined
  readonly #checkAnnounce: boolean
  #starting: Promise<number> | undefined
  #closing: Promise<void> | undefined

  constructor(options: PubServerOptions) {
    if (typeof options !== 'object' || options === null) checkOption.fail('', 'must be an object', options)
    this.name = checkOption.string('name', options.name)
    this.kind = options.transport
    this.#port = checkOption.port('port', options.port ?? 0)
    this.#host = options.host === undefined ? undefined : checkOption.string('host', options.host)
    this.#announcePort =
      options.announcePort === undefined
        ? undefined
        : checkOption.integer('announcePort', options.announcePort, 1, 65535)
    this.#checkAnnounce = checkOption.boolean('checkAnnounce', options.checkAnnounce ?? true)
    this.#link = options.link
    this.#announceAs = discoveryName(this.name, this.kind, options.discovery ?? 'tagged')
    if (this.kind === 'zmq') {
      if (options.tls) checkOption.fail('tls', 'does not apply to zmq (no TLS on ZeroMQ)', options.tls)
      // With a link and no host, the address comes from the Grape at start(); the socket waits for it.
      if (this.#host !== undefined || !this.#link)
        this.#zmq = new ZmqPublisher({ port: this.#port, host: this.#host ?? DEFAULT_HOST })
    } else if (this.kind === 'ws' || this.kind === 'wss') {
      if (this.kind === 'wss' && !options.tls) checkOption.fail('tls', 'is required for wss', options.tls)
      this.#ws = new WsPublisher(options.tls ? { tls: options.tls } : {})
    } else {
      checkOption.fail('transport', 'must be "ws", "wss" or "zmq"', options.transport)
    }
  }

  /** The bound port (0 before `start()`). */
  get port(): number {
    return this.#ws?.port ?? this.#zmq?.port ?? 0
  }

  /** Subscribers connected now (WebSocket only; ZeroMQ does not tell). */
  get subscribers(): number | undefined {
    return this.#ws?.subscribers
  }

  /** Listens, then announces the name; resolves with the port. Idempotent. */
  start(options?: CallOptions): Promise<number> {
    if (this.#closing) return Promise.reject(new GrenacheError('ERR_CLOSED', 'the PubServer was closed'))
    this.#starting ??= (async () => {
      const announced = await announcedHosts(this.#link, 'PubServer', options)
      const host = bindHost(
        { what: `PubServer ${this.name}`, option: 'host', host: this.#host, check: this.#checkAnnounce },
        announced,
      )
      this.#zmq ??= this.kind === 'zmq' ? new ZmqPublisher({ port: this.#port, host }) : undefined
      const port = this.#ws
        ? await this.#ws.listen({ port: this.#port, host })
        : await (this.#zmq as ZmqPublisher).listen()
      await this.#link?.startAnnouncing(this.#announceAs, this.#announcePort ?? port, options)
      return port
    })()
    return this.#starting
  }

  /**
   * Sends `message` to every subscriber. Over WebSocket a string travels as a text frame and bytes
   * as a binary frame, and `topic` is refused (the reference protocol has none); over ZeroMQ
   * `topic` defaults to `''` (every subscriber).
   */
  publish(message: string | Uint8Array, topic?: string): void {
    if (this.#closing) throw new GrenacheError('ERR_CLOSED', 'the PubServer was closed')
    if (typeof message !== 'string' && !(message instanceof Uint8Array)) {
      checkArgument.fail('message', 'must be a string or bytes', message)
    }
    if (this.#ws) {
      if (topic !== undefined) checkArgument.fail('topic', 'is not carried by WebSocket pub/sub', topic)
      this.#ws.publish(typeof message === 'string' ? message : Buffer.from(message))
    } else {
      // Not built before start() when its address comes from the Grape: nobody can be subscribed yet.
      this.#zmq?.publish(topic ?? '', message)
    }
  }

  /** Stops announcing and closes every subscriber connection. Idempotent. */
  close(): Promise<void> {
    this.#closing ??= (async () => {
      const port = await this.#starting?.catch(() => undefined)
      if (port !== undefined) this.#link?.stopAnnouncing(this.#announceAs, this.#announcePort ?? port)
      await (this.#ws ?? this.#zmq)?.close()
    })()
    return this.#closing
  }
}
