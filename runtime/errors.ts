/**
 * Every error the runtime raises is a `GrenacheError` with one of these stable codes. README's
 * error table is checked against this object by a test, so add a row there when adding a code.
 */
export const ERROR_CODES = {
  ERR_INVALID_OPTION:
    'an option given to a constructor is invalid; the message names the option and the rule',
  ERR_INVALID_ARGUMENT: 'an argument given to a call is invalid; the message names the argument and the rule',
  ERR_CLOSED: 'the object was closed (or is closing) and accepts no more work',
  ERR_ABORTED: "the call was aborted through its `signal`; `cause` holds the signal's reason",
  ERR_TIMEOUT: 'the call did not finish before its deadline (`timeoutMs`)',
  ERR_CONNECTION_REFUSED: 'nothing listens at the address (ECONNREFUSED)',
  ERR_CONNECTION_RESET: 'the connection closed before the answer arrived (ECONNRESET, EPIPE, socket closed)',
  ERR_CONNECTION_FAILED: 'the connection failed for another network reason (unreachable host, DNS failure)',
  ERR_BUSY:
    "a server refused the connection or request undelivered: too many connections (`maxConnections`) or too many requests in flight on one connection; safe to retry elsewhere. A handler's own error that says `ERR_BUSY` (rethrown from a call of its own) travels as `ERR_WORKER: ERR_BUSY: …` and arrives as `ERR_REMOTE`: that request ran, and is not sent elsewhere. Over HTTP only a `503` is a refusal",
  ERR_ADDRESS_IN_USE: 'a port to listen on is already taken (EADDRINUSE)',
  ERR_ANNOUNCE_MISMATCH:
    'a worker, publisher or feed would be announced at an address it does not listen on (its Grape is seen at another address, or at several); the message names the bound and the announced addresses and the fixes',
  ERR_UNREACHABLE_BIND:
    'a socket is bound where the peers it must talk to cannot be reached (a DHT on loopback with a bootstrap node on another host)',
  ERR_LOOKUP_EMPTY: 'no worker is announced under the name',
  ERR_GRAPE_NO_NODES: 'the Grape knows no other DHT node, so nothing could be sent ("No nodes to query")',
  ERR_GRAPE_QUERIES_FAILED:
    'every DHT node refused or ignored the request ("All queries failed"), e.g. no node verifies mutable items',
  ERR_GRAPE_REJECTED: "the Grape rejected the request's arguments; the message is the Grape's own text",
  ERR_GRAPE_PAYLOAD_SIZE: 'the request body is larger than the Grape accepts (HTTP 413)',
  ERR_GRAPE_SEQ_TOO_LOW: 'a mutable put carried a seq not above the stored one (BEP 44 error 302)',
  ERR_GRAPE_CAS_MISMATCH: 'a mutable put carried a cas that is not the stored seq (BEP 44 error 301)',
  ERR_GRAPE_BAD_ANSWER: 'the Grape answered with something that is not a valid answer to the operation',
  ERR_ITEM_INVALID: 'a DHT item failed verification: hash, public key or signature',
  ERR_REMOTE:
    'the worker answered with an error; `message` is its text, `remoteCode` the code it starts with',
  ERR_BAD_REQUEST: 'a worker could not decode a request (not a JSON `[rid, key, payload]`)',
  ERR_BAD_REPLY: 'a reply could not be decoded, or the result could not be encoded',
  ERR_PAYLOAD_TOO_LARGE: 'a request or reply is larger than the receiving side accepts (`maxPayloadBytes`)',
  ERR_TRANSPORT_MISMATCH:
    'the port speaks another protocol than the transport (e.g. HTTP to a WebSocket worker)',
  ERR_TLS: 'the TLS handshake failed: the certificate is not trusted, or the peer refused ours',
  ERR_UNKNOWN_KEY: 'a request named a service key the worker does not serve',
  ERR_UNKNOWN_ACTION: 'an `{ action, args }` request named an action the worker does not have',
  ERR_INVALID_INPUT:
    "a call's input does not match the method's schema, found by the client (`validateInput`) or the worker: the message lists every field and rule broken, `issues` holds them",
  ERR_INVALID_OUTPUT:
    "a worker's result does not match the method's output schema (checked unless `validateOutput: false`): the message lists every field and rule, `issues` holds them",
  ERR_WORKER:
    'a worker failed with an error its service does not declare; the message carries only a correlation id (`errorId`) unless the worker runs with `exposeErrors: true`, the full error is in its `onError` hook',
  ERR_PERMISSION_DENIED:
    "a worker's interceptor refused the call (authentication or authorisation); the message is the interceptor's",
  ERR_ENCODE:
    'a value cannot be written in its binary layout (a non-integer in an integer field, a key or leaf past its limit, a full buffer)',
  ERR_DECODE:
    'bytes could not be decoded: truncated, corrupt or of another layout; the message names the field and the byte',
  ERR_INVALID_DELTA:
    'a state delta, key or leaf does not match its schema; the message names every field and rule',
  ERR_MULTICAST:
    'a multicast interface cannot join a group or send to one (ENODEV, EADDRNOTAVAIL, EINVAL); the message names the option (`interface`) and the address',
  ERR_FEED_INCOMPATIBLE:
    'a replica found a publisher of its feed with another fingerprint: the state layouts differ; the message names both',
  ERR_INTERNAL: 'an unexpected failure; `cause` holds the original error',
} as const

/** The closed set of error codes. */
export type ErrorCode = keyof typeof ERROR_CODES

/** One problem a schema found in a value: where (`['items', 0, 'qty']`), what, and zod's issue code. */
export interface ValidationIssue {
  path: Array<string | number>
  message: string
  code: string
}

export interface GrenacheErrorOptions {
  cause?: unknown
  /** For `ERR_REMOTE`: the code the worker's message starts with (`TOO_SLOW`, `ERR_BAD_REQUEST`). */
  remoteCode?: string | undefined
  /** For `ERR_INVALID_INPUT` and `ERR_INVALID_OUTPUT`: every issue the schema found. */
  issues?: readonly ValidationIssue[] | undefined
  /** For `ERR_WORKER`: the id the worker logged the full error under. */
  errorId?: string | undefined
}

/** Marks a GrenacheError of any copy of this module (see `Symbol.hasInstance` below). */
const BRAND: unique symbol = Symbol.for('grenache-gen.GrenacheError')

/** The one error class of the runtime: a stable `code`, a readable message and the `cause`. */
export class GrenacheError extends Error {
  /**
   * `instanceof GrenacheError` holds for an error of another copy of this class too: the bundled
   * Grape (`grenache-gen/grape`) carries its own, and a process may import both it and the runtime.
   * Subclasses keep the usual prototype check.
   */
  static override [Symbol.hasInstance](value: unknown): boolean {
    // biome-ignore lint/complexity/noThisInStatic: `this` is the class asked about, maybe a subclass
    if (this !== GrenacheError) return Function.prototype[Symbol.hasInstance].call(this, value)
    return typeof value === 'object' && value !== null && (value as { [BRAND]?: unknown })[BRAND] === true
  }

  override readonly name = 'GrenacheError'
  readonly code: ErrorCode
  /** For `ERR_REMOTE`: the code the worker's message starts with, if it starts with one. */
  readonly remoteCode: string | undefined
  /** For `ERR_INVALID_INPUT` and `ERR_INVALID_OUTPUT`: every issue the schema found. */
  readonly issues: readonly ValidationIssue[] | undefined
  /** For `ERR_WORKER`: the correlation id of the failure in the worker's log. */
  readonly errorId: string | undefined

  constructor(code: ErrorCode, message: string = ERROR_CODES[code], options?: GrenacheErrorOptions) {
    super(message, options?.cause === undefined ? undefined : { cause: options.cause })
    this.code = code
    this.remoteCode = options?.remoteCode
    this.issues = options?.issues
    this.errorId = options?.errorId
  }
}

// On the prototype, not enumerable: logged errors do not show it.
Object.defineProperty(GrenacheError.prototype, BRAND, { value: true })

/** True when `err` is a `GrenacheError`, and has `code` when one is given. */
export function isGrenacheError(err: unknown, code?: ErrorCode): err is GrenacheError {
  return err instanceof GrenacheError && (code === undefined || err.code === code)
}

const NODE_CODES: Record<string, ErrorCode> = {
  ECONNREFUSED: 'ERR_CONNECTION_REFUSED',
  ECONNRESET: 'ERR_CONNECTION_RESET',
  EPIPE: 'ERR_CONNECTION_RESET',
  ECONNABORTED: 'ERR_CONNECTION_RESET',
  UND_ERR_SOCKET: 'ERR_CONNECTION_RESET',
  UND_ERR_CLOSED: 'ERR_CLOSED',
  UND_ERR_DESTROYED: 'ERR_CLOSED',
  ETIMEDOUT: 'ERR_TIMEOUT',
  UND_ERR_CONNECT_TIMEOUT: 'ERR_TIMEOUT',
  UND_ERR_HEADERS_TIMEOUT: 'ERR_TIMEOUT',
  UND_ERR_BODY_TIMEOUT: 'ERR_TIMEOUT',
  UND_ERR_ABORTED: 'ERR_ABORTED',
  // Certificate verification, as OpenSSL names its X509 errors (Node's `err.code`).
  DEPTH_ZERO_SELF_SIGNED_CERT: 'ERR_TLS',
  SELF_SIGNED_CERT_IN_CHAIN: 'ERR_TLS',
  UNABLE_TO_VERIFY_LEAF_SIGNATURE: 'ERR_TLS',
  UNABLE_TO_GET_ISSUER_CERT: 'ERR_TLS',
  UNABLE_TO_GET_ISSUER_CERT_LOCALLY: 'ERR_TLS',
  UNABLE_TO_GET_CRL: 'ERR_TLS',
  UNABLE_TO_DECRYPT_CERT_SIGNATURE: 'ERR_TLS',
  UNABLE_TO_DECRYPT_CRL_SIGNATURE: 'ERR_TLS',
  UNABLE_TO_DECODE_ISSUER_PUBLIC_KEY: 'ERR_TLS',
  CERT_SIGNATURE_FAILURE: 'ERR_TLS',
  CRL_SIGNATURE_FAILURE: 'ERR_TLS',
  CERT_NOT_YET_VALID: 'ERR_TLS',
  CERT_HAS_EXPIRED: 'ERR_TLS',
  CRL_NOT_YET_VALID: 'ERR_TLS',
  CRL_HAS_EXPIRED: 'ERR_TLS',
  ERROR_IN_CERT_NOT_BEFORE_FIELD: 'ERR_TLS',
  ERROR_IN_CERT_NOT_AFTER_FIELD: 'ERR_TLS',
  CERT_CHAIN_TOO_LONG: 'ERR_TLS',
  CERT_REVOKED: 'ERR_TLS',
  INVALID_CA: 'ERR_TLS',
  PATH_LENGTH_EXCEEDED: 'ERR_TLS',
  INVALID_PURPOSE: 'ERR_TLS',
  CERT_UNTRUSTED: 'ERR_TLS',
  CERT_REJECTED: 'ERR_TLS',
  HOSTNAME_MISMATCH: 'ERR_TLS',
  ERR_TLS_CERT_ALTNAME_INVALID: 'ERR_TLS',
  // The other side does not speak TLS (a plain port dialled with TLS).
  ERR_SSL_WRONG_VERSION_NUMBER: 'ERR_TRANSPORT_MISMATCH',
  ERR_SSL_PACKET_LENGTH_TOO_LONG: 'ERR_TRANSPORT_MISMATCH',
  ERR_SSL_HTTP_REQUEST: 'ERR_TRANSPORT_MISMATCH',
  ERR_SSL_TLSV13_ALERT_CERTIFICATE_REQUIRED: 'ERR_TLS',
  ERR_SSL_SSLV3_ALERT_BAD_CERTIFICATE: 'ERR_TLS',
  ERR_SSL_TLSV1_ALERT_UNKNOWN_CA: 'ERR_TLS',
  // An HTTP answer that is not HTTP at all, or malformed (llhttp's codes).
  HPE_INVALID_CONSTANT: 'ERR_TRANSPORT_MISMATCH',
  UND_ERR_RES_CONTENT_LENGTH_MISMATCH: 'ERR_BAD_REPLY',
  ERR_STREAM_PREMATURE_CLOSE: 'ERR_CONNECTION_RESET',
  EADDRINUSE: 'ERR_ADDRESS_IN_USE',
  EADDRNOTAVAIL: 'ERR_CONNECTION_FAILED',
  EHOSTUNREACH: 'ERR_CONNECTION_FAILED',
  ENETUNREACH: 'ERR_CONNECTION_FAILED',
  EHOSTDOWN: 'ERR_CONNECTION_FAILED',
  ENOTFOUND: 'ERR_CONNECTION_FAILED',
  EAI_AGAIN: 'ERR_CONNECTION_FAILED',
  EACCES: 'ERR_CONNECTION_FAILED',
}

/**
 * Maps any error from Node, undici or a dependency to a `GrenacheError`, keeping the original as
 * `cause`. A `GrenacheError` passes through unchanged. `context` prefixes the message
 * (e.g. `'lookup via http://127.0.0.1:30001'`).
 */
export function toGrenacheError(err: unknown, context?: string): GrenacheError {
  if (err instanceof GrenacheError) return err
  const nodeCode = typeof err === 'object' && err !== null ? (err as { code?: unknown }).code : undefined
  const name = err instanceof Error ? err.name : undefined
  let code: ErrorCode = 'ERR_INTERNAL'
  if (typeof nodeCode === 'string') code = nodeErrorCode(nodeCode, err)
  if (code === 'ERR_INTERNAL' && name === 'AbortError') code = 'ERR_ABORTED'
  const message = readableMessage(err)
  return new GrenacheError(code, context ? `${context}: ${message}` : message, { cause: err })
}

/**
 * The one table from a Node, OpenSSL, llhttp or undici error code to ours, with the families
 * OpenSSL and llhttp add to (every `ERR_SSL_*`/`ERR_TLS_*` is a failed handshake, every other
 * `HPE_*` a malformed HTTP answer). Every transport maps through it, so one fault has one code.
 */
export function nodeErrorCode(nodeCode: string, err?: unknown): ErrorCode {
  if (Object.hasOwn(NODE_CODES, nodeCode)) return NODE_CODES[nodeCode] as ErrorCode
  if (nodeCode === 'EPROTO') {
    // Node's code for an OpenSSL failure it has no name for; its text says which.
    const text = err instanceof Error ? err.message : ''
    return /wrong version number|packet length too long|http request/.test(text)
      ? 'ERR_TRANSPORT_MISMATCH'
      : 'ERR_TLS'
  }
  if (nodeCode.startsWith('ERR_SSL_') || nodeCode.startsWith('ERR_TLS_')) return 'ERR_TLS'
  if (nodeCode.startsWith('HPE_')) return 'ERR_BAD_REPLY'
  return 'ERR_INTERNAL'
}

/** An error's message; an OpenSSL one (`80CC…:error:0A00010B:SSL routines:ssl3_get_record:wrong version number:…`) shortened to its reason. */
export function readableMessage(err: unknown): string {
  const text = err instanceof Error ? err.message : String(err)
  const openssl = /^[0-9A-F]+:error:[0-9A-F]+:[^:]*:[^:]*:([^:]+):/.exec(text)
  return openssl?.[1] ?? text
}
