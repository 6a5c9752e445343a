import type { ClientOptions } from 'ws'
import { GrenacheError, readableMessage, toGrenacheError } from '../../errors.js'
import type { TlsOptions } from '../types.js'
import { pickTls, type WsKind } from './options.js'

/**
 * `ws(s)://ip:port/ws` for a worker address `"ip:port"` (an IPv6 host gets its brackets), as the
 * reference client dials it. `ERR_INVALID_ARGUMENT` when the address has no port.
 */
export function wsUrl(kind: WsKind, address: string): string {
  const colon = typeof address === 'string' ? address.lastIndexOf(':') : -1
  const host = colon > 0 ? address.slice(0, colon) : ''
  const port = colon > 0 ? Number(address.slice(colon + 1)) : Number.NaN
  if (!host || !Number.isInteger(port) || port < 1 || port > 65535) {
    throw new GrenacheError(
      'ERR_INVALID_ARGUMENT',
      `address must be "ip:port" with a port from 1 to 65535, got ${JSON.stringify(address)}`,
    )
  }
  const bracketed = host.includes(':') && !host.startsWith('[') ? `[${host}]` : host
  return `${kind}://${bracketed}:${port}/ws`
}

/** Options of every socket we dial: no compression, bounded messages and handshake, TLS when asked. */
export function dialOptions(
  tls: TlsOptions | undefined,
  maxPayloadBytes: number,
  connectTimeoutMs: number,
): ClientOptions {
  // ws hands these options to tls.connect, servername included.
  const options: ClientOptions & { servername?: string } = {
    perMessageDeflate: false,
    maxPayload: maxPayloadBytes,
    handshakeTimeout: connectTimeoutMs,
    followRedirects: false,
  }
  if (tls) {
    Object.assign(options, pickTls(tls))
    if (tls.servername !== undefined) options.servername = tls.servername
    options.rejectUnauthorized = tls.rejectUnauthorized ?? true
  }
  return options
}

/**
 * The error of a connection that failed before it opened, through the runtime's one table
 * (`toGrenacheError`: TLS failures `ERR_TLS`, a port that does not speak TLS or HTTP
 * `ERR_TRANSPORT_MISMATCH`, `ECONNREFUSED` `ERR_CONNECTION_REFUSED`), plus what only a WebSocket
 * handshake tells: a hang-up before the upgrade answer, and ws's own handshake timeout.
 */
export function handshakeError(err: unknown, kind: WsKind, what: string): GrenacheError {
  const code = typeof err === 'object' && err !== null ? (err as { code?: unknown }).code : undefined
  const message = err instanceof Error ? err.message : String(err)
  if (code === 'ECONNRESET') {
    // The worker hung up before answering the upgrade. Over TLS that is how a Node worker
    // refuses a client certificate it does not trust; in the clear, a TLS worker does the same.
    return kind === 'wss'
      ? new GrenacheError(
          'ERR_TLS',
          `${what}: the worker closed the connection during the handshake, probably refusing our certificate (${message})`,
          { cause: err },
        )
      : new GrenacheError(
          'ERR_CONNECTION_FAILED',
          `${what}: the worker closed the connection without answering the WebSocket upgrade; a wss worker? (${message})`,
          { cause: err },
        )
  }
  if (message === 'Opening handshake has timed out') {
    // The request surely never reached the worker: a connection failure, not the call's deadline.
    return new GrenacheError('ERR_CONNECTION_FAILED', `${what}: ${message}`, { cause: err })
  }
  const error = toGrenacheError(err, what)
  if (error.code === 'ERR_TLS')
    return new GrenacheError('ERR_TLS', `${what}: TLS handshake failed: ${readableMessage(err)}`, {
      cause: err,
    })
  // A malformed answer to the upgrade request: whatever answered is no WebSocket worker.
  if (error.code === 'ERR_BAD_REPLY')
    return new GrenacheError('ERR_TRANSPORT_MISMATCH', error.message, { cause: err })
  return error
}
