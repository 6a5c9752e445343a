import { createSecureContext } from 'node:tls'
import { type Checker, checkOption } from '../../util/validate.js'
import { type ConnectionBounds, resolveConnectionBounds } from '../shared/in-flight.js'
import { resolveServerLimits, type ServerLimitOptions, type ServerLimits } from '../shared/server-limits.js'
import type { ClientTransportOptions, ServerTransportOptions, TlsOptions } from '../types.js'

/** The two kinds a WebSocket transport can be. */
export type WsKind = 'ws' | 'wss'

/** Options of a `WsClientTransport`. */
export interface WsClientTransportOptions extends ClientTransportOptions {
  /** `'wss'` dials `wss://` with `tls`. Default: `'wss'` when `tls` is given, else `'ws'`. */
  kind?: WsKind
  /** Deadline of an opening handshake (TCP, TLS and the HTTP upgrade), in ms. Default 10000. */
  connectTimeoutMs?: number
  /** How long `close()` waits for requests in flight before failing them with `ERR_CLOSED`, in ms. Default 5000. */
  closeTimeoutMs?: number
}

/** Options of a `WsServerTransport`. */
export interface WsServerTransportOptions extends ServerTransportOptions {
  /** `'wss'` serves TLS with `tls` (required then). Default: `'wss'` when `tls` is given, else `'ws'`. */
  kind?: WsKind
  /** How long `close()` waits for replies in flight before closing the sockets, in ms. Default 5000. */
  drainTimeoutMs?: number
}

/** Options of a `WsPublisher`; the connection cap and timeouts as every server's. */
export interface WsPublisherOptions extends ServerLimitOptions {
  /** Serve `wss://` with this certificate and key (the reference publisher has no TLS). */
  tls?: TlsOptions
  /**
   * A subscriber with more than this many bytes queued (it reads too slowly) is disconnected, so
   * it cannot exhaust the publisher's memory; it reconnects by itself. Default 64 MiB.
   */
  maxBufferedBytes?: number
}

/** Options of a `WsSubscriber`. */
export interface WsSubscriberOptions {
  /** The publisher, `"ip:port"`; the subscriber connects to `ws://ip:port/ws`. Required. */
  address: string
  /** Dial `wss://` with these settings (our publisher with `tls` only). */
  tls?: TlsOptions
  /** Delay before the first reconnect, in ms; it doubles up to `maxReconnectDelayMs`. Default 100. */
  minReconnectDelayMs?: number
  /** Longest delay between reconnects, in ms. Default 5000. */
  maxReconnectDelayMs?: number
  /** Deadline of an opening handshake, in ms. Default 10000. */
  connectTimeoutMs?: number
  /** Largest message accepted, in bytes; a larger one drops the connection (it then reconnects). Default 64 MiB. */
  maxPayloadBytes?: number
}

export interface ResolvedClientOptions {
  kind: WsKind
  maxPayloadBytes: number
  tls: TlsOptions | undefined
  connectTimeoutMs: number
  closeTimeoutMs: number
}

export interface ResolvedServerOptions {
  kind: WsKind
  port: number
  host: string
  maxPayloadBytes: number
  tls: TlsOptions | undefined
  drainTimeoutMs: number
  limits: ServerLimits
  bounds: ConnectionBounds
}

export interface ResolvedSubscriberOptions {
  address: string
  tls: TlsOptions | undefined
  minReconnectDelayMs: number
  maxReconnectDelayMs: number
  connectTimeoutMs: number
  maxPayloadBytes: number
}

const MIB = 1024 * 1024
const HOUR_MS = 60 * 60 * 1000
/** ws refuses frames above 2^53; a limit this high means "no limit" in practice. */
const MAX_BYTES = 2 ** 40

function object<T>(options: T | undefined): T | Record<string, never> {
  if (options === undefined) return {}
  if (typeof options !== 'object' || options === null) checkOption.fail('', 'must be an object', options)
  return options
}

function kindOf(check: Checker, kind: unknown, tls: TlsOptions | undefined): WsKind {
  if (kind === undefined) return tls ? 'wss' : 'ws'
  if (kind !== 'ws' && kind !== 'wss') check.fail('kind', 'must be "ws" or "wss"', kind)
  if (kind === 'ws' && tls) check.fail('tls', 'is only for kind "wss"', '{…}')
  return kind
}

/** Checks TLS material now (a bad PEM is a wrong option, not a failed request later). */
function tlsOf(check: Checker, tls: unknown): TlsOptions | undefined {
  if (tls === undefined) return undefined
  if (typeof tls !== 'object' || tls === null) check.fail('tls', 'must be an object', tls)
  try {
    createSecureContext(pickTls(tls as TlsOptions))
  } catch (err) {
    check.fail('tls', `must hold usable TLS material (${(err as Error).message})`, '{…}')
  }
  return tls as TlsOptions
}

/** The fields of `TlsOptions` a secure context takes. */
export function pickTls(tls: TlsOptions): TlsOptions {
  const picked: TlsOptions = {}
  if (tls.key !== undefined) picked.key = tls.key
  if (tls.cert !== undefined) picked.cert = tls.cert
  if (tls.ca !== undefined) picked.ca = tls.ca
  if (tls.pfx !== undefined) picked.pfx = tls.pfx
  if (tls.passphrase !== undefined) picked.passphrase = tls.passphrase
  return picked
}

export function resolveClientOptions(options: WsClientTransportOptions | undefined): ResolvedClientOptions {
  const o: WsClientTransportOptions = object(options)
  const check = checkOption
  const tls = tlsOf(check, o.tls)
  return {
    kind: kindOf(check, o.kind, tls),
    tls,
    maxPayloadBytes: check.integer('maxPayloadBytes', o.maxPayloadBytes ?? 64 * MIB, 1, MAX_BYTES),
    connectTimeoutMs: check.integer('connectTimeoutMs', o.connectTimeoutMs ?? 10_000, 1, HOUR_MS),
    closeTimeoutMs: check.integer('closeTimeoutMs', o.closeTimeoutMs ?? 5000, 0, HOUR_MS),
  }
}

export function resolveServerOptions(options: WsServerTransportOptions): ResolvedServerOptions {
  if (typeof options !== 'object' || options === null) checkOption.fail('', 'must be an object', options)
  const check = checkOption
  const tls = tlsOf(check, options.tls)
  const kind = kindOf(check, options.kind, tls)
  if (kind === 'wss' && !(tls?.pfx || (tls?.key && tls.cert))) {
    check.fail('tls', 'must have key and cert (or pfx) for a wss server', tls === undefined ? tls : '{…}')
  }
  return {
    kind,
    tls,
    port: check.port('port', options.port),
    host: check.string('host', options.host ?? '127.0.0.1'),
    // The hard cap (4×) must stay below what ws accepts.
    maxPayloadBytes: check.integer('maxPayloadBytes', options.maxPayloadBytes ?? MIB, 1, MAX_BYTES / 4),
    drainTimeoutMs: check.integer('drainTimeoutMs', options.drainTimeoutMs ?? 5000, 0, HOUR_MS),
    limits: resolveServerLimits(options, 0),
    bounds: resolveConnectionBounds(options),
  }
}

export function resolvePublisherOptions(options: WsPublisherOptions | undefined): {
  tls: TlsOptions | undefined
  maxBufferedBytes: number
  limits: ServerLimits
} {
  const o: WsPublisherOptions = object(options)
  const tls = tlsOf(checkOption, o.tls)
  if (tls && !(tls.pfx || (tls.key && tls.cert))) {
    checkOption.fail('tls', 'must have key and cert (or pfx)', '{…}')
  }
  return {
    tls,
    maxBufferedBytes: checkOption.integer('maxBufferedBytes', o.maxBufferedBytes ?? 64 * MIB, 1, MAX_BYTES),
    limits: resolveServerLimits(o, 0),
  }
}

export function resolveSubscriberOptions(options: WsSubscriberOptions): ResolvedSubscriberOptions {
  if (typeof options !== 'object' || options === null) checkOption.fail('', 'must be an object', options)
  const check = checkOption
  const minReconnectDelayMs = check.integer(
    'minReconnectDelayMs',
    options.minReconnectDelayMs ?? 100,
    1,
    HOUR_MS,
  )
  return {
    address: check.hostPort('address', options.address),
    tls: tlsOf(check, options.tls),
    minReconnectDelayMs,
    maxReconnectDelayMs: check.integer(
      'maxReconnectDelayMs',
      options.maxReconnectDelayMs ?? Math.max(5000, minReconnectDelayMs),
      minReconnectDelayMs,
      HOUR_MS,
    ),
    connectTimeoutMs: check.integer('connectTimeoutMs', options.connectTimeoutMs ?? 10_000, 1, HOUR_MS),
    maxPayloadBytes: check.integer('maxPayloadBytes', options.maxPayloadBytes ?? 64 * MIB, 1, MAX_BYTES),
  }
}
