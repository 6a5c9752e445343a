import { setTimeout as delay } from 'node:timers/promises'
import { GrenacheError } from '../../errors.js'
import { zmqModule } from '../../util/lazy-modules.js'
import { encodeRequest } from '../envelope.js'
import { checkRequest } from '../shared/request-check.js'
import type { ClientTransport, TransportRequestOptions } from '../types.js'
import { DealerConnection } from './connection.js'
import { dialEndpoint } from './endpoint.js'
import {
  type ResolvedClientOptions,
  resolveClientOptions,
  type ZmqClientTransportOptions,
} from './options.js'

/**
 * Calls ZeroMQ workers: one Dealer per worker at `tcp://ip:port`, requests multiplexed by rid, each
 * request one frame (`[rid, key, payload]` as JSON) and each reply one frame. A connection that
 * fails is closed and forgotten, and the next request to the worker dials it afresh: a worker
 * restarted on the same port is reached again, a dead one refuses at once.
 */
export class ZmqClientTransport implements ClientTransport {
  readonly kind = 'zmq' as const
  readonly options: Readonly<ResolvedClientOptions>
  readonly #connections = new Map<string, DealerConnection>()
  /** The loops of every connection not yet fully closed, dying ones included. */
  readonly #open = new Set<Promise<void>>()
  #rid = 0
  #closing: Promise<void> | undefined

  constructor(options?: ZmqClientTransportOptions) {
    this.options = resolveClientOptions(options)
    // Loaded now rather than at the first call: a service builds its clients at start-up.
    zmqModule()
  }

  request(
    address: string,
    key: string,
    payload: unknown,
    options: TransportRequestOptions,
  ): Promise<unknown> {
    if (this.#closing) {
      return Promise.reject(
        new GrenacheError('ERR_CLOSED', `zmq ${address}: the client transport was closed`),
      )
    }
    const rid = String(++this.#rid)
    let frame: string
    let connection: DealerConnection
    try {
      checkRequest(key, options, `zmq ${address}`)
      frame = encodeRequest(rid, key, payload)
      connection = this.#connections.get(address) ?? this.#connect(address)
    } catch (err) {
      return Promise.reject(err)
    }
    const reply = connection.pending.add(rid, options.timeoutMs, options.signal)
    connection.send(frame)
    return reply
  }

  isWarm(address: string): boolean {
    return this.#connections.get(address)?.ready === true
  }

  /**
   * Refuses new requests, waits up to `closeTimeoutMs` for those in flight, fails the rest with
   * `ERR_CLOSED`, then closes every socket. Idempotent.
   */
  close(): Promise<void> {
    this.#closing ??= this.#close()
    return this.#closing
  }

  async #close(): Promise<void> {
    const deadline = Date.now() + this.options.closeTimeoutMs
    while (Date.now() < deadline && [...this.#connections.values()].some((c) => c.pending.size > 0)) {
      await delay(5)
    }
    for (const connection of this.#connections.values()) {
      connection.close(new GrenacheError('ERR_CLOSED', 'zmq: the client transport was closed'))
    }
    await Promise.all(this.#open)
  }

  #connect(address: string): DealerConnection {
    const connection = new DealerConnection({
      address,
      endpoint: dialEndpoint(address),
      maxPayloadBytes: this.options.maxPayloadBytes,
      connectTimeoutMs: this.options.connectTimeoutMs,
      onDead: (dead) => {
        if (this.#connections.get(address) === dead) this.#connections.delete(address)
      },
    })
    this.#connections.set(address, connection)
    const done = connection.done
    this.#open.add(done)
    void done.then(() => this.#open.delete(done))
    return connection
  }
}
