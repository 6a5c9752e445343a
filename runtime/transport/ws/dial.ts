import type { ClientOptions } from 'ws'
import { GrenacheError, toGrenacheError } from '../../errors.js'
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

/** Certificate verification failures OpenSSL reports by name (`err.code`). */
const X509_CODES = new Set([
  'UNABLE_TO_GET_ISSUER_CERT',
  'UNABLE_TO_GET_CRL',
  'UNABLE_TO_DECRYPT_CERT_SIGNATURE',
  'UNABLE_TO_DECODE_ISSUER_PUBLIC_KEY',
  'CERT_REVOKED',
  'INVALID_CA',
  'PATH_LENGTH_EXCEEDED',
  'INVALID_PURPOSE',
  'CERT_UNTRUSTED',
  'CERT_REJECTED',
  'HOSTNAME_MISMATCH',
  'SELF_SIGNED_CERT_IN_CHAIN',
  'DEPTH_ZERO_SELF_SIGNED_CERT',
  'UNABLE_TO_VERIFY_LEAF_SIGNATURE',
  'UNABLE_TO_GET_ISSUER_CERT_LOCALLY',
  'CERT_HAS_EXPIRED',
  'CERT_NOT_YET_VALID',
  'CERT_SIGNATURE_FAILURE',
  'ERR_TLS_CERT_ALTNAME_INVALID',
])

/**
 * The error of a connection that failed before it opened. TLS failures are `ERR_TLS`, an answer
 * that is not HTTP (a ZeroMQ or TLS port) is `ERR_TRANSPORT_MISMATCH`, the rest maps as usual
 * (`ECONNREFUSED` → `ERR_CONNECTION_REFUSED`).
 */
export function handshakeError(err: unknown, kind: WsKind, what: string): GrenacheError {
  const code = typeof err === 'object' && err !== null ? (err as { code?: unknown }).code : undefined
  const message = err instanceof Error ? err.message : String(err)
  if (typeof code === 'string') {
    const notTls =
      code === 'ERR_SSL_WRONG_VERSION_NUMBER' ||
      code === 'ERR_SSL_PACKET_LENGTH_TOO_LONG' ||
      (code === 'EPROTO' && /wrong version number|packet length too long/.test(message))
    if (notTls) {
      return new GrenacheError(
        'ERR_TRANSPORT_MISMATCH',
        `${what}: the port does not speak TLS (${message})`,
        {
          cause: err,
        },
      )
    }
    if (code.startsWith('HPE_')) {
      return new GrenacheError(
        'ERR_TRANSPORT_MISMATCH',
        `${what}: the port does not speak HTTP (${message})`,
        {
          cause: err,
        },
      )
    }
    if (
      X509_CODES.has(code) ||
      code.startsWith('ERR_SSL_') ||
      code.startsWith('ERR_TLS_') ||
      code === 'EPROTO'
    ) {
      return new GrenacheError('ERR_TLS', `${what}: TLS handshake failed: ${message}`, { cause: err })
    }
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
  }
  if (message === 'Opening handshake has timed out') {
    // The request surely never reached the worker: a connection failure, not the call's deadline.
    return new GrenacheError('ERR_CONNECTION_FAILED', `${what}: ${message}`, { cause: err })
  }
  return toGrenacheError(err, what)
}
