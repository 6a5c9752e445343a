import type { PeerCertificate } from 'node:tls'
import { GrenacheError } from '../errors.js'
import type { RpcRequest } from '../transport/types.js'
import { startTimer } from '../util/deadline.js'

/** Metadata a client attaches to a call (tracing ids, auth tokens): string values only. */
export type Metadata = Readonly<Record<string, string>>

/** Bounds of the metadata of one call, checked on both sides so a caller cannot grow a worker. */
export const METADATA_LIMITS = { entries: 64, keyChars: 128, valueChars: 8192 } as const

/** The caller's TLS identity (mutual TLS): who it is and the certificate's SHA-256 fingerprint. */
export interface PeerIdentity {
  subject: PeerCertificate['subject']
  fingerprint256: string
}

/** What a worker method (and a server interceptor) gets besides its input. */
export interface ServiceContext {
  /** The service's name. */
  readonly service: string
  /** The method called. */
  readonly method: string
  /** The request as it arrived: key, transport, payload, the caller's TLS certificate. */
  readonly request: RpcRequest
  /**
   * When the caller gives up, in ms since the epoch on this worker's clock (the caller sends its
   * remaining budget, not a time, so clocks need not agree). Undefined when the caller sent none
   * (reference clients, bare-wire services).
   */
  readonly deadline: number | undefined
  /** Aborts when the deadline passes or the caller's connection closes (HTTP, WebSocket). */
  readonly signal: AbortSignal
  /** The caller's certificate subject and fingerprint under mutual TLS; else undefined. */
  readonly peer: PeerIdentity | undefined
  /** What the client sent as metadata (`{}` when nothing). */
  readonly metadata: Metadata
}

/** The optional part of the `{ action, args, ctx }` payload a `ServiceClient` sends. */
export interface WireContext {
  /** The caller's remaining budget when this attempt was sent, in ms. */
  timeoutMs?: number
  metadata?: Record<string, string>
}

/** Checks metadata against `METADATA_LIMITS`; returns the rule broken, or undefined when fine. */
export function metadataProblem(value: unknown): string | undefined {
  if (typeof value !== 'object' || value === null || Array.isArray(value)) return 'must be an object'
  const entries = Object.entries(value)
  if (entries.length > METADATA_LIMITS.entries) return `must have at most ${METADATA_LIMITS.entries} entries`
  for (const [key, text] of entries) {
    if (key.length === 0 || key.length > METADATA_LIMITS.keyChars)
      return `keys must have 1 to ${METADATA_LIMITS.keyChars} characters`
    if (typeof text !== 'string' || text.length > METADATA_LIMITS.valueChars)
      return `${JSON.stringify(key)} must be a string of at most ${METADATA_LIMITS.valueChars} characters`
  }
  return undefined
}

/** `ctx.timeoutMs` of a request, checked; a malformed one is `ERR_BAD_REQUEST`. */
function readTimeout(timeoutMs: unknown): number {
  if (typeof timeoutMs === 'number' && timeoutMs >= 0 && timeoutMs <= 2 ** 31) return timeoutMs
  throw badContext('ctx.timeoutMs must be a number of ms from 0 to 2^31')
}

/** `ctx.metadata` of a request, checked and copied; a malformed one is `ERR_BAD_REQUEST`. */
function readMetadata(metadata: unknown): Metadata {
  const problem = metadataProblem(metadata)
  if (problem) throw badContext(`ctx.metadata ${problem}`)
  // A copy without a prototype: `__proto__` or `constructor` keys stay plain data.
  return Object.freeze(Object.assign(Object.create(null), metadata) as Metadata)
}

const EMPTY: Metadata = Object.freeze({})

function badContext(rule: string): GrenacheError {
  return new GrenacheError('ERR_BAD_REQUEST', `ERR_BAD_REQUEST: ${rule}`)
}

/**
 * One call's context. The signal, its deadline timer and its connection listener are made only
 * when the handler reads `signal`, so a handler that ignores it pays nothing; `finish()` releases
 * them once the reply is sent.
 */
export class CallContext implements ServiceContext {
  readonly service: string
  readonly method: string
  readonly request: RpcRequest
  readonly deadline: number | undefined
  readonly metadata: Metadata
  #controller: AbortController | undefined
  #timer: NodeJS.Timeout | undefined
  #closed: AbortSignal | undefined
  #onClosed: (() => void) | undefined
  #finished = false

  /** `ctx` is the payload's, as it came: a malformed one is `ERR_BAD_REQUEST`, never trusted. */
  constructor(service: string, method: string, request: RpcRequest, ctx: unknown) {
    this.service = service
    this.method = method
    this.request = request
    if (ctx === undefined || ctx === null) {
      this.deadline = undefined
      this.metadata = EMPTY
      return
    }
    if (typeof ctx !== 'object' || Array.isArray(ctx)) throw badContext('ctx must be an object')
    const { timeoutMs, metadata } = ctx as WireContext
    this.deadline = timeoutMs === undefined ? undefined : Date.now() + readTimeout(timeoutMs)
    this.metadata = metadata === undefined ? EMPTY : readMetadata(metadata)
  }

  get peer(): PeerIdentity | undefined {
    const certificate = this.request.certificate
    return certificate
      ? { subject: certificate.subject, fingerprint256: certificate.fingerprint256 }
      : undefined
  }

  get signal(): AbortSignal {
    if (this.#controller) return this.#controller.signal
    const controller = new AbortController()
    this.#controller = controller
    if (this.#finished) return controller.signal
    if (this.deadline !== undefined) {
      this.#timer = startTimer(Math.max(0, this.deadline - Date.now()), () =>
        controller.abort(
          new GrenacheError('ERR_TIMEOUT', `${this.service}.${this.method}: the caller's deadline passed`),
        ),
      )
    }
    const closed = this.request.closed
    if (closed?.aborted) controller.abort(closed.reason)
    else if (closed) {
      this.#closed = closed
      this.#onClosed = () => controller.abort(closed.reason)
      closed.addEventListener('abort', this.#onClosed, { once: true })
    }
    return controller.signal
  }

  /** The reply is sent: stop the timer and stop listening to the connection. */
  finish(): void {
    this.#finished = true
    if (this.#timer) clearTimeout(this.#timer)
    if (this.#onClosed) this.#closed?.removeEventListener('abort', this.#onClosed)
  }
}
