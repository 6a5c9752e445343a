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
  /**
   * Other workers tried after a worker failed, for every call. Default: 2 for a call that is not
   * idempotent, every distinct worker found for an idempotent one (within the deadline). A refused
   * connection never counts: the request never left and the next address is always tried.
   */
  retry?: number
  /** How long a worker that dropped a connection or was busy is avoided, in ms. Default 5000. */
  benchMs?: number
  /**
   * Longest time an address that refused a connection is held out of `request`, in ms. The first
   * hold is 1 s and doubles with each refusal in a row up to this; any answer from the address ends
   * it. Default 120000 (the DHT's peer max-age: how long a stopped worker's address is still found).
   */
  goneMaxMs?: number
}

/** Options of one `request`. */
export interface RequestOptions extends CallOptions {
  /** Other workers to try after a worker failed (this call only); refusals never count. */
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
  | {
      worker: string
      ok: false
      /**
       * True when the address refused the connection (`ERR_CONNECTION_REFUSED`): no worker runs
       * there any more, the DHT still remembers a stopped one. False for a worker that failed.
       */
      gone: boolean
      error: GrenacheError
    }

/** Failures that say nothing answered at the address (so they do not prove it is back). */
const CONNECTION_FAILURES = new Set<ErrorCode>([
  'ERR_CONNECTION_REFUSED',
  'ERR_CONNECTION_FAILED',
  'ERR_CONNECTION_RESET',
  'ERR_TIMEOUT',
  'ERR_ABORTED',
  'ERR_CLOSED',
])

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
  readonly #retry: number | undefined
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
    this.#retry =
      options.retry === undefined ? undefined : checkOption.integer('retry', options.retry, 0, 100)
    const benchMs = checkOption.integer('benchMs', options.benchMs ?? 5000, 0)
    const goneMaxMs = checkOption.integer('goneMaxMs', options.goneMaxMs ?? 120_000, 1000)
    this.#picker = new WorkerPicker(
      (address) => this.#transport.isWarm(address),
      benchMs,
      Date.now,
      goneMaxMs,
    )
  }

  /**
   * Sends `payload` to one worker of `key` and resolves with its result. A refused connection never
   * ends a call while an untried address is left (the request never left, the address is gone);
   * other failures are retried as `retry` and `idempotent` say, always within the deadline.
   */
  async request(key: string, payload: unknown, options: RequestOptions = {}): Promise<unknown> {
    this.#checkOpen()
    checkArgument.string('key', key)
    const timeoutMs = options.timeoutMs ?? this.#timeoutMs
    const deadline = Date.now() + timeoutMs
    const { signal } = options
    const name = discoveryName(key, this.kind, options.discovery ?? this.#discovery)
    let addresses = this.#link.peek?.(name) ?? (await this.#link.lookup(name, { signal, timeoutMs }))
    // An idempotent call may run anywhere, so it tries every distinct worker found.
    const retries = options.retry ?? this.#retry ?? (options.idempotent ? Number.POSITIVE_INFINITY : 2)
    const tried = new Set<string>()
    let failures = 0
    let lastError: GrenacheError | undefined
    let asked = false
    for (;;) {
      // The answer holds only gone, benched or tried addresses: a fresh lookup may know the
      // restarted workers. Asked once per call; after that the held-out ones are tried anyway.
      if (!asked && !this.#picker.hasHealthy(addresses, tried)) {
        asked = true
        this.#link.invalidate?.(name)
        // A failed lookup leaves the held-out addresses as the last resort.
        const fresh = await this.#link
          .lookup(name, { signal, timeoutMs: Math.max(1, deadline - Date.now()) })
          .catch(() => [])
        addresses = [...new Set([...addresses, ...fresh])]
      }
      const address = this.#picker.pick(addresses, tried)
      if (address === undefined)
        throw lastError ?? new GrenacheError('ERR_LOOKUP_EMPTY', `no worker of "${name}" is left to try`)
      const remaining = deadline - Date.now()
      if (remaining <= 0)
        throw new GrenacheError('ERR_TIMEOUT', `request "${key}": no reply within ${timeoutMs} ms`)
      tried.add(address)
      this.#picker.begin(address)
      try {
        const result = await this.#transport.request(address, key, payload, { timeoutMs: remaining, signal })
        this.#picker.gone.answered(address)
        return result
      } catch (err) {
        const error = toGrenacheError(err)
        lastError = error
        if (error.code === 'ERR_CONNECTION_REFUSED') {
          this.#picker.gone.refused(address)
          continue
        }
        if (!CONNECTION_FAILURES.has(error.code)) this.#picker.gone.answered(address)
        const undelivered = UNDELIVERED.has(error.code)
        if (!undelivered && error.code !== 'ERR_CONNECTION_RESET') throw error
        this.#picker.bench(address)
        if (failures++ >= retries || (!undelivered && !options.idempotent)) throw error
      } finally {
        this.#picker.end(address)
      }
    }
  }

  /**
   * Sends `payload` to every worker of `key` (or `limit` of them) at once and resolves, after all of
   * them answered or failed, with one result per worker. An address that refused the connection is
   * `gone: true` (a stopped worker the DHT still remembers), apart from the workers that failed.
   * Only the lookup can reject it.
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
    const workers = options.limit === undefined ? addresses : this.#sample(addresses, options.limit)
    const remaining = Math.max(1, deadline - Date.now())
    return Promise.all(
      workers.map(async (worker): Promise<MapResult<T>> => {
        this.#picker.begin(worker)
        try {
          const value = (await this.#transport.request(worker, key, payload, {
            timeoutMs: remaining,
            signal,
          })) as T
          this.#picker.gone.answered(worker)
          return { worker, ok: true, value }
        } catch (err) {
          const error = toGrenacheError(err)
          const gone = error.code === 'ERR_CONNECTION_REFUSED'
          if (gone) this.#picker.gone.refused(worker)
          else if (UNDELIVERED.has(error.code) || error.code === 'ERR_CONNECTION_RESET')
            this.#picker.bench(worker)
          else if (!CONNECTION_FAILURES.has(error.code)) this.#picker.gone.answered(worker)
          return { worker, ok: false, gone, error }
        } finally {
          this.#picker.end(worker)
        }
      }),
    )
  }

  /** `limit` addresses at random, those not held out first. */
  #sample(addresses: readonly string[], limit: number): readonly string[] {
    const healthy = addresses.filter((a) => this.#picker.isHealthy(a))
    const rest = addresses.filter((a) => !this.#picker.isHealthy(a))
    return [...shuffle(healthy), ...shuffle(rest)].slice(0, limit)
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

function shuffle(addresses: readonly string[]): string[] {
  const copy = [...addresses]
  for (let i = copy.length - 1; i > 0; i--) {
    const j = Math.floor(Math.random() * (i + 1))
    ;[copy[i], copy[j]] = [copy[j] as string, copy[i] as string]
  }
  return copy
}
