import { GrenacheError } from '../errors.js'
import {
  decodeReply,
  decodeRequest,
  encodeHandlerReply,
  encodeReply,
  encodeRequest,
  peekRequestId,
} from './envelope.js'
import { PendingRequests } from './pending.js'
import { InFlight } from './shared/in-flight.js'
import { checkRequest } from './shared/request-check.js'
import type {
  ClientTransport,
  ClientTransportOptions,
  RequestHandler,
  ServerTransport,
  ServerTransportOptions,
  TransportRequestOptions,
} from './types.js'

/** Listening memory servers by port: the "network" of this process. */
const servers = new Map<number, MemoryServerTransport>()
let nextPort = 1

const DEFAULT_MAX_PAYLOAD_BYTES = 1024 * 1024

/**
 * A worker endpoint inside this process, for tests: requests go through the same JSON encoding as
 * on the wire, so a payload that would not survive a socket does not survive here either. Its
 * address is `127.0.0.1:<port>` like any other, so it can be announced through a real Grape.
 */
export class MemoryServerTransport implements ServerTransport {
  readonly kind = 'memory' as const
  #port = 0
  #handler: RequestHandler | undefined
  readonly #maxPayloadBytes: number
  readonly #drainTimeoutMs: number
  readonly #inFlight = new InFlight()
  /** How to fail each request in flight when the server closes before it replied. */
  readonly #drops = new Set<() => void>()
  #closing: Promise<void> | undefined

  constructor(options: ServerTransportOptions) {
    this.#port = options.port
    this.#maxPayloadBytes = options.maxPayloadBytes ?? DEFAULT_MAX_PAYLOAD_BYTES
    this.#drainTimeoutMs = options.drainTimeoutMs ?? 5000
  }

  get port(): number {
    return this.#handler ? this.#port : 0
  }

  async listen(handler: RequestHandler): Promise<number> {
    if (this.#closing) throw new GrenacheError('ERR_CLOSED', 'the memory transport was closed')
    if (this.#port === 0) {
      while (servers.has(nextPort)) nextPort++
      this.#port = nextPort++
    } else if (servers.has(this.#port)) {
      throw new GrenacheError('ERR_ADDRESS_IN_USE', `memory port ${this.#port} is taken`)
    }
    this.#handler = handler
    servers.set(this.#port, this)
    return this.#port
  }

  /** Handles one encoded request; resolves with the encoded reply, rejects if the server closes first. */
  deliver(text: string): Promise<string> {
    const handler = this.#handler
    if (!handler || this.#closing) {
      return Promise.reject(
        new GrenacheError('ERR_CONNECTION_REFUSED', `memory port ${this.#port}: not listening`),
      )
    }
    return new Promise((resolve, reject) => {
      if (Buffer.byteLength(text) > this.#maxPayloadBytes) {
        const rid = peekRequestId(text.slice(0, 256)) ?? null
        return resolve(encodeReply(rid, `ERR_PAYLOAD_TOO_LARGE: over ${this.#maxPayloadBytes} bytes`, null))
      }
      let request: ReturnType<typeof decodeRequest>
      try {
        request = decodeRequest(text)
      } catch (err) {
        return resolve(encodeReply(null, (err as Error).message, null))
      }
      const drop = (): void =>
        reject(new GrenacheError('ERR_CONNECTION_RESET', `memory port ${this.#port}: closed`))
      this.#drops.add(drop)
      const reply = this.#inFlight.open((error, result) => {
        if (this.#drops.delete(drop)) resolve(encodeHandlerReply(request.rid, error, result))
      })
      try {
        handler({ ...request, transport: 'memory', certificate: undefined }, reply)
      } catch (err) {
        reply(err as Error)
      }
    })
  }

  /** Stops accepting, gives replies in flight `drainTimeoutMs`, then drops them. */
  close(): Promise<void> {
    const drainTimeoutMs = this.#drainTimeoutMs
    this.#closing ??= (async () => {
      if (servers.get(this.#port) === this) servers.delete(this.#port)
      await this.#inFlight.drain(drainTimeoutMs)
      for (const drop of this.#drops) drop()
      this.#drops.clear()
      this.#handler = undefined
    })()
    return this.#closing
  }
}

/** Calls memory servers of this process by `host:port` (the host is not looked at). */
export class MemoryClientTransport implements ClientTransport {
  readonly kind = 'memory' as const
  readonly #maxPayloadBytes: number
  readonly #pending = new PendingRequests('memory')
  #closed = false
  #rid = 0

  constructor(options: ClientTransportOptions = {}) {
    this.#maxPayloadBytes = options.maxPayloadBytes ?? 64 * 1024 * 1024
  }

  async request(
    address: string,
    key: string,
    payload: unknown,
    options: TransportRequestOptions,
  ): Promise<unknown> {
    if (this.#closed) throw new GrenacheError('ERR_CLOSED', 'the memory transport was closed')
    checkRequest(key, options, `memory ${address}`)
    const server = servers.get(Number(address.slice(address.lastIndexOf(':') + 1)))
    if (!server) throw new GrenacheError('ERR_CONNECTION_REFUSED', `memory ${address}: nothing listens there`)
    const rid = `m${++this.#rid}`
    const reply = this.#pending.add(rid, options.timeoutMs, options.signal)
    server.deliver(encodeRequest(rid, key, payload)).then(
      (text) => this.#onReply(rid, text, address),
      (err: GrenacheError) => this.#pending.fail(rid, err),
    )
    return reply
  }

  #onReply(rid: string, text: string, address: string): void {
    if (Buffer.byteLength(text) > this.#maxPayloadBytes) {
      const error = `memory ${address}: reply over ${this.#maxPayloadBytes} bytes`
      this.#pending.fail(rid, new GrenacheError('ERR_PAYLOAD_TOO_LARGE', error))
      return
    }
    let reply: ReturnType<typeof decodeReply>
    try {
      reply = decodeReply(text)
    } catch (err) {
      this.#pending.fail(
        rid,
        new GrenacheError('ERR_BAD_REPLY', `memory ${address}: ${(err as Error).message}`),
      )
      return
    }
    // A refusal before decoding (a bad or too large request) carries no rid of ours.
    if (reply.error === null && reply.rid !== rid) {
      this.#pending.fail(
        rid,
        new GrenacheError('ERR_BAD_REPLY', `memory ${address}: reply for another request`),
      )
    } else this.#pending.settle(rid, reply.error, reply.result)
  }

  isWarm(address: string): boolean {
    return servers.has(Number(address.slice(address.lastIndexOf(':') + 1)))
  }

  async close(): Promise<void> {
    this.#closed = true
  }
}
