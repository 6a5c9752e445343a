import { type ErrorCode, GrenacheError, toGrenacheError } from '../../errors.js'
import { decodeReply, remoteError } from '../envelope.js'

/**
 * Maps an error from undici, Node or zlib to a `GrenacheError` through the runtime's one table
 * (`toGrenacheError`), plus what only undici says: its llhttp error has no code, so an answer with
 * no status line is `ERR_TRANSPORT_MISMATCH` and any other malformed answer `ERR_BAD_REPLY`.
 */
export function httpTransportError(err: unknown, context: string): GrenacheError {
  if (err instanceof GrenacheError) return err
  if (
    err instanceof Error &&
    err.name === 'HTTPParserError' &&
    (err as { code?: unknown }).code === undefined
  ) {
    const code: ErrorCode = err.message.includes('Expected HTTP/')
      ? 'ERR_TRANSPORT_MISMATCH'
      : 'ERR_BAD_REPLY'
    return new GrenacheError(code, `${context}: ${err.message}`, { cause: err })
  }
  return toGrenacheError(err, context)
}

/** The error codes of the non-200 statuses a Grenache HTTP worker answers with. */
const STATUS_CODES: Record<number, ErrorCode> = {
  400: 'ERR_BAD_REQUEST',
  413: 'ERR_PAYLOAD_TOO_LARGE',
  503: 'ERR_BUSY',
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
