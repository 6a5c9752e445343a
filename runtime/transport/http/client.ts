import { randomUUID } from 'node:crypto'
import { gzip } from 'node:zlib'
import type { Pool } from 'undici'
import { GrenacheError } from '../../errors.js'
import { undiciModule } from '../../util/lazy-modules.js'
import { checkOption } from '../../util/validate.js'
import { encodeRequest } from '../envelope.js'
import { checkRequest } from '../shared/request-check.js'
import type { ClientTransport, ClientTransportOptions, TransportRequestOptions } from '../types.js'
import { workerOrigin } from './address.js'
import { type CallTarget, HttpCall } from './call.js'
import { httpTransportError } from './errors.js'
import { type ClientTlsOptions, clientTlsOptions, httpKind } from './tls.js'

/**
 * Options of `HttpClientTransport`. `tls` (even `{}`) makes the transport `https`: `ca` is the
 * workers' CA, `cert` and `key` a client certificate for mutual TLS.
 */
export interface HttpClientTransportOptions extends ClientTransportOptions {
  /**
   * `'http'` or `'https'`; by default `'https'` exactly when `tls` is given. `'https'` without
   * `tls` trusts the system CAs; `'http'` with `tls` is `ERR_INVALID_OPTION`.
   */
  kind?: 'http' | 'https'
  /** Keep-alive connections per worker at most, opened as they are needed. Default 128. */
  connections?: number
  /**
   * Gzips every request body (`grc-compress: gzip`) and gunzips the reply, as the reference's
   * `compress: true`. Default false (`grc-compress: none`).
   */
  compress?: boolean
  /** How long a TCP (and TLS) connection may take to open, in ms. Default 10 000. */
  connectTimeoutMs?: number
}

const DEFAULT_MAX_REPLY_BYTES = 64 * 1024 * 1024
const PLAIN_HEADERS = ['grc-compress', 'none']
const GZIP_HEADERS = ['grc-compress', 'gzip']

/** One worker: its connection pool and how many of its connections are open. */
interface Worker extends CallTarget {
  readonly pool: Pool
  connected: number
  /** Calls whose body is being gzipped: not yet dispatched, so not in the pool's stats. */
  gzipping: number
}

/**
 * The HTTP(S) client transport: one undici `Pool` per worker (keep-alive, no pipelining,
 * connections opened lazily, TLS sessions reused), `POST /` with the reference envelope as the
 * body, encoded and decoded exactly once.
 */
export class HttpClientTransport implements ClientTransport {
  readonly kind: 'http' | 'https'
  readonly #workers = new Map<string, Worker>()
  readonly #connections: number
  readonly #compress: boolean
  readonly #maxPayloadBytes: number
  readonly #connectTimeoutMs: number
  readonly #tls: ClientTlsOptions | undefined
  /** Pools dropped while idle, still closing: `close()` waits for them. */
  readonly #dropping = new Set<Promise<void>>()
  #closing: Promise<void> | undefined

  constructor(options: HttpClientTransportOptions = {}) {
    this.kind = httpKind(options.kind, options.tls)
    this.#tls = this.kind === 'http' ? undefined : clientTlsOptions(options.tls ?? {})
    this.#connections = checkOption.integer('connections', options.connections ?? 128, 1)
    this.#compress = checkOption.boolean('compress', options.compress ?? false)
    this.#maxPayloadBytes = checkOption.integer(
      'maxPayloadBytes',
      options.maxPayloadBytes ?? DEFAULT_MAX_REPLY_BYTES,
      1,
    )
    this.#connectTimeoutMs = checkOption.integer('connectTimeoutMs', options.connectTimeoutMs ?? 10_000, 1)
    // Loaded now rather than at the first call: a service builds its clients at start-up.
    undiciModule()
  }

  request(
    address: string,
    key: string,
    payload: unknown,
    options: TransportRequestOptions,
  ): Promise<unknown> {
    if (this.#closing !== undefined) {
      return Promise.reject(new GrenacheError('ERR_CLOSED', `${this.kind} client transport is closed`))
    }
    const { timeoutMs, signal } = options
    let worker: Worker
    let body: string
    const rid = randomUUID()
    try {
      checkRequest(key, options, `${this.kind} ${address}`)
      worker = this.#workers.get(address) ?? this.#addWorker(address)
      body = encodeRequest(rid, key, payload)
    } catch (err) {
      return Promise.reject(err)
    }
    return new Promise((resolve, reject) => {
      const call = new HttpCall(worker, rid, timeoutMs, signal, resolve, reject)
      if (worker.compress) sendGzipped(worker, body, call)
      else worker.pool.dispatch({ method: 'POST', path: '/', headers: PLAIN_HEADERS, body }, call)
    })
  }

  isWarm(address: string): boolean {
    const worker = this.#workers.get(address)
    return worker !== undefined && worker.connected > 0
  }

  /** Workers that have a pool right now: one is dropped once it has no connection and no call. */
  get poolCount(): number {
    return this.#workers.size
  }

  /** Lets requests in flight finish, then closes every connection. Idempotent. */
  close(): Promise<void> {
    this.#closing ??= Promise.all([
      ...[...this.#workers.values()].map((worker) => worker.pool.close()),
      ...this.#dropping,
    ]).then(() => undefined)
    return this.#closing
  }

  /** Fails requests in flight with `ERR_CLOSED` and closes every connection now. Idempotent. */
  destroy(): Promise<void> {
    const error = new GrenacheError('ERR_CLOSED', `${this.kind} client transport was destroyed`)
    this.#closing ??= Promise.resolve()
    return Promise.all([...this.#workers.values()].map((worker) => worker.pool.destroy(error))).then(
      () => undefined,
    )
  }

  #addWorker(address: string): Worker {
    const origin = workerOrigin(this.kind, address)
    const pool = new (undiciModule().Pool)(origin, {
      connections: this.#connections,
      pipelining: 1,
      connectTimeout: this.#connectTimeoutMs,
      ...(this.#tls === undefined ? {} : { connect: this.#tls }),
    })
    const worker: Worker = {
      pool,
      connected: 0,
      gzipping: 0,
      label: `${this.kind} ${address}`,
      maxPayloadBytes: this.#maxPayloadBytes,
      compress: this.#compress,
    }
    pool.on('connect', () => {
      worker.connected++
    })
    pool.on('disconnect', () => {
      worker.connected--
      this.#dropIfIdle(address, worker)
    })
    pool.on('connectionError', () => this.#dropIfIdle(address, worker))
    this.#workers.set(address, worker)
    return worker
  }

  /**
   * Forgets the pool of a worker that has no connection left and no call, so that a long-lived
   * client does not keep a pool for every worker it ever called (workers come and go on new ports).
   * Every pool ends that way: its last connection closes (keep-alive timeout, worker gone) or its
   * connect fails, and undici settles the calls before the event handlers see the next tick.
   */
  #dropIfIdle(address: string, worker: Worker): void {
    setImmediate(() => {
      if (worker.connected > 0 || worker.gzipping > 0 || worker.pool.stats.size > 0) return
      if (this.#closing !== undefined) return
      if (this.#workers.get(address) !== worker) return
      this.#workers.delete(address)
      const closing = worker.pool.close().catch(() => undefined)
      this.#dropping.add(closing)
      void closing.then(() => this.#dropping.delete(closing))
    })
  }
}

function sendGzipped(worker: Worker, body: string, call: HttpCall): void {
  worker.gzipping++
  gzip(body, (err, compressed) => {
    worker.gzipping--
    if (err) call.fail(httpTransportError(err, `${worker.label}: gzip of the request`))
    else if (!call.settled) {
      worker.pool.dispatch({ method: 'POST', path: '/', headers: GZIP_HEADERS, body: compressed }, call)
    }
  })
}
