import { debuglog } from 'node:util'
import type { Publisher } from 'zeromq'
import { GrenacheError, toGrenacheError } from '../../errors.js'
import { zmqModule } from '../../util/lazy-modules.js'
import { bindEndpoint, endpointPort } from './endpoint.js'
import {
  type ResolvedPublisherOptions,
  resolvePublisherOptions,
  type ZmqPublisherOptions,
} from './options.js'

const debug = debuglog('grenache')

/** How long libzmq keeps flushing messages already published once the socket is closed, in ms. */
const LINGER_MS = 1000
/** How long `close()` waits for libzmq to report the socket closed (its port free again), in ms. */
const CLOSE_WAIT_MS = 2000

/**
 * Publishes `[topic, message]` to every ZeroMQ subscriber whose subscription is a prefix of the
 * topic: a Pub socket bound to `tcp://host:port`. There is no history: a subscriber gets what is
 * published after it connected and subscribed. A subscriber that reads too slowly misses messages
 * once `sendHighWaterMark` are queued for it.
 */
export class ZmqPublisher {
  readonly options: Readonly<ResolvedPublisherOptions>
  readonly #socket: Publisher
  readonly #watching: Promise<void>
  #port = 0
  #listening: Promise<number> | undefined
  #closing: Promise<void> | undefined

  constructor(options: ZmqPublisherOptions) {
    this.options = resolvePublisherOptions(options)
    const endpoint = bindEndpoint(this.options.host, this.options.port)
    this.#socket = new (zmqModule().Publisher)({
      linger: LINGER_MS,
      // A Pub never blocks (it drops for a subscriber at its high-water mark), so no send is pending.
      sendTimeout: 0,
      sendHighWaterMark: this.options.sendHighWaterMark,
      ipv6: endpoint.ipv6,
    })
    this.#watching = this.#watch(this.#socket.events)
  }

  /** The bound port (0 before `listen` resolved). */
  get port(): number {
    return this.#port
  }

  /** Binds the socket; resolves with the port. */
  listen(): Promise<number> {
    if (this.#closing) return Promise.reject(new GrenacheError('ERR_CLOSED', 'the zmq publisher was closed'))
    this.#listening ??= this.#listen()
    return this.#listening
  }

  async #listen(): Promise<number> {
    const endpoint = bindEndpoint(this.options.host, this.options.port)
    try {
      await this.#socket.bind(endpoint.url)
    } catch (err) {
      throw toGrenacheError(err, `zmq publisher listen on ${endpoint.url}`)
    }
    this.#port = endpointPort(this.#socket.lastEndpoint)
    return this.#port
  }

  /**
   * Sends `message` under `topic` to the subscribers of a prefix of `topic`. Never blocks; a
   * message nobody subscribed to is dropped at once. `ERR_CLOSED` after `close()`.
   */
  publish(topic: string, message: string | Uint8Array): void {
    if (this.#closing) throw new GrenacheError('ERR_CLOSED', 'the zmq publisher was closed')
    if (typeof topic !== 'string') {
      throw new GrenacheError('ERR_INVALID_ARGUMENT', `topic must be a string, got ${typeof topic}`)
    }
    if (typeof message !== 'string' && !(message instanceof Uint8Array)) {
      throw new GrenacheError(
        'ERR_INVALID_ARGUMENT',
        `message must be a string or bytes, got ${typeof message}`,
      )
    }
    this.#socket.send([topic, message]).then(undefined, (err: unknown) => {
      debug('zmq publisher :%d: a message was not sent: %s', this.#port, (err as Error).message)
    })
  }

  /** Closes the socket (messages already published are still flushed for a while). Idempotent. */
  close(): Promise<void> {
    this.#closing ??= (async () => {
      await this.#listening?.catch(() => undefined)
      this.#socket.close()
      let timer: NodeJS.Timeout | undefined
      await Promise.race([
        this.#watching,
        new Promise((resolve) => (timer = setTimeout(resolve, CLOSE_WAIT_MS))),
      ])
      clearTimeout(timer)
    })()
    return this.#closing
  }

  async #watch(events: Publisher['events']): Promise<void> {
    try {
      for await (const event of events) {
        if (event.type === 'end') break
        if (debug.enabled) {
          debug('zmq publisher :%d: %s %s', this.#port, event.type, 'address' in event ? event.address : '')
        }
      }
    } catch (err) {
      debug('zmq publisher :%d: the event observer failed: %s', this.#port, (err as Error).message)
    }
  }
}
