import { type ErrorCode, GrenacheError, toGrenacheError } from '../errors.js'
import { createClientTransport } from '../transport/factory.js'
import type { ClientTransport, TlsOptions, TransportKind } from '../transport/types.js'
import type { CallOptions } from '../util/deadline.js'
import { checkArgument, checkOption } from '../util/validate.js'
import { type Discovery, type DiscoveryMode, discoveryName } from './discovery.js'
import { WorkerPicker } from './worker-picker.js'

/** Options of an `RpcClient`. */
export interface RpcClientOptions {
  /** Where workers are looked up: a `Link` (or any `Discovery`). */
  link: Discovery
  /** The protocol to speak, or a client transport you built (and close yourself). */
  transport: TransportKind | ClientTransport
  /** TLS settings, for `https` and `wss`. */
  tls?: TlsOptions
  /** Largest reply accepted, in bytes. Default 64 MiB. */
  maxPayloadBytes?: number
  /** How keys become DHT names: `tagged` (`<key>/<transport>`, default) or `plain` (the key as is). */
  discovery?: DiscoveryMode
  /** Default deadline of a call, in ms, lookup included. Default 10000. */
  timeoutMs?: number
  /** Default number of other workers tried after a worker failed. Default 2. */
  retry?: number
  /** How long a worker that refused or dropped a connection is avoided, in ms. Default 5000. */
  benchMs?: number
}

/** Options of one `request`. */
export interface RequestOptions extends CallOptions {
  /** Other workers to try after a worker failed (this call only). */
  retry?: number
  /**
   * Whether the call may run twice. A request that surely never reached a worker (refused, TLS,
   * wrong protocol) is always retried elsewhere; one whose connection dropped while it was in
   * flight is retried only when idempotent.
   */
  idempotent?: boolean
  discovery?: DiscoveryMode
}

/** Options of one `map`. */
export interface MapOptions extends CallOptions {
  /** Call at most this many workers, chosen at random (the reference's `limit`). */
  limit?: number
  discovery?: DiscoveryMode
}

/** What one worker answered to a `map`. */
export type MapResult<T = unknown> =
  | { worker: string; ok: true; value: T }
  | { worker: string; ok: false; error: GrenacheError }

/** Failures where the request surely never reached the worker. */
const UNDELIVERED = new Set<ErrorCode>([
  'ERR_CONNECTION_REFUSED',
  'ERR_CONNECTION_FAILED',
  'ERR_BUSY',
  'ERR_TLS',
  'ERR_TRANSPORT_MISMATCH',
])

/**
 * Calls workers by service key: looks the key up (cached by the Link), picks a worker, and
 * retries on another worker when one is dead. `map` calls them all. Every failure is a
 * `GrenacheError`; a worker's own error is `ERR_REMOTE`.
 */
export class RpcClient {
  readonly kind: TransportKind
  readonly #link: Discovery
  readonly #transport: ClientTransport
  readonly #ownsTransport: boolean
  readonly #picker: WorkerPicker
  readonly #discovery: DiscoveryMode
  readonly #timeoutMs: number
  readonly #retry: number
  #closing: Promise<void> | undefined

  constructor(options: RpcClientOptions) {
    if (typeof options !== 'object' || options === null) checkOption.fail('', 'must be an object', options)
    if (!options.link || typeof options.link.lookup !== 'function') {
      checkOption.fail('link', 'must be a Link (or a Discovery)', options.link)
    }
    this.#link = options.link
    const given = options.transport
    if (typeof given === 'object' && given !== null && typeof given.request === 'function') {
      this.#transport = given
      this.#ownsTransport = false
    } else {
      const clientOptions = {
        ...(options.tls ? { tls: options.tls } : {}),
        ...(options.maxPayloadBytes === undefined ? {} : { maxPayloadBytes: options.maxPayloadBytes }),
      }
      this.#transport = createClientTransport(given as TransportKind, clientOptions)
      this.#ownsTransport = true
    }
    this.kind = this.#transport.kind
    this.#discovery = options.discovery ?? 'tagged'
    if (this.#discovery !== 'tagged' && this.#discovery !== 'plain') {
      checkOption.fail('discovery', 'must be "tagged" or "plain"', this.#discovery)
    }
    this.#timeoutMs = checkOption.integer('timeoutMs', options.timeoutMs ?? 10_000, 1)
    this.#retry = checkOption.integer('retry', options.retry ?? 2, 0, 100)
    const benchMs = checkOption.integer('benchMs', options.benchMs ?? 5000, 0)
    this.#picker = new WorkerPicker((address) => this.#transport.isWarm(address), benchMs)
  }

  /** Sends `payload` to one worker of `key` and resolves with its result. */
  async request(key: string, payload: unknown, options: RequestOptions = {}): Promise<unknown> {
    this.#checkOpen()
    checkArgument.string('key', key)
    const timeoutMs = options.timeoutMs ?? this.#timeoutMs
    const deadline = Date.now() + timeoutMs
    const { signal } = options
    const name = discoveryName(key, this.kind, options.discovery ?? this.#discovery)
    let addresses = this.#link.peek?.(name) ?? (await this.#link.lookup(name, { signal, timeoutMs }))
    const retries = options.retry ?? this.#retry
    let tried: Set<string> | undefined
    for (let attempt = 0; ; attempt++) {
      const address = this.#picker.pick(addresses, tried)
      if (address === undefined)
        throw new GrenacheError('ERR_LOOKUP_EMPTY', `no worker of "${name}" is left to try`)
      const remaining = deadline - Date.now()
      if (remaining <= 0)
        throw new GrenacheError('ERR_TIMEOUT', `request "${key}": no reply within ${timeoutMs} ms`)
      this.#picker.begin(address)
      try {
        return await this.#transport.request(address, key, payload, { timeoutMs: remaining, signal })
      } catch (err) {
        const error = toGrenacheError(err)
        const undelivered = UNDELIVERED.has(error.code)
        if (!undelivered && error.code !== 'ERR_CONNECTION_RESET') throw error
        this.#picker.bench(address)
        if (attempt >= retries || (!undelivered && !options.idempotent)) throw error
        tried ??= new Set()
        tried.add(address)
        if (addresses.every((a) => tried?.has(a))) {
          // Every known worker failed: the Link's answer may be stale, ask again.
          this.#link.invalidate?.(name)
          addresses = await this.#link.lookup(name, { signal, timeoutMs: Math.max(1, deadline - Date.now()) })
          if (addresses.every((a) => tried?.has(a))) throw error
        }
      } finally {
        this.#picker.end(address)
      }
    }
  }

  /**
   * Sends `payload` to every worker of `key` (or `limit` of them) at once and resolves, after all of
   * them answered or failed, with one result per worker. Only the lookup can reject it.
   */
  async map<T = unknown>(key: string, payload: unknown, options: MapOptions = {}): Promise<MapResult<T>[]> {
    this.#checkOpen()
    checkArgument.string('key', key)
    if (options.limit !== undefined) checkArgument.integer('options.limit', options.limit, 1)
    const timeoutMs = options.timeoutMs ?? this.#timeoutMs
    const deadline = Date.now() + timeoutMs
    const { signal } = options
    const name = discoveryName(key, this.kind, options.discovery ?? this.#discovery)
    const addresses = this.#link.peek?.(name) ?? (await this.#link.lookup(name, { signal, timeoutMs }))
    const workers = options.limit === undefined ? addresses : sample(addresses, options.limit)
    const remaining = Math.max(1, deadline - Date.now())
    return Promise.all(
      workers.map(async (worker): Promise<MapResult<T>> => {
        this.#picker.begin(worker)
        try {
          const value = (await this.#transport.request(worker, key, payload, {
            timeoutMs: remaining,
            signal,
          })) as T
          return { worker, ok: true, value }
        } catch (err) {
          const error = toGrenacheError(err)
          if (UNDELIVERED.has(error.code) || error.code === 'ERR_CONNECTION_RESET') this.#picker.bench(worker)
          return { worker, ok: false, error }
        } finally {
          this.#picker.end(worker)
        }
      }),
    )
  }

  /** Waits for calls in flight and closes the transport it created; idempotent. */
  close(): Promise<void> {
    this.#closing ??= this.#ownsTransport ? this.#transport.close() : Promise.resolve()
    return this.#closing
  }

  #checkOpen(): void {
    if (this.#closing) throw new GrenacheError('ERR_CLOSED', 'the RpcClient was closed')
  }
}

function sample(addresses: readonly string[], limit: number): readonly string[] {
  if (addresses.length <= limit) return addresses
  const copy = [...addresses]
  for (let i = copy.length - 1; i > 0; i--) {
    const j = Math.floor(Math.random() * (i + 1))
    ;[copy[i], copy[j]] = [copy[j] as string, copy[i] as string]
  }
  return copy.slice(0, limit)
}
