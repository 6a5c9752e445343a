import type { PeerCertificate, SecureContextOptions } from 'node:tls'
import type { ServerLimitOptions } from './shared/server-limits.js'

/** The wire protocols. `https` and `wss` are their TLS forms; `memory` stays in-process (tests). */
export type TransportKind = 'http' | 'https' | 'ws' | 'wss' | 'zmq' | 'memory'

/** One request as a worker receives it. */
export interface RpcRequest {
  /** The caller's request id, echoed in the reply (any JSON value from reference clients). */
  rid: unknown
  /** The service key the caller named (`[rid, key, payload]`). */
  key: string
  payload: unknown
  transport: TransportKind
  /** The caller's TLS certificate (mutual TLS only); `fingerprint256` identifies it. */
  certificate: PeerCertificate | undefined
  /**
   * Aborts when the caller's connection closes (HTTP and WebSocket; ZeroMQ and memory have no
   * connection to watch). Made on first read, so a handler that never reads it costs nothing.
   */
  readonly closed?: AbortSignal | undefined
}

/**
 * Answers a request, once: `reply(null, result)` or `reply(error)`. An `Error` travels as its
 * message, and so does a string (the reference sends a string error as success, bug G12).
 */
export type Reply = (error: Error | string | null | undefined, result?: unknown) => void

/** Handles every request a server transport receives. */
export type RequestHandler = (request: RpcRequest, reply: Reply) => void

/** TLS material for the TLS transports (PEM strings or Buffers). */
export interface TlsOptions extends Pick<SecureContextOptions, 'key' | 'cert' | 'ca' | 'pfx' | 'passphrase'> {
  /**
   * Client: refuse a worker whose certificate `ca` does not vouch for (default true).
   * Server with `requestCert`: refuse a caller without a certificate `ca` vouches for (default true).
   */
  rejectUnauthorized?: boolean
  /** Server: ask callers for a certificate (mutual TLS). Default false. */
  requestCert?: boolean
  /** Client: the name the worker's certificate must carry; by default, the IP address dialled. */
  servername?: string
}

/**
 * Options every server transport takes: where to listen, the request size limit, and the bounds
 * that keep one caller from starving the others (`maxConnections`, the timeouts, and per connection
 * `maxInFlightPerConnection` and `maxUnsentBytes`).
 */
export interface ServerTransportOptions extends ServerLimitOptions {
  /** Port to listen on; 0 picks a free one. */
  port: number
  /** Address to bind. Default `'127.0.0.1'`. */
  host?: string
  /** Largest request accepted, in bytes; larger ones get `ERR_PAYLOAD_TOO_LARGE`. Default 1 MiB. */
  maxPayloadBytes?: number
  /** Certificate and key (required for `https` and `wss`). */
  tls?: TlsOptions
  /** How long `close()` waits for replies in flight before dropping them, in ms. Default 5000. */
  drainTimeoutMs?: number
  /**
   * Requests one connection may have in flight (handed to the handler, not answered). At the bound
   * the connection is not read until one is answered (ZeroMQ, which cannot stop reading one peer:
   * further requests of that peer are answered `ERR_BUSY`). Default 4096; 16 for HTTP, whose
   * pipelined requests are answered in order anyway.
   */
  maxInFlightPerConnection?: number
  /**
   * Reply bytes one connection may leave unsent, because its caller does not read them. Past it
   * the connection is not read until they drain to half. Default 16 MiB. ZeroMQ counts replies,
   * not bytes: a peer's reply queue holds `2 × maxInFlightPerConnection` replies, then libzmq drops.
   */
  maxUnsentBytes?: number
}

/** A listening endpoint of one protocol. */
export interface ServerTransport {
  readonly kind: TransportKind
  /** Starts listening and hands every decoded request to `handler`; resolves with the bound port. */
  listen(handler: RequestHandler): Promise<number>
  /** The bound port (0 before `listen` resolved). */
  readonly port: number
  /** The address it binds, when it binds one (not the memory transport): checked against the announce. */
  readonly host?: string
  /**
   * Stops accepting connections, waits (bounded) for requests in flight to be replied to, then
   * closes every connection. Idempotent.
   */
  close(): Promise<void>
}

/** What a client transport needs per request; the peer computes the deadline. */
export interface TransportRequestOptions {
  /** Deadline of this request, in ms: it then rejects with `ERR_TIMEOUT`. */
  timeoutMs: number
  /** Aborts the request: it then rejects with `ERR_ABORTED`. */
  signal?: AbortSignal | undefined
}

/** Options every client transport takes. */
export interface ClientTransportOptions {
  /** Largest reply accepted, in bytes. Default 64 MiB. */
  maxPayloadBytes?: number
  /** TLS settings for `https` and `wss`. */
  tls?: TlsOptions
}

/**
 * Sends requests to workers by address (`"ip:port"`), keeping connections per worker. Every
 * failure is a `GrenacheError`: `ERR_REMOTE` (the worker replied with an error), `ERR_TIMEOUT`,
 * `ERR_ABORTED`, `ERR_CONNECTION_REFUSED`, `ERR_CONNECTION_RESET` (the connection dropped with the
 * request in flight), `ERR_TRANSPORT_MISMATCH`, `ERR_TLS`, `ERR_BAD_REPLY`, `ERR_PAYLOAD_TOO_LARGE`,
 * `ERR_CLOSED`.
 */
export interface ClientTransport {
  readonly kind: TransportKind
  request(address: string, key: string, payload: unknown, options: TransportRequestOptions): Promise<unknown>
  /** Whether a connection to `address` is open now (a warm worker is cheaper to call). */
  isWarm(address: string): boolean
  /** Waits for requests in flight, then closes every connection. Idempotent; later requests get `ERR_CLOSED`. */
  close(): Promise<void>
}
