import { EventEmitter } from 'node:events'
import { debuglog } from 'node:util'
import type { Subscriber } from 'zeromq'
import { GrenacheError } from '../../errors.js'
import { zmqModule } from '../../util/lazy-modules.js'
import { dialEndpoint } from './endpoint.js'
import {
  type ResolvedSubscriberOptions,
  resolveSubscriberOptions,
  type ZmqSubscriberOptions,
} from './options.js'

const debug = debuglog('grenache')

/** How long `close()` waits for libzmq to report the socket closed, in ms. */
const CLOSE_WAIT_MS = 2000

/** One published message. */
export interface ZmqMessage {
  topic: string
  message: Buffer
}

/** Events of a `ZmqSubscriber`; there is never an `'error'` event. */
export interface ZmqSubscriberEvents {
  /** The connection to a publisher (`"ip:port"`, as given to `connect`) is up: first time or again. */
  'sub:connected': [address: string]
  /** The connection to a publisher dropped (libzmq reconnects by itself), or `disconnect` removed it. */
  'sub:disconnected': [address: string]
}

/**
 * Receives what ZeroMQ publishers send to the topics it subscribed to (prefix match, as ZeroMQ
 * does): a Sub socket connected to any number of publishers, added and removed at runtime.
 * libzmq reconnects to a publisher that went away and renews the subscriptions; the typed
 * `sub:*` events tell when. Messages come through `for await (const { topic, message } of sub)`,
 * which ends on `close()`.
 */
export class ZmqSubscriber extends EventEmitter<ZmqSubscriberEvents> implements AsyncIterable<ZmqMessage> {
  readonly options: Readonly<ResolvedSubscriberOptions>
  readonly #socket: Subscriber
  readonly #watching: Promise<void>
  /** Connected addresses by endpoint, and whether each one is up. */
  readonly #publishers = new Map<string, { address: string; up: boolean }>()
  #reading = false
  #closing: Promise<void> | undefined

  constructor(options?: ZmqSubscriberOptions) {
    super()
    this.options = resolveSubscriberOptions(options)
    this.#socket = new (zmqModule().Subscriber)({
      linger: 0,
      reconnectInterval: this.options.reconnectIntervalMs,
      reconnectMaxInterval: this.options.reconnectMaxIntervalMs,
      receiveHighWaterMark: this.options.receiveHighWaterMark,
      maxMessageSize: this.options.maxPayloadBytes,
    })
    this.#watching = this.#watch(this.#socket.events)
  }

  /** The publishers connected to (or being connected to), as given to `connect`. */
  get addresses(): string[] {
    return [...this.#publishers.values()].map((p) => p.address)
  }

  /** Whether the connection to `address` is up now. */
  isConnected(address: string): boolean {
    return [...this.#publishers.values()].some((p) => p.address === address && p.up)
  }

  /** Connects to the publisher at `"ip:port"`; connecting to one already connected does nothing. */
  connect(address: string): void {
    this.#open()
    const endpoint = dialEndpoint(address)
    if (this.#publishers.has(endpoint.url)) return
    if (endpoint.ipv6) this.#socket.ipv6 = true
    this.#publishers.set(endpoint.url, { address, up: false })
    this.#socket.connect(endpoint.url)
  }

  /** Disconnects from the publisher at `address` (`sub:disconnected` if it was up). */
  disconnect(address: string): void {
    this.#open()
    const endpoint = dialEndpoint(address)
    const publisher = this.#publishers.get(endpoint.url)
    if (!publisher) return
    this.#publishers.delete(endpoint.url)
    this.#socket.disconnect(endpoint.url)
    if (publisher.up) this.#emit('sub:disconnected', publisher.address)
  }

  /** Receives the topics that start with `topic` (`''` receives every topic). */
  subscribe(topic: string): void {
    this.#open()
    this.#socket.subscribe(checkTopic(topic))
  }

  /** Undoes one `subscribe(topic)`. */
  unsubscribe(topic: string): void {
    this.#open()
    this.#socket.unsubscribe(checkTopic(topic))
  }

  /** The messages, one reader at a time; the iteration ends on `close()`. */
  async *[Symbol.asyncIterator](): AsyncIterator<ZmqMessage> {
    if (this.#reading)
      throw new GrenacheError('ERR_INVALID_ARGUMENT', 'the zmq subscriber already has a reader')
    this.#reading = true
    const socket = this.#socket
    try {
      while (!socket.closed) {
        let frames: Buffer[]
        try {
          frames = await socket.receive()
        } catch (err) {
          if (!socket.closed) debug('zmq subscriber: receive failed: %s', (err as Error).message)
          return
        }
        const [topic, message] = frames
        if (frames.length !== 2 || topic === undefined || message === undefined) {
          debug('zmq subscriber: dropped a message of %d frames', frames.length)
          continue
        }
        yield { topic: topic.toString(), message }
      }
    } finally {
      this.#reading = false
    }
  }

  /** Closes the socket; the iteration ends and connected publishers get `sub:disconnected`. Idempotent. */
  close(): Promise<void> {
    this.#closing ??= (async () => {
      const up = [...this.#publishers.values()].filter((p) => p.up)
      this.#publishers.clear()
      this.#socket.close()
      for (const publisher of up) this.#emit('sub:disconnected', publisher.address)
      let timer: NodeJS.Timeout | undefined
      await Promise.race([
        this.#watching,
        new Promise((resolve) => (timer = setTimeout(resolve, CLOSE_WAIT_MS))),
      ])
      clearTimeout(timer)
    })()
    return this.#closing
  }

  /** Emits without letting a throwing listener stop the event loop of the socket: it throws later, as usual. */
  #emit(type: keyof ZmqSubscriberEvents, address: string): void {
    try {
      this.emit(type, address)
    } catch (err) {
      process.nextTick(() => {
        throw err
      })
    }
  }

  #open(): void {
    if (this.#closing) throw new GrenacheError('ERR_CLOSED', 'the zmq subscriber was closed')
  }

  async #watch(events: Subscriber['events']): Promise<void> {
    try {
      for await (const event of events) {
        if (event.type === 'end') break
        if (event.type !== 'handshake' && event.type !== 'disconnect') continue
        const publisher = this.#publishers.get(event.address)
        if (!publisher) continue
        const up = event.type === 'handshake'
        if (publisher.up === up) continue
        publisher.up = up
        this.#emit(up ? 'sub:connected' : 'sub:disconnected', publisher.address)
      }
    } catch (err) {
      debug('zmq subscriber: the event observer failed: %s', (err as Error).message)
    }
  }
}

function checkTopic(topic: unknown): string {
  if (typeof topic !== 'string') {
    throw new GrenacheError('ERR_INVALID_ARGUMENT', `topic must be a string, got ${typeof topic}`)
  }
  return topic
}
