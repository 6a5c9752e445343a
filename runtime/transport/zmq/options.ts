import { checkOption } from '../../util/validate.js'
import { type ConnectionBounds, resolveConnectionBounds } from '../shared/in-flight.js'
import { resolveServerLimits, type ServerLimits } from '../shared/server-limits.js'
import type { ClientTransportOptions, ServerTransportOptions } from '../types.js'

/** Options of a `ZmqClientTransport`. */
export interface ZmqClientTransportOptions extends ClientTransportOptions {
  /**
   * Deadline of a new connection (TCP connect and the ZMTP handshake), in ms: a port that accepts
   * but never completes the handshake fails the requests waiting on it with
   * `ERR_TRANSPORT_MISMATCH` then. Default 10000.
   */
  connectTimeoutMs?: number
  /** How long `close()` waits for requests in flight before failing them with `ERR_CLOSED`, in ms. Default 5000. */
  closeTimeoutMs?: number
}

/** Options of a `ZmqServerTransport`. `tls` is refused: CurveZMQ is out of scope. */
export interface ZmqServerTransportOptions extends ServerTransportOptions {
  /** How long `close()` waits for replies in flight before closing the socket, in ms. Default 5000. */
  drainTimeoutMs?: number
}

/** Options of a `ZmqPublisher`. */
export interface ZmqPublisherOptions {
  /** Port to bind; 0 picks a free one. */
  port: number
  /** Address to bind. Default `'127.0.0.1'`. */
  host?: string
  /**
   * Messages queued per subscriber before ZeroMQ drops new ones for it (a subscriber that reads
   * too slowly misses messages; it is never disconnected). Default 1000.
   */
  sendHighWaterMark?: number
}

/** Options of a `ZmqSubscriber`. */
export interface ZmqSubscriberOptions {
  /** Delay before reconnecting to a publisher that went away, in ms. Default 100. */
  reconnectIntervalMs?: number
  /** The reconnect delay doubles up to this, in ms. Default 5000. */
  reconnectMaxIntervalMs?: number
  /** Messages queued per publisher before ZeroMQ drops new ones. Default 1000. */
  receiveHighWaterMark?: number
  /** Largest message accepted, in bytes; a larger one drops the connection (it then reconnects). Default 64 MiB. */
  maxPayloadBytes?: number
}

export interface ResolvedClientOptions {
  maxPayloadBytes: number
  connectTimeoutMs: number
  closeTimeoutMs: number
}

export interface ResolvedServerOptions {
  port: number
  host: string
  maxPayloadBytes: number
  drainTimeoutMs: number
  limits: ServerLimits
  bounds: ConnectionBounds
}

export interface ResolvedPublisherOptions {
  port: number
  host: string
  sendHighWaterMark: number
}

export interface ResolvedSubscriberOptions {
  reconnectIntervalMs: number
  reconnectMaxIntervalMs: number
  receiveHighWaterMark: number
  maxPayloadBytes: number
}

const MIB = 1024 * 1024
const HOUR_MS = 60 * 60 * 1000
/** libzmq takes an int64 message size; the hard cap (4×) must stay a safe integer. */
const MAX_BYTES = 2 ** 40

function object<T extends object>(options: T | undefined): Partial<T> {
  if (options === undefined) return {}
  if (typeof options !== 'object' || options === null) checkOption.fail('', 'must be an object', options)
  return options
}

function noTls(tls: unknown): void {
  if (tls !== undefined) {
    checkOption.fail('tls', 'is not supported by the zmq transport (CurveZMQ is out of scope)', '{…}')
  }
}

export function resolveClientOptions(options: ZmqClientTransportOptions | undefined): ResolvedClientOptions {
  const o = object(options)
  noTls(o.tls)
  return {
    maxPayloadBytes: checkOption.integer('maxPayloadBytes', o.maxPayloadBytes ?? 64 * MIB, 1, MAX_BYTES),
    connectTimeoutMs: checkOption.integer('connectTimeoutMs', o.connectTimeoutMs ?? 10_000, 1, HOUR_MS),
    closeTimeoutMs: checkOption.integer('closeTimeoutMs', o.closeTimeoutMs ?? 5000, 0, HOUR_MS),
  }
}

export function resolveServerOptions(options: ZmqServerTransportOptions): ResolvedServerOptions {
  if (typeof options !== 'object' || options === null) checkOption.fail('', 'must be an object', options)
  noTls(options.tls)
  return {
    port: checkOption.port('port', options.port),
    host: checkOption.string('host', options.host ?? '127.0.0.1'),
    maxPayloadBytes: checkOption.integer('maxPayloadBytes', options.maxPayloadBytes ?? MIB, 1, MAX_BYTES),
    drainTimeoutMs: checkOption.integer('drainTimeoutMs', options.drainTimeoutMs ?? 5000, 0, HOUR_MS),
    // A ZeroMQ peer is not a socket we can close: "idle" is how long it is remembered as connected.
    limits: resolveServerLimits(options, 60_000),
    bounds: resolveConnectionBounds(options),
  }
}

export function resolvePublisherOptions(options: ZmqPublisherOptions): ResolvedPublisherOptions {
  if (typeof options !== 'object' || options === null) checkOption.fail('', 'must be an object', options)
  return {
    port: checkOption.port('port', options.port),
    host: checkOption.string('host', options.host ?? '127.0.0.1'),
    sendHighWaterMark: checkOption.integer('sendHighWaterMark', options.sendHighWaterMark ?? 1000, 0),
  }
}

export function resolveSubscriberOptions(
  options: ZmqSubscriberOptions | undefined,
): ResolvedSubscriberOptions {
  const o = object(options)
  const reconnectIntervalMs = checkOption.integer(
    'reconnectIntervalMs',
    o.reconnectIntervalMs ?? 100,
    1,
    HOUR_MS,
  )
  return {
    reconnectIntervalMs,
    reconnectMaxIntervalMs: checkOption.integer(
      'reconnectMaxIntervalMs',
      o.reconnectMaxIntervalMs ?? Math.max(5000, reconnectIntervalMs),
      reconnectIntervalMs,
      HOUR_MS,
    ),
    receiveHighWaterMark: checkOption.integer('receiveHighWaterMark', o.receiveHighWaterMark ?? 1000, 0),
    maxPayloadBytes: checkOption.integer('maxPayloadBytes', o.maxPayloadBytes ?? 64 * MIB, 1, MAX_BYTES),
  }
}
