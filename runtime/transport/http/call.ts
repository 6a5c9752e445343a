import { gunzip } from 'node:zlib'
import type { Dispatcher } from 'undici'
import { GrenacheError } from '../../errors.js'
import { startTimer } from '../../util/deadline.js'
import { decodeReply, type ReplyEnvelope, remoteError } from '../envelope.js'
import { httpTransportError, statusError } from './errors.js'

const EMPTY = Buffer.alloc(0)

/** What every call to one worker shares. */
export interface CallTarget {
  /** Names the worker in error messages, e.g. `http 127.0.0.1:1337`. */
  readonly label: string
  /** Largest reply accepted, in bytes. */
  readonly maxPayloadBytes: number
  /** The request went gzipped (`grc-compress: gzip`): the reply is gzipped too. */
  readonly compress: boolean
}

/**
 * One request to a worker, as an undici dispatch handler: it collects the reply, decodes it once
 * and settles the caller's promise. It has its own deadline timer; the caller's signal (if any)
 * holds it as a listener object, so no closure is made per request. Once settled, everything it
 * learns later is ignored, and a request it can still stop is stopped: not sent at all when it is
 * still queued for a connection, or its connection destroyed when it is on the wire.
 */
export class HttpCall implements Dispatcher.DispatchHandler {
  readonly #target: CallTarget
  readonly #rid: string
  readonly #resolve: (value: unknown) => void
  readonly #reject: (error: GrenacheError) => void
  readonly #signal: AbortSignal | undefined
  readonly #timer: NodeJS.Timeout | undefined
  readonly #timeoutMs: number
  #controller: Dispatcher.DispatchController | undefined = undefined
  #settled = false
  #status = 0
  #first: Buffer | undefined = undefined
  #chunks: Buffer[] | undefined = undefined
  #size = 0

  constructor(
    target: CallTarget,
    rid: string,
    timeoutMs: number,
    signal: AbortSignal | undefined,
    resolve: (value: unknown) => void,
    reject: (error: GrenacheError) => void,
  ) {
    this.#target = target
    this.#rid = rid
    this.#resolve = resolve
    this.#reject = reject
    this.#timeoutMs = timeoutMs
    this.#timer = startTimer(timeoutMs, expire, this)
    this.#signal = signal
    signal?.addEventListener('abort', this)
  }

  /** True once the caller's promise is settled (the request may still be stopping). */
  get settled(): boolean {
    return this.#settled
  }

  /** The deadline passed. */
  expire(): void {
    this.fail(
      new GrenacheError('ERR_TIMEOUT', `${this.#target.label}: no reply within ${this.#timeoutMs} ms`),
    )
  }

  /** The caller's signal aborted (`EventListener` object). */
  handleEvent(): void {
    this.fail(
      new GrenacheError('ERR_ABORTED', `${this.#target.label}: aborted`, { cause: this.#signal?.reason }),
    )
  }

  /** Rejects the caller's promise and stops the request if it is still running. */
  fail(error: GrenacheError): void {
    if (this.#settled) return
    this.#settle()
    this.#reject(error)
    const controller = this.#controller
    if (controller !== undefined && !controller.aborted) controller.abort(error)
  }

  onRequestStart(controller: Dispatcher.DispatchController): void {
    // Settled while it waited for a connection: throwing here makes undici drop the request
    // without writing it, and without destroying the connection as abort() would.
    if (this.#settled) throw new GrenacheError('ERR_ABORTED', 'the request settled before it was sent')
    this.#controller = controller
  }

  onResponseStart(_controller: Dispatcher.DispatchController, statusCode: number): void {
    this.#status = statusCode
  }

  onResponseData(_controller: Dispatcher.DispatchController, chunk: Buffer): void {
    if (this.#settled) return
    const size = this.#size + chunk.length
    this.#size = size
    if (size > this.#target.maxPayloadBytes) {
      this.#first = this.#chunks = undefined
      this.fail(
        new GrenacheError(
          'ERR_PAYLOAD_TOO_LARGE',
          `${this.#target.label}: the reply is larger than ${this.#target.maxPayloadBytes} bytes`,
        ),
      )
    } else if (this.#first === undefined) this.#first = chunk
    else if (this.#chunks === undefined) this.#chunks = [this.#first, chunk]
    else this.#chunks.push(chunk)
  }

  onResponseEnd(): void {
    if (this.#settled) return
    const body = this.#chunks !== undefined ? Buffer.concat(this.#chunks, this.#size) : (this.#first ?? EMPTY)
    this.#first = this.#chunks = undefined
    if (this.#status !== 200) {
      this.fail(statusError(this.#status, body, this.#target.label))
    } else if (this.#target.compress && body[0] === 0x1f && body[1] === 0x8b) {
      // The reply of a gzip request is the gzip of the JSON text, without Content-Encoding.
      gunzip(body, { maxOutputLength: this.#target.maxPayloadBytes }, (err, text) => {
        if (err) this.fail(httpTransportError(err, `${this.#target.label}: gunzip of the reply`))
        else this.#decode(text.toString())
      })
    } else {
      this.#decode(body.toString())
    }
  }

  onResponseError(_controller: Dispatcher.DispatchController, err: Error): void {
    this.fail(httpTransportError(err, this.#target.label))
  }

  #decode(text: string): void {
    if (this.#settled) return
    let reply: ReplyEnvelope
    try {
      reply = decodeReply(text)
    } catch (err) {
      this.fail(new GrenacheError('ERR_BAD_REPLY', `${this.#target.label}: ${(err as Error).message}`))
      return
    }
    if (reply.rid !== this.#rid) {
      this.fail(
        new GrenacheError(
          'ERR_BAD_REPLY',
          `${this.#target.label}: the reply is for request ${JSON.stringify(reply.rid)}, not ${this.#rid}`,
        ),
      )
    } else if (reply.error !== null) {
      this.fail(remoteError(reply.error, reply.result, false))
    } else {
      this.#settle()
      this.#resolve(reply.result)
    }
  }

  #settle(): void {
    this.#settled = true
    if (this.#timer !== undefined) clearTimeout(this.#timer)
    this.#signal?.removeEventListener('abort', this)
  }
}

function expire(call: HttpCall): void {
  call.expire()
}
