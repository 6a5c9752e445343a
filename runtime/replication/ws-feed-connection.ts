import type WebSocket from 'ws'
import type { RawData } from 'ws'
import { GrenacheError } from '../errors.js'
import type { Discovery } from '../peer/discovery.js'
import type { TlsOptions } from '../transport/types.js'
import { dialOptions, handshakeError } from '../transport/ws/dial.js'
import { wsModule } from '../util/lazy-modules.js'

/** Everything a `WsFeedConnection` needs, decided (see `WsFeedClientOptions`). */
export interface WsFeedConnectionOptions {
  url: string | undefined
  link: Discovery | undefined
  path: string
  tls: TlsOptions | undefined
  minReconnectDelayMs: number
  maxReconnectDelayMs: number
  maxReconnectAttempts: number
  connectTimeoutMs: number
  maxPayloadBytes: number
  idleTimeoutMs: number
}

/** What the owner of a connection hears. */
export interface WsFeedConnectionHandlers {
  message(data: Buffer): void
  /** A connection that had opened closed; another is on its way. */
  disconnected(info: { code: number; reason: string; error: GrenacheError | undefined }): void
  /** Too many failed connections in a row (`maxReconnectAttempts`): it stopped. */
  failed(error: GrenacheError): void
}

/**
 * One WebSocket to a feed at a time, made again after every loss with a bounded, jittered
 * exponential backoff (the address looked up again through the Link, if that is how it was
 * found). A connection that hears nothing, not even a ping, for `idleTimeoutMs` is dropped.
 */
export class WsFeedConnection {
  readonly #feed: string
  readonly #o: WsFeedConnectionOptions
  readonly #on: WsFeedConnectionHandlers
  #socket: WebSocket | undefined
  /** The socket whose frames count: not one being dropped (ws may still emit what it had buffered). */
  #current: WebSocket | undefined
  /** Why the connection being tried failed (cleared by each new attempt). */
  #failure: GrenacheError | undefined
  /** Why the last attempt that ended failed: kept while the next one is tried. */
  #lastError: GrenacheError | undefined
  #attempt = 0
  #timer: NodeJS.Timeout | undefined
  #idle: NodeJS.Timeout | undefined
  #closed = false
  /** Reconnections scheduled so far. */
  reconnects = 0

  constructor(feed: string, options: WsFeedConnectionOptions, handlers: WsFeedConnectionHandlers) {
    this.#feed = feed
    this.#o = options
    this.#on = handlers
  }

  /**
   * Why the last connection failed or closed, if one did; the attempt after it being under way
   * does not hide it (a deadline then still names what went wrong).
   */
  get lastError(): GrenacheError | undefined {
    return this.#failure ?? this.#lastError
  }

  start(): void {
    void this.#connect()
  }

  /** The connection did its job (a snapshot was installed): the backoff starts over. */
  succeeded(): void {
    this.#attempt = 0
  }

  /** Drops the current connection (`error` says why); another one follows. */
  drop(error: GrenacheError): void {
    this.#failure ??= error
    this.#current = undefined
    this.#socket?.terminate()
  }

  /** Stops reconnecting and closes the connection (with `code`, graceful for up to a second). */
  async close(code = 1000, reason = ''): Promise<void> {
    this.#closed = true
    clearTimeout(this.#timer)
    clearTimeout(this.#idle)
    const socket = this.#socket
    if (!socket || socket.readyState === socket.CLOSED) return
    await new Promise<void>((resolve) => {
      const timer = setTimeout(() => socket.terminate(), 1000)
      socket.once('close', () => {
        clearTimeout(timer)
        resolve()
      })
      if (socket.readyState === socket.OPEN) socket.close(code, reason)
      else socket.terminate()
    })
  }

  async #connect(): Promise<void> {
    let url: string
    try {
      url = await this.#url()
    } catch (err) {
      this.#retry(
        err instanceof GrenacheError ? err : new GrenacheError('ERR_CONNECTION_FAILED', String(err)),
      )
      return
    }
    if (this.#closed) return
    this.#failure = undefined
    const { tls, maxPayloadBytes, connectTimeoutMs } = this.#o
    const socket = new (wsModule().WebSocket)(url, dialOptions(tls, maxPayloadBytes, connectTimeoutMs))
    this.#socket = socket
    this.#current = socket
    let open = false
    const what = `${this.#feed} ws feed client of ${url}`
    socket.on('open', () => {
      open = true
      this.#touch()
    })
    socket.on('ping', () => this.#touch())
    socket.on('message', (data: RawData) => {
      if (socket !== this.#current) return
      this.#touch()
      this.#on.message(data as Buffer)
    })
    socket.on('unexpected-response', (_request, response) => {
      response.resume()
      this.#failure ??= new GrenacheError(
        'ERR_TRANSPORT_MISMATCH',
        `${what}: the upgrade was answered with HTTP ${response.statusCode}`,
      )
      socket.terminate()
    })
    socket.on('error', (err) => {
      this.#failure ??= open
        ? new GrenacheError('ERR_CONNECTION_RESET', `${what}: ${err.message}`, { cause: err })
        : handshakeError(err, url.startsWith('wss:') ? 'wss' : 'ws', what)
    })
    socket.on('close', (code: number, reason: Buffer) => {
      clearTimeout(this.#idle)
      this.#idle = undefined
      this.#socket = undefined
      if (this.#closed) return
      const text = reason.toString()
      const error =
        this.#failure ??
        new GrenacheError(
          open ? 'ERR_CONNECTION_RESET' : 'ERR_CONNECTION_FAILED',
          `${what}: closed with ${code}${text ? ` (${text})` : ''}`,
        )
      if (open) this.#on.disconnected({ code, reason: text, error: this.#failure })
      this.#retry(error)
    })
  }

  async #url(): Promise<string> {
    if (this.#o.url !== undefined) return this.#o.url
    const link = this.#o.link as Discovery
    const name = `${this.#feed}/ws`
    if (this.#attempt > 0) link.invalidate?.(name)
    const addresses = await link.lookup(name, { timeoutMs: this.#o.connectTimeoutMs })
    const address = addresses[this.#attempt % addresses.length] as string
    const at = address.lastIndexOf(':')
    const host = address.slice(0, at)
    const bracketed = host.includes(':') && !host.startsWith('[') ? `[${host}]` : host
    return `${this.#o.tls ? 'wss' : 'ws'}://${bracketed}:${address.slice(at + 1)}${this.#o.path}`
  }

  #retry(error: GrenacheError): void {
    if (this.#closed) return
    this.#failure = error
    this.#lastError = error
    if (this.#attempt >= this.#o.maxReconnectAttempts) {
      this.#closed = true
      this.#on.failed(
        new GrenacheError(error.code, `${error.message} (gave up after ${this.#attempt} reconnects)`, {
          cause: error,
        }),
      )
      return
    }
    const { minReconnectDelayMs: min, maxReconnectDelayMs: max } = this.#o
    const base = Math.min(max, min * 2 ** Math.min(this.#attempt, 30))
    // ±20 %, so that the consumers of a restarted repeater do not all come back at once.
    const delayMs = Math.max(1, Math.round(Math.min(max, base * (0.8 + 0.4 * Math.random()))))
    this.#attempt++
    this.reconnects++
    this.#timer = setTimeout(() => void this.#connect(), delayMs)
  }

  #touch(): void {
    const idleMs = this.#o.idleTimeoutMs
    if (idleMs === 0 || this.#closed) return
    if (this.#idle) this.#idle.refresh()
    else {
      this.#idle = setTimeout(() => {
        this.#idle = undefined
        this.drop(
          new GrenacheError('ERR_TIMEOUT', `${this.#feed} ws feed client: nothing heard for ${idleMs} ms`),
        )
      }, idleMs)
    }
  }
}
