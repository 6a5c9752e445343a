import { EventEmitter } from 'node:events'
import { debuglog } from 'node:util'
import { fromHex, toHex } from '../bep44/bytes.js'
import type { Signer } from '../bep44/ed25519.js'
import { encodeSignedData } from '../bep44/signed-data.js'
import { immutableTarget, mutableTarget } from '../bep44/targets.js'
import { GrenacheError } from '../errors.js'
import { MAX_SALT_BYTES, MAX_VALUE_BYTES } from '../grape/item-codec.js'
import { type CallOptions, createDeadline, raceSignal } from '../util/deadline.js'
import { checkArgument } from '../util/validate.js'
import { readAnnounceHosts } from './announce-hosts.js'
import { Announcer } from './announcer.js'
import { GrapeClient, type GrapeOperation, type RetryPolicy } from './grape-client.js'
import { type DhtItem, nextSeq, saltBytes, saltForGrape, verifyItem } from './items.js'
import { type LinkOptions, type ResolvedLinkOptions, resolveLinkOptions } from './link-options.js'
import { LookupCache } from './lookup-cache.js'

const debug = debuglog('grenache')

/** Events of a `Link`. */
export interface LinkEvents {
  /** A periodic announce of `startAnnouncing` failed; it is retried on its own. */
  'announce:error': [name: string, port: number, error: GrenacheError]
}

/** A lookup call in flight, shared by every caller of the name. */
interface SharedLookup {
  promise: Promise<readonly string[]>
  controller: AbortController
  waiters: number
}

/** Options of `Link.get`. */
export interface GetOptions extends CallOptions {
  /** Salt of a salted mutable item (the DHT never returns it: the reader must know it). */
  salt?: string | Uint8Array
  /** `false` makes the Grape skip its own store and ask the network. Default true. */
  cache?: boolean
  /** Check the hash, key and signature of what comes back (BEP 44). Default true. */
  verify?: boolean
}

/** Options of `Link.putMutable`. */
export interface PutMutableOptions extends CallOptions {
  /** The key that signs the item (`createSigner(secretKey)`). */
  signer: Signer
  /** Sequence number, above the stored one. Default: microseconds since the epoch, as grenache-cli. */
  seq?: number
  /** Salt: one key can own many items, one per salt. At most 64 bytes. */
  salt?: string | Uint8Array
  /** Compare-and-swap: the seq the writer expects to replace. */
  cas?: number
}

/**
 * A client of one Grape: service discovery (announce, lookup) and DHT items (put, get). Speaks the
 * reference wire protocol, so it works with grenache-grape as well as ours. Every call takes
 * `{ signal, timeoutMs }`; every failure is a `GrenacheError`.
 */
export class Link extends EventEmitter<LinkEvents> {
  readonly options: Readonly<ResolvedLinkOptions>
  readonly #client: GrapeClient
  readonly #cache: LookupCache
  readonly #lookups = new Map<string, SharedLookup>()
  readonly #announcers = new Map<string, { announcer: Announcer; started: Promise<void> }>()
  #closing: Promise<void> | undefined

  constructor(options: LinkOptions) {
    super()
    this.options = resolveLinkOptions(options)
    this.#client = new GrapeClient({
      url: this.options.grape,
      maxAttempts: this.options.maxAttempts,
      connections: this.options.connections,
    })
    this.#cache = new LookupCache({
      maxAgeMs: this.options.lookupCacheMaxAgeMs,
      refreshMs: this.options.lookupRefreshMs,
      maxNames: this.options.lookupCacheMaxNames,
    })
  }

  /**
   * Workers announced under `name`, as `"ip:port"`. Non-empty answers are cached and refreshed in
   * the background; rejects with `ERR_LOOKUP_EMPTY` when there are none (and caches nothing).
   */
  async lookup(name: string, options?: CallOptions): Promise<readonly string[]> {
    this.#checkOpen()
    checkArgument.string('name', name)
    const cached = this.#cache.get(name)
    if (cached) {
      if (cached.stale) this.#refreshLookup(name)
      return cached.addresses
    }
    const deadline = createDeadline(options, this.options.requestTimeoutMs, `lookup ${JSON.stringify(name)}`)
    const shared = this.#sharedLookup(name)
    shared.waiters++
    try {
      const addresses = await raceSignal(shared.promise, deadline.signal)
      if (addresses.length === 0) {
        throw new GrenacheError('ERR_LOOKUP_EMPTY', `no worker is announced as ${JSON.stringify(name)}`)
      }
      return addresses
    } finally {
      deadline.dispose()
      // Nobody waits any more: stop the Grape call rather than let it run to its own deadline.
      if (--shared.waiters === 0) shared.controller.abort()
    }
  }

  /**
   * The cached answer for `name`, without waiting: undefined when nothing is cached. An answer
   * older than `lookupRefreshMs` is returned and refreshed in the background, as by `lookup`.
   */
  peek(name: string): readonly string[] | undefined {
    if (this.#closing) return undefined
    const cached = this.#cache.get(name)
    if (cached?.stale) this.#refreshLookup(name)
    return cached?.addresses
  }

  /** Forgets the cached answer for `name` (e.g. after every worker in it failed). */
  invalidate(name: string): void {
    this.#cache.delete(name)
  }

  #refreshLookup(name: string): void {
    const shared = this.#sharedLookup(name)
    shared.waiters++
    shared.promise
      .catch((err: Error) => debug('lookup refresh of %s failed: %s', name, err.message))
      .finally(() => {
        if (--shared.waiters === 0) shared.controller.abort()
      })
  }

  /** One Grape call per name at a time, shared by every caller; it ends early when all leave. */
  #sharedLookup(name: string): SharedLookup {
    let shared = this.#lookups.get(name)
    if (shared) return shared
    const controller = new AbortController()
    const promise = this.#call('lookup', name, { signal: controller.signal }, 'idempotent')
      .then((answer) => {
        if (!Array.isArray(answer) || !answer.every((a) => typeof a === 'string')) {
          throw new GrenacheError('ERR_GRAPE_BAD_ANSWER', 'Grape lookup: expected an array of "ip:port"')
        }
        this.#cache.set(name, answer)
        return answer as readonly string[]
      })
      .finally(() => this.#lookups.delete(name))
    // Each caller handles the rejection through its own race; this one only keeps it from being unhandled.
    promise.catch(() => undefined)
    shared = { promise, controller, waiters: 0 }
    this.#lookups.set(name, shared)
    return shared
  }

  /**
   * Announces `name` at `port` once; resolves with the number of DHT nodes that stored it. The
   * address stored is this Grape's IP, so the worker must run where its Grape runs.
   */
  async announce(name: string, port: number, options?: CallOptions): Promise<number> {
    this.#checkOpen()
    checkArgument.string('name', name)
    checkArgument.integer('port', port, 1, 65535)
    const count = await this.#call('announce', [name, port], options, 'idempotent')
    if (typeof count !== 'number')
      throw new GrenacheError('ERR_GRAPE_BAD_ANSWER', 'Grape announce: expected a number')
    return count
  }

  /**
   * The addresses workers announced through this Link's Grape are stored at (what other Grapes see
   * it as), asked from the Grape (`POST /addresses`, our extension); undefined when it cannot tell
   * (a reference Grape on this host). `RpcServer`, `PubServer` and `Publisher` bind this by default.
   */
  announceHosts(options?: CallOptions): Promise<readonly string[] | undefined> {
    if (this.#closing) return Promise.reject(new GrenacheError('ERR_CLOSED', 'the Link was closed'))
    return readAnnounceHosts(() => this.#call('addresses', null, options, 'idempotent'), this.options.grape)
  }

  /**
   * Keeps `name` announced at `port` until `stopAnnouncing` or `close`. Resolves after the first
   * announce succeeded (retrying until `timeoutMs`, default `announceTimeoutMs`); if it never does,
   * rejects and announces nothing. Calling it again for the same name and port joins the first.
   */
  startAnnouncing(name: string, port: number, options?: CallOptions): Promise<void> {
    try {
      return this.#startAnnouncing(name, port, options)
    } catch (err) {
      return Promise.reject(err)
    }
  }

  #startAnnouncing(name: string, port: number, options: CallOptions | undefined): Promise<void> {
    this.#checkOpen()
    checkArgument.string('name', name)
    checkArgument.integer('port', port, 1, 65535)
    const id = `${port}:${name}`
    const running = this.#announcers.get(id)
    if (running) return running.started
    const announcer = new Announcer({
      announce: (opts) => this.announce(name, port, opts),
      intervalMs: this.options.announceIntervalMs,
      requestTimeoutMs: this.options.requestTimeoutMs,
      onError: (error) => {
        debug('announce %s:%d failed: %s', name, port, error.message)
        if (this.listenerCount('announce:error') > 0) this.emit('announce:error', name, port, error)
      },
    })
    const started = announcer.start(options, this.options.announceTimeoutMs).catch((err: unknown) => {
      if (this.#announcers.get(id)?.announcer === announcer) this.#announcers.delete(id)
      throw err
    })
    this.#announcers.set(id, { announcer, started })
    return started
  }

  /** Stops re-announcing; true if it was running. Entries expire from the DHT on their own. */
  stopAnnouncing(name: string, port: number): boolean {
    const id = `${port}:${name}`
    const running = this.#announcers.get(id)
    running?.announcer.stop()
    return this.#announcers.delete(id)
  }

  /** Stores an immutable item; resolves with its key (40 hex digits, SHA-1 of the bencoded value). */
  async put(value: string, options?: CallOptions): Promise<string> {
    this.#checkOpen()
    checkValue(value)
    const hash = await this.#call('put', { v: value }, options, 'idempotent')
    const expected = immutableTarget(value)
    if (hash !== expected)
      throw new GrenacheError('ERR_GRAPE_BAD_ANSWER', `Grape put: key ${hash}, expected ${expected}`)
    return expected
  }

  /**
   * Stores a signed mutable item (BEP 44) under SHA-1(public key ‖ salt). Resolves with the key and
   * the seq used. A seq not above the stored one rejects with `ERR_GRAPE_SEQ_TOO_LOW`, a wrong
   * `cas` with `ERR_GRAPE_CAS_MISMATCH`.
   */
  async putMutable(value: string, options: PutMutableOptions): Promise<{ hash: string; seq: number }> {
    this.#checkOpen()
    checkValue(value)
    const signer = options?.signer
    if (!signer || typeof signer.sign !== 'function' || !(signer.publicKey instanceof Uint8Array)) {
      checkArgument.fail('options.signer', 'must be a Signer (createSigner(secretKey))', signer)
    }
    const seq = options.seq ?? nextSeq()
    checkArgument.integer('options.seq', seq, 0)
    if (options.cas !== undefined) checkArgument.integer('options.cas', options.cas, 0)
    const salt = saltBytes(options.salt)
    if (salt && salt.length > MAX_SALT_BYTES)
      checkArgument.fail('options.salt', 'must be at most 64 bytes', salt)
    const signature = signer.sign(encodeSignedData({ v: Buffer.from(value), seq, salt }))
    const data: Record<string, unknown> = { v: value, seq, k: toHex(signer.publicKey), sig: toHex(signature) }
    if (salt && salt.length > 0) data.salt = saltForGrape(salt)
    if (options.cas !== undefined) data.cas = options.cas
    const hash = await this.#call('put', data, options, 'unsent')
    const expected = mutableTarget(signer.publicKey, salt)
    if (hash !== expected)
      throw new GrenacheError('ERR_GRAPE_BAD_ANSWER', `Grape put: key ${hash}, expected ${expected}`)
    return { hash: expected, seq }
  }

  /** Reads an item by its key; null when no node has it. Verified unless `verify: false`. */
  async get(hash: string, options?: GetOptions): Promise<DhtItem | null> {
    this.#checkOpen()
    if (!fromHex(hash, 20)) checkArgument.fail('hash', 'must be 40 hex digits', hash)
    const key = hash.toLowerCase()
    const salt = saltBytes(options?.salt)
    const data: Record<string, unknown> = { hash: key }
    if (salt && salt.length > 0) data.salt = saltForGrape(salt)
    if (options?.cache === false) data.cache = false
    const item = await this.#call('get', data, options, 'idempotent')
    if (item === undefined || item === null) return null
    if (typeof item !== 'object' || Array.isArray(item)) {
      throw new GrenacheError('ERR_GRAPE_BAD_ANSWER', 'Grape get: expected an object or an empty answer')
    }
    if (options?.verify !== false) verifyItem(key, item as DhtItem, salt)
    return item as DhtItem
  }

  /** Stops every announcer, waits for calls in flight and closes the connections; idempotent. */
  close(): Promise<void> {
    this.#closing ??= (async () => {
      for (const { announcer } of this.#announcers.values()) announcer.stop()
      this.#announcers.clear()
      this.#cache.clear()
      await this.#client.close()
    })()
    return this.#closing
  }

  async #call(op: GrapeOperation, data: unknown, options: CallOptions | undefined, retry: RetryPolicy) {
    const deadline = createDeadline(options, this.options.requestTimeoutMs, `Grape ${op}`)
    try {
      return await this.#client.call(op, data, deadline, retry)
    } finally {
      deadline.dispose()
    }
  }

  #checkOpen(): void {
    if (this.#closing) throw new GrenacheError('ERR_CLOSED', 'the Link was closed')
  }
}

function checkValue(value: unknown): void {
  checkArgument.string('value', value, false)
  if (Buffer.byteLength(value as string) > MAX_VALUE_BYTES) {
    checkArgument.fail('value', `must be at most ${MAX_VALUE_BYTES} bytes of UTF-8`, value)
  }
}

export type { DhtItem, GrapeOperation, LinkOptions }
