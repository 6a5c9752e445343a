import { GrenacheError, type ValidationIssue } from '../errors.js'

/**
 * The reference RPC envelope, the same on every transport: a request is the JSON text of
 * `[rid, key, payload]`, a reply the JSON text of `[rid, errorMessage | null, result]`.
 */
export interface RequestEnvelope {
  /** Echoed unchanged in the reply (reference clients send a uuid; any JSON value is accepted). */
  rid: unknown
  key: string
  payload: unknown
}

export interface ReplyEnvelope {
  rid: unknown
  /** The worker's error message; null on success. */
  error: string | null
  result: unknown
}

export function encodeRequest(rid: string, key: string, payload: unknown): string {
  try {
    return JSON.stringify([rid, key, payload === undefined ? null : payload])
  } catch (err) {
    throw new GrenacheError(
      'ERR_INVALID_ARGUMENT',
      `the payload is not JSON-serialisable: ${(err as Error).message}`,
      {
        cause: err,
      },
    )
  }
}

/** Decodes a request; a text that is not `[rid, key, payload]` with a string key is `ERR_BAD_REQUEST`. */
export function decodeRequest(text: string): RequestEnvelope {
  let value: unknown
  try {
    value = JSON.parse(text)
  } catch {
    throw new GrenacheError('ERR_BAD_REQUEST', 'ERR_BAD_REQUEST: the request is not JSON')
  }
  if (!Array.isArray(value) || typeof value[1] !== 'string') {
    throw new GrenacheError('ERR_BAD_REQUEST', 'ERR_BAD_REQUEST: the request is not [rid, key, payload]')
  }
  return { rid: value[0], key: value[1], payload: value[2] }
}

/**
 * The wire form of a reply. The error travels as its message: an `Error`'s message, or a string
 * itself (the reference sends a string error as success, bug G12). A `GrenacheError` with `issues`
 * or an `errorId` carries them in the result slot (`{ issues }`, `{ errorId }`): reference clients
 * hand that slot to their callback next to the error and ignore it. A result that cannot be encoded
 * becomes an `ERR_BAD_REPLY` error reply, so the caller still gets an answer.
 */
export function encodeReply(rid: unknown, error: unknown, result: unknown): string {
  const message = errorMessage(error)
  const data = message === null ? (result === undefined ? null : result) : errorDetails(error)
  try {
    return JSON.stringify([rid ?? null, message, data])
  } catch (err) {
    return JSON.stringify([
      rid ?? null,
      `ERR_BAD_REPLY: the result is not JSON-serialisable: ${(err as Error).message}`,
      null,
    ])
  }
}

/** A message that says `ERR_BUSY`: a server's refusal before any handler saw the request. */
const BUSY = /^ERR_BUSY(?::|$)/

/**
 * `encodeReply` for what a handler answered. A handler's error whose message says `ERR_BUSY` (say,
 * rethrown from a call of its own) travels as `ERR_WORKER: <message>`: clients send an `ERR_BUSY`
 * request to another worker, and this one was delivered and ran.
 */
export function encodeHandlerReply(rid: unknown, error: unknown, result: unknown): string {
  const message = errorMessage(error)
  return encodeReply(rid, message !== null && BUSY.test(message) ? `ERR_WORKER: ${message}` : error, result)
}

/** The message an error travels as; null when there is none. */
export function errorMessage(error: unknown): string | null {
  if (error === null || error === undefined || error === false) return null
  if (typeof error === 'string') return error || 'Error'
  if (error instanceof Error) return error.message || error.name || 'Error'
  return String(error)
}

/** Decodes a reply; anything that is not `[rid, error | null, result]` is `ERR_BAD_REPLY`. */
export function decodeReply(text: string): ReplyEnvelope {
  let value: unknown
  try {
    value = JSON.parse(text)
  } catch {
    throw new GrenacheError('ERR_BAD_REPLY', `the reply is not JSON: ${text.slice(0, 100)}`)
  }
  if (!Array.isArray(value) || (value[1] !== null && typeof value[1] !== 'string')) {
    throw new GrenacheError('ERR_BAD_REPLY', 'the reply is not [rid, error, result]')
  }
  return { rid: value[0], error: value[1] || null, result: value[2] }
}

/** What an error reply carries besides its message (see `encodeReply`); null when nothing. */
function errorDetails(error: unknown): { issues?: readonly ValidationIssue[]; errorId?: string } | null {
  if (!(error instanceof GrenacheError)) return null
  if (error.issues) return { issues: error.issues }
  if (error.errorId) return { errorId: error.errorId }
  return null
}

/**
 * The rejection for a reply that carries an error: `ERR_BUSY` for a server's refusal, else
 * `ERR_REMOTE`, with the code its message starts with, and the `issues` or `errorId` of the reply's
 * result slot when it holds well-formed ones (anything else there, e.g. a reference worker's data,
 * is ignored).
 */
export function remoteError(message: string, data?: unknown, refusal = true): GrenacheError {
  const code = /^([A-Z][A-Z0-9_]*)(?::|$)/.exec(message)?.[1]
  // A server's refusal before its handler saw the request: not delivered, safe to send elsewhere.
  // `refusal` false: the reply cannot be one (an HTTP 200: a worker refuses with 503).
  if (code === 'ERR_BUSY' && refusal) return new GrenacheError('ERR_BUSY', message)
  const details = typeof data === 'object' && data !== null ? (data as Record<string, unknown>) : {}
  return new GrenacheError('ERR_REMOTE', message, {
    remoteCode: code,
    issues: readIssues(details.issues),
    errorId:
      typeof details.errorId === 'string' && details.errorId.length <= 100 ? details.errorId : undefined,
  })
}

/** `issues` from a reply when every one is `{ path, message, code }` (at most 100); else undefined. */
function readIssues(value: unknown): ValidationIssue[] | undefined {
  if (!Array.isArray(value) || value.length === 0 || value.length > 100) return undefined
  const issues: ValidationIssue[] = []
  for (const item of value as unknown[]) {
    const { path, message, code } = (item ?? {}) as Record<string, unknown>
    const pathOk = Array.isArray(path) && path.every((p) => typeof p === 'string' || typeof p === 'number')
    if (!pathOk || typeof message !== 'string' || typeof code !== 'string') return undefined
    issues.push({ path: path as Array<string | number>, message, code })
  }
  return issues
}

/**
 * The rid of a request too large to decode, read from its first bytes, so the error reply can
 * still be matched by the caller. Undefined when it cannot be read.
 */
export function peekRequestId(head: string): string | undefined {
  return /^\s*\[\s*"((?:[^"\\]|\\.){1,200})"/.exec(head)?.[1]
}
