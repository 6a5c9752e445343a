import { type ErrorCode, GrenacheError, toGrenacheError } from '../../errors.js'
import { decodeReply, remoteError } from '../envelope.js'

/**
 * OpenSSL certificate-verification codes that `runtime/errors.ts` does not map (it maps the
 * common ones); every one of them means the TLS handshake failed.
 */
const TLS_VERIFY_CODES = new Set([
  'UNABLE_TO_GET_ISSUER_CERT',
  'UNABLE_TO_GET_CRL',
  'UNABLE_TO_DECRYPT_CERT_SIGNATURE',
  'UNABLE_TO_DECRYPT_CRL_SIGNATURE',
  'UNABLE_TO_DECODE_ISSUER_PUBLIC_KEY',
  'CRL_SIGNATURE_FAILURE',
  'CRL_NOT_YET_VALID',
  'CRL_HAS_EXPIRED',
  'ERROR_IN_CERT_NOT_BEFORE_FIELD',
  'ERROR_IN_CERT_NOT_AFTER_FIELD',
  'CERT_CHAIN_TOO_LONG',
  'CERT_REVOKED',
  'INVALID_CA',
  'PATH_LENGTH_EXCEEDED',
  'INVALID_PURPOSE',
  'CERT_UNTRUSTED',
  'CERT_REJECTED',
  'HOSTNAME_MISMATCH',
])

/** OpenSSL errors that mean the other side does not speak TLS (or speaks plain HTTP). */
const NOT_TLS_CODES = new Set([
  'ERR_SSL_WRONG_VERSION_NUMBER',
  'ERR_SSL_PACKET_LENGTH_TOO_LONG',
  'ERR_SSL_HTTP_REQUEST',
])

/**
 * Maps an error from undici, Node or zlib to a `GrenacheError`, like `toGrenacheError`, plus what
 * the shared table does not know: every other OpenSSL error is `ERR_TLS`, an answer that is not
 * HTTP at all is `ERR_TRANSPORT_MISMATCH`, and a malformed HTTP answer is `ERR_BAD_REPLY`.
 */
export function httpTransportError(err: unknown, context: string): GrenacheError {
  if (err instanceof GrenacheError) return err
  const error = toGrenacheError(err, context)
  const nodeCode = typeof err === 'object' && err !== null ? (err as { code?: unknown }).code : undefined
  let code: ErrorCode | undefined
  if (typeof nodeCode === 'string' && NOT_TLS_CODES.has(nodeCode)) code = 'ERR_TRANSPORT_MISMATCH'
  else if (error.code !== 'ERR_INTERNAL') return error
  else if (err instanceof Error && err.name === 'HTTPParserError') {
    // undici's llhttp error (its code is always undefined in undici 7). No status line at all:
    // whatever answered does not speak HTTP; anything else is a malformed HTTP answer.
    code = err.message.includes('Expected HTTP/') ? 'ERR_TRANSPORT_MISMATCH' : 'ERR_BAD_REPLY'
  } else if (typeof nodeCode !== 'string') return error
  else if (
    nodeCode.startsWith('ERR_SSL_') ||
    nodeCode.startsWith('ERR_TLS_') ||
    TLS_VERIFY_CODES.has(nodeCode)
  )
    code = 'ERR_TLS'
  else if (nodeCode === 'HPE_INVALID_CONSTANT') code = 'ERR_TRANSPORT_MISMATCH'
  else if (nodeCode.startsWith('HPE_') || nodeCode === 'UND_ERR_RES_CONTENT_LENGTH_MISMATCH')
    code = 'ERR_BAD_REPLY'
  else if (nodeCode === 'ERR_STREAM_PREMATURE_CLOSE') code = 'ERR_CONNECTION_RESET'
  if (code === undefined) return error
  return new GrenacheError(code, `${context}: ${readableMessage(err)}`, { cause: err })
}

/** An OpenSSL message (`80CC…:error:0A00010B:SSL routines:ssl3_get_record:wrong version number:…`) shortened to its reason. */
function readableMessage(err: unknown): string {
  const text = err instanceof Error ? err.message : String(err)
  const openssl = /^[0-9A-F]+:error:[0-9A-F]+:[^:]*:[^:]*:([^:]+):/.exec(text)
  return openssl?.[1] ?? text
}

/** The error codes of the non-200 statuses a Grenache HTTP worker answers with. */
const STATUS_CODES: Record<number, ErrorCode> = {
  400: 'ERR_BAD_REQUEST',
  413: 'ERR_PAYLOAD_TOO_LARGE',
  // A WebSocket worker answers a plain HTTP request with 426, and so does our HTTPS worker.
  426: 'ERR_TRANSPORT_MISMATCH',
}

/**
 * The rejection for a reply with another status than 200. A worker's own refusal (400 or 413 with
 * a `[rid, "ERR_…: …", null]` body) is `ERR_REMOTE` like on every transport, its code in
 * `remoteCode`; any other status keeps the body's text.
 */
export function statusError(status: number, body: Buffer, context: string): GrenacheError {
  const text = body.toString('utf8', 0, Math.min(body.length, 1000))
  let message = text
  try {
    const error = decodeReply(text).error
    if (error !== null && status !== 426) return remoteError(error)
    message = error ?? text
  } catch {
    // Not a Grenache reply (e.g. a plain-text 400 from another server): keep the text.
  }
  const code = STATUS_CODES[status] ?? 'ERR_BAD_REPLY'
  return new GrenacheError(code, `${context}: HTTP ${status}${message ? ` ${message}` : ''}`)
}
