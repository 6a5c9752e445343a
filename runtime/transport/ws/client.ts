import { randomBytes } from 'node:crypto'
import { setTimeout as delay } from 'node:timers/promises'
import type { ClientOptions } from 'ws'
import { GrenacheError } from '../../errors.js'
import { wsModule } from '../../util/lazy-modules.js'
import { encodeRequest } from '../envelope.js'
import { checkRequest } from '../shared/request-check.js'
import type { ClientTransport, TransportRequestOptions } from '../types.js'
import { type WsClientStats, WsConnection } from './connection.js'
import { dialOptions, wsUrl } from './dial.js'
import {
  type ResolvedClientOptions,
  resolveClientOptions,
  type WsClientTransportOptions,
  type WsKind,
} from './options.js'

/** How often `close()` looks whether the requests in flight are done. */
const DRAIN_POLL_MS = 10

/**
 * The WebSocket (and WSS) client transport: one socket per worker at `ws(s)://ip:port/ws`, text
 * frames `[rid, key, payload]` multiplexed by rid, replies `[rid, error, result]` on the same
 * socket, as grenache-nodejs-ws. Unlike the reference it never crashes on a connection error
 * (G16), fails the requests in flight as soon as the socket closes (G17), and times each request
 * out at its own deadline (G14).
 */
export class WsClientTransport implements ClientTransport {
  readonly kind: WsKind
  readonly options: Readonly<ResolvedClientOptions>
  readonly #connections = new Map<string, WsConnection>()
  readonly #dial: ClientOptions
  readonly #stats: WsClientStats = { badReplies: 0, unmatchedReplies: 0 }
  /** Request ids: a random prefix per transport and a counter, unique and cheaper than a uuid. */
  readonly #ridPrefix = `${randomBytes(9).toString('base64url')}-`
  #ridCounter = 0
  #closing: Promise<void> | undefined

  constructor(options?: WsClientTransportOptions) {
    this.options = resolveClientOptions(options)
    this.kind = this.options.kind
    this.#dial = dialOptions(this.options.tls, this.options.maxPayloadBytes, this.options.connectTimeoutMs)
    // Loaded now rather than at the first call: a service builds its clients at start-up.
    wsModule()
  }

  /** Replies this client dropped: undecodable frames, and replies nobody waited for. */
  get stats(): Readonly<WsClientStats> {
    return { ...this.#stats }
  }

  request(
    address: string,
    key: string,
    payload: unknown,
    options: TransportRequestOptions,
  ): Promise<unknown> {
    try {
      if (this.#closing) throw new GrenacheError('ERR_CLOSED', `${this.kind} client transport is closed`)
      checkRequest(key, options, `${this.kind} ${address}`)
      const rid = this.#ridPrefix + (this.#ridCounter++).toString(36)
      const frame = encodeRequest(rid, key, payload)
      return this.#connection(address).request(rid, frame, options.timeoutMs, options.signal)
    } catch (err) {
      return Promise.reject(err)
    }
  }

  isWarm(address: string): boolean {
    return this.#connections.get(address)?.isOpen === true
  }

  close(): Promise<void> {
    this.#closing ??= this.#close()
    return this.#closing
  }

  #connection(address: string): WsConnection {
    let connection = this.#connections.get(address)
    if (connection === undefined || !connection.usable) {
      const url = wsUrl(this.kind, address)
      const onGone = (gone: WsConnection): void => {
        if (this.#connections.get(address) === gone) this.#connections.delete(address)
      }
      try {
        connection = new WsConnection(this.kind, address, url, this.#dial, this.#stats, onGone)
      } catch (err) {
        // ws throws at once for a URL it cannot dial.
        throw new GrenacheError('ERR_INVALID_ARGUMENT', `cannot dial ${url}: ${(err as Error).message}`, {
          cause: err,
        })
      }
      this.#connections.set(address, connection)
    }
    return connection
  }

  async #close(): Promise<void> {
    const deadline = Date.now() + this.options.closeTimeoutMs
    while (this.#inFlight() > 0 && Date.now() < deadline) await delay(DRAIN_POLL_MS)
    const closed = new GrenacheError(
      'ERR_CLOSED',
      `${this.kind} client transport closed before the reply arrived`,
    )
    await Promise.all([...this.#connections.values()].map((connection) => connection.close(closed)))
  }

  #inFlight(): number {
    let count = 0
    for (const connection of this.#connections.values()) count += connection.pending.size
    return count
  }
}
