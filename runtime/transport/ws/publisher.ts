import { EventEmitter } from 'node:events'
import { debuglog } from 'node:util'
import type WebSocket from 'ws'
import { GrenacheError } from '../../errors.js'
import { checkArgument } from '../../util/validate.js'
import type { ServerLimits } from '../shared/server-limits.js'
import { batchedSender, type FrameSender } from './batched-send.js'
import { WsEndpoint } from './endpoint.js'
import { resolvePublisherOptions, type WsPublisherOptions } from './options.js'

const debug = debuglog('grenache')

/** What subscribers may send us: nothing (the reference subscriber never sends); a bound anyway. */
const MAX_INCOMING_BYTES = 64 * 1024

/** Events of a `WsPublisher`. */
export interface WsPublisherEvents {
  /** A subscriber connected; `count` is the number connected now. */
  'pub:subscribed': [remote: string, count: number]
  /** A subscriber left (or was dropped for reading too slowly); `count` is the number connected now. */
  'pub:unsubscribed': [remote: string, count: number]
}

/** Where a publisher listens. */
export interface WsPublisherListenOptions {
  /** Port to listen on; 0 picks a free one. */
  port: number
  /** Address to bind. Default `'127.0.0.1'`. */
  host?: string
}

/**
 * The WebSocket publisher of the reference `PeerPub` (grenache-nodejs-ws TransportPub): every
 * message goes unchanged to every connected subscriber, a string as a text frame and a Buffer as a
 * binary frame. No envelope, no topic: the service name a publisher is announced under is its topic.
 */
export class WsPublisher extends EventEmitter<WsPublisherEvents> {
  readonly #tls: WsPublisherOptions['tls']
  readonly #maxBufferedBytes: number
  readonly #limits: ServerLimits
  /** Connected subscribers, each with a sender that batches the frames of a tick. */
  readonly #sockets = new Map<WebSocket, FrameSender>()
  #endpoint: WsEndpoint | undefined
  #closing: Promise<void> | undefined

  constructor(options?: WsPublisherOptions) {
    super()
    const resolved = resolvePublisherOptions(options)
    this.#tls = resolved.tls
    this.#maxBufferedBytes = resolved.maxBufferedBytes
    this.#limits = resolved.limits
  }

  /** The bound port (0 before `listen` resolved). */
  get port(): number {
    return this.#endpoint?.port ?? 0
  }

  /** Subscribers connected now. */
  get subscribers(): number {
    return this.#sockets.size
  }

  /** Starts listening; resolves with the bound port. */
  async listen(options: WsPublisherListenOptions): Promise<number> {
    if (this.#closing) throw new GrenacheError('ERR_CLOSED', 'ws publisher is closed')
    if (this.#endpoint) throw new GrenacheError('ERR_INVALID_ARGUMENT', 'ws publisher is already listening')
    if (typeof options !== 'object' || options === null)
      checkArgument.fail('options', 'must be an object', options)
    const port = checkArgument.port('options.port', options.port)
    const host = checkArgument.string('options.host', options.host ?? '127.0.0.1')
    const tls = this.#tls
    const endpoint = new WsEndpoint(
      {
        kind: tls ? 'wss' : 'ws',
        port,
        host,
        tls,
        maxPayload: MAX_INCOMING_BYTES,
        role: 'Grenache publisher',
        limits: this.#limits,
      },
      (socket, request) => {
        if (this.#closing) {
          socket.close(1001, 'closing')
          return
        }
        const remote = `${request.socket.remoteAddress}:${request.socket.remotePort}`
        this.#sockets.set(socket, batchedSender(socket))
        socket.on('close', () => {
          if (this.#sockets.delete(socket)) this.emit('pub:unsubscribed', remote, this.#sockets.size)
        })
        this.emit('pub:subscribed', remote, this.#sockets.size)
      },
    )
    this.#endpoint = endpoint
    let bound: number
    try {
      bound = await endpoint.listen()
    } catch (err) {
      this.#endpoint = undefined
      throw err
    }
    if (this.#closing) throw new GrenacheError('ERR_CLOSED', 'ws publisher closed while binding')
    return bound
  }

  /**
   * Sends `message` to every connected subscriber; returns how many it was sent to. A Buffer is
   * sent as it is, without a copy: do not change it afterwards.
   */
  publish(message: string | Buffer): number {
    if (this.#closing) throw new GrenacheError('ERR_CLOSED', 'ws publisher is closed')
    const binary = Buffer.isBuffer(message)
    if (!binary && typeof message !== 'string') {
      throw new GrenacheError(
        'ERR_INVALID_ARGUMENT',
        `message must be a string or a Buffer, got ${message === null ? 'null' : typeof message}`,
      )
    }
    if (this.#sockets.size === 0) return 0
    // Encoded once for every subscriber; a text frame from a Buffer keeps its bytes.
    const data = binary ? message : Buffer.from(message)
    const options = { binary }
    let sent = 0
    for (const [socket, send] of this.#sockets) {
      if (socket.bufferedAmount > this.#maxBufferedBytes) {
        debug('ws publisher: dropped a subscriber with %d bytes queued', socket.bufferedAmount)
        socket.terminate()
        continue
      }
      if (socket.readyState !== 1) continue
      send(data, options)
      sent++
    }
    return sent
  }

  /** Closes every subscriber connection (close frame 1001) and the server. Idempotent. */
  close(): Promise<void> {
    this.#closing ??= this.#endpoint ? this.#endpoint.closeSockets() : Promise.resolve()
    return this.#closing
  }
}
