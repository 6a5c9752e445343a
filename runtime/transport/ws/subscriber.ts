import { EventEmitter } from 'node:events'
import { debuglog } from 'node:util'
import type WebSocket from 'ws'
import type { ClientOptions, RawData } from 'ws'
import { GrenacheError } from '../../errors.js'
import { wsModule } from '../../util/lazy-modules.js'
import { dialOptions, handshakeError, wsUrl } from './dial.js'
import {
  type ResolvedSubscriberOptions,
  resolveSubscriberOptions,
  type WsSubscriberOptions,
} from './options.js'

const debug = debuglog('grenache')

/** A message as published: a text frame as a string, a binary frame as a Buffer. */
export type WsMessage = string | Buffer

/** Events of a `WsSubscriber`. Never `'error'`: it reconnects by itself. */
export interface WsSubscriberEvents {
  /** The connection to the publisher opened (first time, or again after a drop). */
  'sub:connected': [address: string]
  /** An open connection closed; `error` says why, unless `close()` closed it. */
  'sub:disconnected': [address: string, error?: GrenacheError]
  /** The next connection attempt starts in `delayMs` (after a drop or a failed attempt). */
  'sub:reconnecting': [address: string, delayMs: number, error: GrenacheError]
  /** A message, as the publisher sent it. */
  'sub:message': [data: WsMessage]
}

/**
 * Subscribes to one WebSocket publisher (`ws://ip:port/ws`), as the reference `PeerSub` does: it
 * sends nothing and receives every frame the publisher sends from the moment it connects. Unlike
 * the reference it reconnects by itself, with a backoff, and never throws on a connection error.
 * Read messages with the `'sub:message'` event or `for await (const message of subscriber)`;
 * iteration ends when `close()` is called.
 */
export class WsSubscriber extends EventEmitter<WsSubscriberEvents> implements AsyncIterable<WsMessage> {
  readonly address: string
  readonly options: Readonly<ResolvedSubscriberOptions>
  readonly #url: string
  readonly #dial: ClientOptions
  #socket: WebSocket | undefined
  #connected = false
  #attempt = 0
  #timer: NodeJS.Timeout | undefined
  #started = false
  #closing: Promise<void> | undefined
  /** Wakes the iterators waiting for a message or the end. */
  readonly #iterators = new Set<() => void>()

  constructor(options: WsSubscriberOptions) {
    super()
    this.options = resolveSubscriberOptions(options)
    this.address = this.options.address
    const kind = this.options.tls ? 'wss' : 'ws'
    this.#url = wsUrl(kind, this.address)
    this.#dial = dialOptions(this.options.tls, this.options.maxPayloadBytes, this.options.connectTimeoutMs)
  }

  /** Whether the connection to the publisher is open now. */
  get connected(): boolean {
    return this.#connected
  }

  /** Starts connecting (and reconnecting until `close()`). Idempotent. */
  start(): void {
    if (this.#closing) throw new GrenacheError('ERR_CLOSED', `ws subscriber of ${this.address} is closed`)
    if (this.#started) return
    this.#started = true
    this.#connect()
  }

  /** Stops reconnecting, closes the connection and ends the iterators. Idempotent. */
  close(): Promise<void> {
    this.#closing ??= this.#close()
    return this.#closing
  }

  [Symbol.asyncIterator](): AsyncIterator<WsMessage> {
    const queue: WsMessage[] = []
    let head = 0
    let wake: (() => void) | undefined
    const onMessage = (data: WsMessage): void => {
      queue.push(data)
      wake?.()
    }
    const onEnd = (): void => wake?.()
    const stop = (): IteratorReturnResult<undefined> => {
      this.off('sub:message', onMessage)
      this.#iterators.delete(onEnd)
      queue.length = 0
      head = 0
      return { value: undefined, done: true }
    }
    this.on('sub:message', onMessage)
    this.#iterators.add(onEnd)
    return {
      next: async (): Promise<IteratorResult<WsMessage>> => {
        for (;;) {
          if (head < queue.length) {
            const value = queue[head++] as WsMessage
            if (head === queue.length) {
              queue.length = 0
              head = 0
            }
            return { value, done: false }
          }
          if (this.#closing) return stop()
          await new Promise<void>((resolve) => {
            wake = resolve
          })
          wake = undefined
        }
      },
      return: async () => stop(),
    }
  }

  #connect(): void {
    const socket = new (wsModule().WebSocket)(this.#url, this.#dial)
    this.#socket = socket
    let failure: GrenacheError | undefined
    socket.on('open', () => {
      this.#attempt = 0
      this.#connected = true
      this.emit('sub:connected', this.address)
    })
    socket.on('message', (data: RawData, isBinary: boolean) => {
      this.emit('sub:message', isBinary ? (data as Buffer) : (data as Buffer).toString())
    })
    socket.on('unexpected-response', (_request, response) => {
      response.resume()
      failure ??= new GrenacheError(
        'ERR_TRANSPORT_MISMATCH',
        `ws subscriber: ${this.address} answered the WebSocket upgrade with HTTP ${response.statusCode}`,
      )
      socket.terminate()
    })
    socket.on('error', (err) => {
      debug('ws subscriber of %s: %s', this.address, err.message)
      failure ??= this.#connected
        ? new GrenacheError('ERR_CONNECTION_RESET', `ws subscriber of ${this.address}: ${err.message}`, {
            cause: err,
          })
        : handshakeError(err, this.options.tls ? 'wss' : 'ws', `ws subscriber of ${this.address}`)
    })
    socket.on('close', (code: number) => {
      const wasConnected = this.#connected
      this.#connected = false
      this.#socket = undefined
      if (this.#closing) {
        if (wasConnected) this.emit('sub:disconnected', this.address)
        return
      }
      const error =
        failure ??
        new GrenacheError(
          wasConnected ? 'ERR_CONNECTION_RESET' : 'ERR_CONNECTION_FAILED',
          `ws subscriber of ${this.address}: the connection closed with ${code}`,
        )
      if (wasConnected) this.emit('sub:disconnected', this.address, error)
      this.#scheduleReconnect(error)
    })
  }

  #scheduleReconnect(error: GrenacheError): void {
    const { minReconnectDelayMs, maxReconnectDelayMs } = this.options
    const base = Math.min(maxReconnectDelayMs, minReconnectDelayMs * 2 ** Math.min(this.#attempt, 30))
    // ±20 % so that many subscribers of a restarted publisher do not come back at once.
    const delayMs = Math.max(1, Math.round(Math.min(maxReconnectDelayMs, base * (0.8 + 0.4 * Math.random()))))
    this.#attempt++
    this.#timer = setTimeout(() => {
      this.#timer = undefined
      if (!this.#closing) this.#connect()
    }, delayMs)
    this.emit('sub:reconnecting', this.address, delayMs, error)
  }

  async #close(): Promise<void> {
    if (this.#timer) clearTimeout(this.#timer)
    this.#timer = undefined
    const socket = this.#socket
    if (socket && socket.readyState !== socket.CLOSED) {
      await new Promise<void>((resolve) => {
        const timer = setTimeout(() => socket.terminate(), 1000)
        socket.once('close', () => {
          clearTimeout(timer)
          resolve()
        })
        if (socket.readyState === socket.OPEN) socket.close(1000)
        else socket.terminate()
      })
    }
    for (const wake of this.#iterators) wake()
  }
}
