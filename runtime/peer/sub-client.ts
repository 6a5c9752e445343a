import { EventEmitter, once } from 'node:events'
import { GrenacheError, toGrenacheError } from '../errors.js'
import type { TlsOptions } from '../transport/types.js'
import { WsSubscriber } from '../transport/ws/index.js'
import { ZmqSubscriber } from '../transport/zmq/index.js'
import { type CallOptions, createDeadline, sleep } from '../util/deadline.js'
import { checkOption } from '../util/validate.js'
import { type Discovery, type DiscoveryMode, discoveryName } from './discovery.js'
import { MessageQueue } from './message-queue.js'
import type { PubSubKind } from './pub-server.js'

/** One message from a publisher. */
export interface SubMessage {
  /** A text frame as a string, anything else as bytes (ZeroMQ: always bytes). */
  data: string | Buffer
  /** ZeroMQ only: the topic it was published to. */
  topic: string | undefined
}

/** Events of a `SubClient`. Never `'error'`: it reconnects by itself. */
export interface SubClientEvents {
  'sub:connected': [address: string]
  'sub:disconnected': [address: string, error?: GrenacheError]
  'sub:message': [message: SubMessage]
  /** A lookup of the publishers failed; the client keeps what it has and asks again later. */
  'sub:lookup-error': [error: GrenacheError]
}

/** Options of a `SubClient`. */
export interface SubClientOptions {
  link: Discovery
  /** The name the publishers announce. */
  name: string
  transport: PubSubKind
  /** `tagged` (default) looks up `<name>/<transport>`; `plain` the name as it is (reference `PeerPub`). */
  discovery?: DiscoveryMode
  /** For `wss`: the CA that signed the publisher's certificate, and a client certificate if asked for. */
  tls?: TlsOptions
  /** ZeroMQ: topic prefixes to receive. Default `['']` (everything). */
  topics?: readonly string[]
  /**
   * `all` (default): receive from every publisher announced, and from those announced later.
   * `one`: connect to one publisher chosen at random and move to another only when it is gone (the
   * reference `PeerSub`'s behaviour, for publishers that all send the same stream).
   */
  publishers?: 'all' | 'one'
  /** How often the publishers are looked up again (to find new ones), in ms. Default 5000. */
  refreshMs?: number
  /** Messages kept for a slow `for await` reader; beyond it the oldest are dropped (counted in `dropped`). Default 10000. */
  maxQueuedMessages?: number
}

/**
 * Receives what the publishers of a name send. On every transport it connects to every publisher
 * announced and follows them as they come and go (looked up every `refreshMs`), since each worker
 * publishes its own events; with `publishers: 'one'` it keeps to one publisher chosen at random, as
 * the reference `PeerSub`. Messages come as `sub:message` events and through
 * `for await (const message of client)`.
 */
export class SubClient extends EventEmitter<SubClientEvents> implements AsyncIterable<SubMessage> {
  readonly #options: SubClientOptions
  readonly #lookupName: string
  readonly #refreshMs: number
  readonly #queue: MessageQueue<SubMessage>
  readonly #one: boolean
  /** WebSocket: one subscriber per publisher followed, by address. */
  readonly #ws = new Map<string, WsSubscriber>()
  #zmq: ZmqSubscriber | undefined
  #timer: NodeJS.Timeout | undefined
  #starting: Promise<void> | undefined
  #closing: Promise<void> | undefined

  constructor(options: SubClientOptions) {
    super()
    if (typeof options !== 'object' || options === null) checkOption.fail('', 'must be an object', options)
    if (!options.link || typeof options.link.lookup !== 'function')
      checkOption.fail('link', 'must be a Link', options.link)
    checkOption.string('name', options.name)
    if (!['ws', 'wss', 'zmq'].includes(options.transport)) {
      checkOption.fail('transport', 'must be "ws", "wss" or "zmq"', options.transport)
    }
    if (options.transport === 'zmq' && options.tls)
      checkOption.fail('tls', 'does not apply to zmq', options.tls)
    this.#options = options
    this.#lookupName = discoveryName(options.name, options.transport, options.discovery ?? 'tagged')
    const publishers = options.publishers ?? 'all'
    if (publishers !== 'all' && publishers !== 'one')
      checkOption.fail('publishers', 'must be "all" or "one"', publishers)
    this.#one = publishers === 'one'
    this.#refreshMs = checkOption.integer('refreshMs', options.refreshMs ?? 5000, 50)
    this.#queue = new MessageQueue(
      checkOption.integer('maxQueuedMessages', options.maxQueuedMessages ?? 10_000, 1),
    )
    if (options.transport === 'zmq') this.#zmq = this.#newZmq()
  }

  /** Messages dropped because a `for await` reader fell behind. */
  get dropped(): number {
    return this.#queue.dropped
  }

  /**
   * Looks the publishers up and connects; resolves once connected to one. Keeps asking until
   * `timeoutMs` (default 10000), then rejects with the last failure and closes. Idempotent.
   */
  start(options?: CallOptions): Promise<void> {
    if (this.#closing) return Promise.reject(new GrenacheError('ERR_CLOSED', 'the SubClient was closed'))
    this.#starting ??= this.#start(options).catch(async (err: unknown) => {
      await this.close()
      throw toGrenacheError(err, `subscribe to ${this.#lookupName}`)
    })
    return this.#starting
  }

  async #start(options: CallOptions | undefined): Promise<void> {
    // Not AbortSignal.timeout: once garbage-collected it never fires, and start() would hang.
    const deadline = createDeadline(options, 10_000, `subscribe to ${this.#lookupName}`)
    const connected = once(this, 'sub:connected', { signal: deadline.signal })
    connected.catch(() => undefined)
    this.#timer = setInterval(() => void this.#refresh(), this.#refreshMs)
    this.#timer.unref()
    let lastError: GrenacheError | undefined
    const onLookupError = (err: GrenacheError): void => {
      lastError = err
    }
    this.on('sub:lookup-error', onLookupError)
    void this.#findFirst(deadline.signal)
    try {
      await connected
    } catch {
      throw (
        lastError ?? new GrenacheError('ERR_TIMEOUT', `no publisher of ${this.#lookupName} could be reached`)
      )
    } finally {
      deadline.dispose()
      this.off('sub:lookup-error', onLookupError)
    }
  }

  /**
   * While starting: asks at once, and again soon after a failed or empty lookup (100 ms, doubling up
   * to `refreshMs`), each lookup bounded by what is left of start()'s deadline, until publishers are
   * found. A publisher announcing a moment after start() is not waited for a whole `refreshMs`, and
   * a slow Grape does not hold start() past its deadline.
   */
  async #findFirst(signal: AbortSignal): Promise<void> {
    let waitMs = 100
    while (!signal.aborted && !this.#closing) {
      if (await this.#refresh(signal)) return
      await sleep(waitMs, signal).catch(() => undefined)
      waitMs = Math.min(waitMs * 2, this.#refreshMs)
    }
  }

  /** Asks for the publishers again and follows them; false when the lookup failed. */
  async #refresh(signal?: AbortSignal): Promise<boolean> {
    let addresses: readonly string[]
    try {
      addresses = await this.#options.link.lookup(this.#lookupName, { timeoutMs: this.#refreshMs, signal })
    } catch (err) {
      // A lookup cut short by start()'s deadline is not the failure to report: the one before it is.
      if (!this.#closing && !signal?.aborted) this.emit('sub:lookup-error', toGrenacheError(err))
      return false
    }
    if (this.#closing) return true
    const wanted = this.#one ? this.#chooseOne(addresses) : new Set(addresses)
    if (this.#zmq) {
      for (const address of this.#zmq.addresses) if (!wanted.has(address)) this.#zmq.disconnect(address)
      for (const address of wanted) if (!this.#zmq.addresses.includes(address)) this.#zmq.connect(address)
      return true
    }
    for (const [address, ws] of this.#ws) {
      if (wanted.has(address)) continue
      // The publisher is no longer announced; a restarted one comes back under its new address.
      this.#ws.delete(address)
      ws.removeAllListeners()
      void ws.close()
    }
    for (const address of wanted) if (!this.#ws.has(address)) this.#ws.set(address, this.#newWs(address))
    return true
  }

  /** `publishers: 'one'`: stay with the current publisher while it is announced and up, else pick another. */
  #chooseOne(addresses: readonly string[]): Set<string> {
    const current = this.#zmq?.addresses[0] ?? this.#ws.keys().next().value
    if (current !== undefined && addresses.includes(current)) {
      const up = this.#zmq ? true : this.#ws.get(current)?.connected
      if (up || addresses.length === 1) return new Set([current])
    }
    const others = addresses.filter((a) => a !== current)
    const address = others[Math.floor(Math.random() * others.length)]
    return new Set(address === undefined ? [] : [address])
  }

  #newWs(address: string): WsSubscriber {
    const { tls, transport } = this.#options
    const ws = new WsSubscriber({ address, ...(transport === 'wss' ? { tls: tls ?? {} } : {}) })
    ws.on('sub:connected', (a) => this.emit('sub:connected', a))
    ws.on('sub:disconnected', (a, error) => this.emit('sub:disconnected', a, ...(error ? [error] : [])))
    ws.on('sub:message', (data) => this.#deliver({ data, topic: undefined }))
    ws.start()
    return ws
  }

  #newZmq(): ZmqSubscriber {
    const zmq = new ZmqSubscriber()
    for (const topic of this.#options.topics ?? ['']) zmq.subscribe(topic)
    zmq.on('sub:connected', (a) => this.emit('sub:connected', a))
    zmq.on('sub:disconnected', (a) => this.emit('sub:disconnected', a))
    void (async () => {
      for await (const { topic, message } of zmq) this.#deliver({ data: message, topic })
    })()
    return zmq
  }

  #deliver(message: SubMessage): void {
    this.emit('sub:message', message)
    this.#queue.push(message)
  }

  /** The messages received from now on, one reader at a time; the iteration ends on `close()`. */
  [Symbol.asyncIterator](): AsyncIterator<SubMessage> {
    return this.#queue.reader()
  }

  /** Stops following the publishers, closes the connections and ends the iteration. Idempotent. */
  close(): Promise<void> {
    this.#closing ??= (async () => {
      clearInterval(this.#timer)
      await Promise.all([...[...this.#ws.values()].map((ws) => ws.close()), this.#zmq?.close()])
      this.#queue.end()
    })()
    return this.#closing
  }
}
