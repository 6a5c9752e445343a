import { randomUUID } from 'node:crypto'
import { type ClientRequest, request as httpRequest, type IncomingMessage } from 'node:http'
import { request as httpsRequest } from 'node:https'
import type { Pool } from 'undici'
import { type ErrorCode, GrenacheError, toGrenacheError } from '../errors.js'
import { type Deadline, sleep } from '../util/deadline.js'
import { undiciModule } from '../util/lazy-modules.js'

/** The Grape API operations; `addresses` is our Grape's extension (docs/many-hosts.md). */
export type GrapeOperation = 'announce' | 'lookup' | 'put' | 'get' | 'addresses'

/** Which failures a call may be retried after. */
export type RetryPolicy =
  /** Only when nothing reached the Grape (connection refused). */
  | 'unsent'
  /** Also when the connection dropped before an answer: the operation is idempotent. */
  | 'idempotent'

export interface GrapeClientOptions {
  /** Base URL of the Grape API, e.g. `http://127.0.0.1:30001` (a path prefix is kept). */
  url: URL
  /** Attempts per call, the first included. */
  maxAttempts: number
  /**
   * Keep-alive connections to the Grape at most; 0 opens a connection per call and never loads the
   * pool (a short-lived process, such as a `grenache` command, makes one or two calls).
   */
  connections: number
}

interface Answer {
  status: number
  text: string
}

/**
 * Posts `{rid, data}` to `<grape>/<op>` over a keep-alive pool (or a connection per call) and
 * decodes the reference Grape's answers: a JSON result with 200, an error as a 200 JSON string,
 * BEP 44 errors as 301/302, and plain-text 413/500s. Every failure becomes a `GrenacheError`.
 */
export class GrapeClient {
  readonly #pool: Pool | undefined
  readonly #basePath: string
  readonly #options: GrapeClientOptions
  /** The calls in flight on connections of their own, which `close` waits for. */
  readonly #single = new Map<ClientRequest, Promise<void>>()

  constructor(options: GrapeClientOptions) {
    this.#options = options
    this.#pool =
      options.connections > 0
        ? new (undiciModule().Pool)(options.url.origin, { connections: options.connections, pipelining: 1 })
        : undefined
    this.#basePath = options.url.pathname.replace(/\/+$/, '')
  }

  /** Posts one operation and returns its decoded result; a Grape error string rejects. */
  async call(op: GrapeOperation, data: unknown, deadline: Deadline, retry: RetryPolicy): Promise<unknown> {
    const body = JSON.stringify({ rid: randomUUID(), data })
    for (let attempt = 1; ; attempt++) {
      try {
        const { status, text } = await this.#post(op, body, deadline)
        return decodeAnswer(op, status, text)
      } catch (err) {
        if (deadline.signal.aborted) throw deadline.reason()
        const error = toGrenacheError(err, `${op} via ${this.#options.url.origin}`)
        if (attempt >= this.#options.maxAttempts || !retryable(error.code, retry)) throw error
        if (error.code === 'ERR_CONNECTION_REFUSED')
          await sleep(Math.min(50 * 2 ** (attempt - 1), 500), deadline.signal)
      }
    }
  }

  async #post(op: GrapeOperation, body: string, deadline: Deadline): Promise<Answer> {
    if (!this.#pool) return this.#postOnce(op, body, deadline)
    const response = await this.#pool.request({
      method: 'POST',
      path: `${this.#basePath}/${op}`,
      headers: { 'content-type': 'application/json' },
      body,
      signal: deadline.signal,
    })
    return { status: response.statusCode, text: await response.body.text() }
  }

  /** One call on a connection of its own, closed after the answer (`connections: 0`). */
  #postOnce(op: GrapeOperation, body: string, deadline: Deadline): Promise<Answer> {
    const { url } = this.#options
    let request!: ClientRequest
    const answer = new Promise<Answer>((resolve, reject) => {
      request = (url.protocol === 'https:' ? httpsRequest : httpRequest)(
        `${url.origin}${this.#basePath}/${op}`,
        {
          method: 'POST',
          agent: false,
          headers: { 'content-type': 'application/json', 'content-length': Buffer.byteLength(body) },
          signal: deadline.signal,
        },
        (response: IncomingMessage) => {
          const chunks: Buffer[] = []
          response.on('data', (chunk: Buffer) => chunks.push(chunk))
          response.on('end', () =>
            resolve({ status: response.statusCode ?? 0, text: Buffer.concat(chunks).toString('utf8') }),
          )
          response.on('error', reject)
        },
      )
      request.on('error', reject)
      request.end(body)
    })
    const forget = (): void => {
      this.#single.delete(request)
    }
    this.#single.set(request, answer.then(forget, forget))
    return answer
  }

  /** Waits for requests in flight, then closes the connections. */
  async close(): Promise<void> {
    await Promise.all([this.#pool?.close(), ...this.#single.values()])
  }

  /** Closes the connections now, failing the calls in flight. */
  async destroy(): Promise<void> {
    for (const request of this.#single.keys())
      request.destroy(new GrenacheError('ERR_CLOSED', 'Grape client destroyed'))
    await Promise.all([this.#pool?.destroy(), ...this.#single.values()])
  }
}

function retryable(code: ErrorCode, retry: RetryPolicy): boolean {
  return code === 'ERR_CONNECTION_REFUSED' || (retry === 'idempotent' && code === 'ERR_CONNECTION_RESET')
}

/** Grape error strings (200, JSON-quoted) that have a code of their own. */
const GRAPE_MESSAGES = new Map<string, ErrorCode>([
  ['No nodes to query', 'ERR_GRAPE_NO_NODES'],
  ['All queries failed', 'ERR_GRAPE_QUERIES_FAILED'],
  ['206 invalid signature', 'ERR_ITEM_INVALID'],
])

/**
 * The result of an answer, or the error it carries. A 200 string is an error for every operation
 * but put, whose result is a 40-hex key (any other string is an error, as grenache-cli decides).
 */
export function decodeAnswer(op: GrapeOperation, status: number, text: string): unknown {
  const where = `Grape ${op}`
  if (status === 413)
    throw new GrenacheError('ERR_GRAPE_PAYLOAD_SIZE', `${where}: ${text || 'payload too large'}`)
  if (status === 301) throw new GrenacheError('ERR_GRAPE_CAS_MISMATCH', `${where}: ${parseText(text)}`)
  if (status === 302) throw new GrenacheError('ERR_GRAPE_SEQ_TOO_LOW', `${where}: ${parseText(text)}`)
  if (status !== 200)
    throw new GrenacheError('ERR_GRAPE_REJECTED', `${where}: HTTP ${status} ${parseText(text)}`)
  if (text === '') return undefined
  let result: unknown
  try {
    result = JSON.parse(text)
  } catch {
    throw new GrenacheError('ERR_GRAPE_BAD_ANSWER', `${where}: answer is not JSON: ${text.slice(0, 100)}`)
  }
  if (typeof result === 'string' && !(op === 'put' && /^[0-9a-f]{40}$/.test(result))) {
    throw new GrenacheError(GRAPE_MESSAGES.get(result) ?? 'ERR_GRAPE_REJECTED', `${where}: ${result}`)
  }
  return result
}

function parseText(text: string): string {
  try {
    const value: unknown = JSON.parse(text)
    return typeof value === 'string' ? value : text
  } catch {
    return text
  }
}
