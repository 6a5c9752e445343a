import { EventEmitter, once } from 'node:events'
import type { Server } from 'node:http'
import type { AddressInfo } from 'node:net'
import { debuglog } from 'node:util'
import { GrenacheError, toGrenacheError } from '../errors.js'
import { isWildcard } from '../util/local-address.js'
import { announceHosts, checkDhtBind } from './announce-hosts.js'
import { createApiGuard } from './api-guard.js'
import { DhtNode } from './dht-node.js'
import { type GrapeOptions, type ResolvedGrapeOptions, resolveGrapeOptions } from './grape-options.js'
import { createHandlers } from './handlers.js'
import { createApiServer } from './http-api.js'
import { PeerTable } from './peer-table.js'

const debug = debuglog('grenache')

/** Events of a `Grape`. Recoverable problems are `warning`s, never `error`s. */
export interface GrapeEvents {
  /** `start()` finished: the DHT socket is bound and the API listens (see `joined()`). */
  ready: [address: GrapeAddress]
  /** A DHT node joined this Grape's routing table. */
  node: [node: { host: string; port: number }]
  /** This Grape stored an announce of `name` by the worker at `address` (`ip:port`). */
  announce: [name: string, address: string]
  /** A lookup saw a peer for `name` that this Grape did not know as live. */
  peer: [name: string, address: string]
  /** Something went wrong that the Grape recovered from. */
  warning: [error: GrenacheError]
  close: []
}

/** Where a started Grape listens. */
export interface GrapeAddress {
  /** Base URL of the HTTP API, for a `Link`: `http://<host>:<apiPort>`. */
  url: string
  host: string
  apiPort: number
  dhtHost: string
  dhtPort: number
}

/**
 * What the Grape's DHT socket and HTTP API refused since the Grape was built. Each refusal is also a
 * `warning` (`ERR_DECODE`, `ERR_INTERNAL` for a handler error, `ERR_GRAPE_REJECTED` for the API).
 */
export interface GrapeStats {
  /** Malformed DHT queries, answered with a KRPC error: 203, or 205 for a value past 1000 bytes. */
  dhtQueriesRefused: number
  /** DHT datagrams dropped unanswered: not bencode, not KRPC, no transaction id, a malformed response. */
  dhtMessagesDropped: number
  /** Well-formed DHT messages that still made the DHT throw; caught, and a query answered 202. */
  dhtHandlerErrors: number
  /**
   * API requests refused with 403 before their body was read: an `Origin` not in `allowedOrigins`
   * or a cross-site browser request (`ERR_GRAPE_ORIGIN`), a `Host` not allowed (`ERR_GRAPE_HOST`).
   */
  apiRequestsRefused: number
  /** Names answered from memory and refreshed by one round of `get_peers` to the nodes closest to them. */
  dhtRevalidations: number
  /** Revalidations where fewer than half of the nodes asked answered: a full DHT lookup ran instead. */
  dhtRevalidationFallbacks: number
}

/**
 * A Grape: one DHT node and the HTTP API that Links (ours and the reference's) talk to.
 * Wire-compatible with grenache-grape 1.0.0; see docs/grape-and-link.md for what we improve.
 */
export class Grape extends EventEmitter<GrapeEvents> {
  readonly options: Readonly<ResolvedGrapeOptions>
  readonly #table: PeerTable
  #node: DhtNode | undefined
  #server: Server | undefined
  #sweep: NodeJS.Timeout | undefined
  #address: GrapeAddress | undefined
  #starting: Promise<GrapeAddress> | undefined
  #attempt: Promise<unknown> | undefined
  #closing: Promise<void> | undefined
  #apiRequestsRefused = 0
  readonly #closed = new AbortController()

  constructor(options: GrapeOptions) {
    super()
    this.options = resolveGrapeOptions(options)
    this.#table = new PeerTable({ maxAgeMs: this.options.lookupCacheMaxAgeMs })
  }

  /** Where the Grape listens; throws `ERR_CLOSED` before `start()` resolved. */
  get address(): GrapeAddress {
    if (!this.#address) throw new GrenacheError('ERR_CLOSED', 'the Grape is not started')
    return this.#address
  }

  /**
   * Resolves once the DHT joined: a first node answered, or the bootstrap finished (at once with an
   * empty bootstrap list). `start()` does not wait for it; API requests do.
   */
  joined(): Promise<void> {
    return this.#node?.joined() ?? Promise.reject(new GrenacheError('ERR_CLOSED', 'the Grape is not started'))
  }

  /** How many DHT nodes are in the routing table. */
  get nodeCount(): number {
    return this.#node?.dht.nodes.count() ?? 0
  }

  /** Counters of what the DHT socket refused and of background revalidations (all 0 before `start()`); kept after `close()`. */
  get stats(): GrapeStats {
    const guard = this.#node?.guardStats
    return {
      dhtQueriesRefused: guard?.queriesRefused ?? 0,
      dhtMessagesDropped: guard?.messagesDropped ?? 0,
      dhtHandlerErrors: guard?.handlerErrors ?? 0,
      apiRequestsRefused: this.#apiRequestsRefused,
      dhtRevalidations: this.#node?.revalidationStats.done ?? 0,
      dhtRevalidationFallbacks: this.#node?.revalidationStats.fellBack ?? 0,
    }
  }

  /** Binds the DHT and the API, and starts the bootstrap (see `joined()`); idempotent. Rejects with a coded error (e.g. `ERR_ADDRESS_IN_USE`). */
  start(): Promise<GrapeAddress> {
    if (this.#closing) return Promise.reject(new GrenacheError('ERR_CLOSED', 'the Grape was closed'))
    if (!this.#starting) {
      const attempt = this.#start()
      this.#attempt = attempt.catch(() => undefined)
      this.#starting = attempt.catch(async (err: unknown) => {
        await this.close()
        throw toGrenacheError(err, 'Grape start')
      })
    }
    return this.#starting
  }

  async #start(): Promise<GrapeAddress> {
    const options = this.options
    checkDhtBind(options.dhtHost, options.bootstrap)
    const node = new DhtNode(options, this.#table, {
      onNode: (peer) => this.emit('node', { host: peer.host, port: peer.port }),
      onPeer: (key, address, stored) => {
        if (this.listenerCount(stored ? 'announce' : 'peer') === 0) return
        this.emit(stored ? 'announce' : 'peer', Buffer.from(key, 'hex').toString(), address)
      },
      onWarning: (err) => this.#warn(err, 'DHT'),
    })
    this.#node = node
    // Both binds at once: a Grape started on a busy host waits for one turn of its event loop, not two.
    const dhtBound = node.start()

    const server = createApiServer({
      maxPayloadBytes: options.maxPayloadBytes,
      limits: options.apiLimits,
      handlers: createHandlers({
        node,
        table: this.#table,
        lookupRefreshMs: options.lookupRefreshMs,
        onRefreshError: (err) => debug('background lookup failed: %s', (err as Error)?.message),
        signal: this.#closed.signal,
      }),
      onError: (err) => this.#warn(err, 'API handler'),
      addresses: async () => {
        await dhtBound
        return {
          status: 200,
          body: JSON.stringify({ announce: await this.announceHosts(), dhtPort: node.port }),
        }
      },
      guard: createApiGuard(options),
      onRefused: ({ code, message }) => {
        this.#apiRequestsRefused++
        this.#warn(
          new GrenacheError('ERR_GRAPE_REJECTED', `API request refused with 403 ${code}: ${message}`),
          'API',
        )
      },
    })
    this.#server = server
    const apiBound = once(server, 'listening').catch((err: unknown) => {
      throw toGrenacheError(err, `Grape API on ${options.host}:${options.apiPort} (options.host, -b)`)
    })
    server.listen(options.apiPort, options.host)
    // Both settle before a failure is thrown, so that close() finds each socket bound or failed.
    const [dhtBind, apiBind] = await Promise.allSettled([dhtBound, apiBound])
    if (dhtBind.status === 'rejected') throw dhtBind.reason
    if (apiBind.status === 'rejected') throw apiBind.reason
    server.on('error', (err) => this.#warn(err, 'API server'))
    if (options.selfAnnounce && isWildcard(options.host)) {
      // The reference does the same; say so rather than hand out an address nobody can dial.
      this.#warn(
        new GrenacheError(
          'ERR_ANNOUNCE_MISMATCH',
          `host ${options.host} (-b) is a wildcard: this Grape stores its own announces as ${options.host}:<port>, which clients on other hosts cannot dial; give -b the address workers are reached at, or omit it`,
        ),
        'Grape start',
      )
    }

    this.#sweep = setInterval(() => this.#table.sweep(), Math.min(options.lookupCacheMaxAgeMs, 60_000))
    this.#sweep.unref()
    const api = server.address() as AddressInfo
    this.#address = {
      url: `http://${urlHost(options.host)}:${api.port}`,
      host: options.host,
      apiPort: api.port,
      dhtHost: options.dhtHost,
      dhtPort: node.port,
    }
    debug('grape ready: api %s, dht %s:%d', this.#address.url, options.dhtHost, node.port)
    this.emit('ready', this.#address)
    return this.#address
  }

  /**
   * Where announces made through this Grape are stored: the address other DHT nodes see it at
   * (see docs/many-hosts.md). Empty before `start()`, and while it cannot tell (a wildcard DHT bind
   * and no node known yet).
   */
  async announceHosts(): Promise<string[]> {
    const node = this.#node
    if (!node) return []
    const options = this.options
    const known = node.dht.nodes.toArray() as Array<{ host: string }>
    const bootstrap = options.bootstrap.map((entry) => ({
      host: entry.slice(0, entry.lastIndexOf(':')).replace(/^\[|\]$/g, ''),
    }))
    return announceHosts({
      dhtHost: options.dhtHost,
      selfAnnounceHost: options.selfAnnounce ? options.host : undefined,
      nodes: [...known, ...bootstrap],
    })
  }

  /** Stops the API, then the DHT; idempotent (a second call returns the same promise). */
  close(): Promise<void> {
    this.#closing ??= this.#close()
    return this.#closing
  }

  async #close(): Promise<void> {
    this.#closed.abort()
    await this.#attempt
    clearInterval(this.#sweep)
    const server = this.#server
    if (server?.listening) {
      const closed = new Promise<void>((resolve) => server.close(() => resolve()))
      server.closeIdleConnections()
      // In-flight requests are answered when the DHT below is destroyed; give them a moment.
      const grace = setTimeout(() => server.closeAllConnections(), 1000)
      await this.#node?.destroy()
      await closed
      clearTimeout(grace)
    } else {
      await this.#node?.destroy()
    }
    this.#table.clear()
    this.#address = undefined
    this.emit('close')
  }

  #warn(err: unknown, where: string): void {
    const error = toGrenacheError(err, where)
    debug('grape warning %s: %s', error.code, error.message)
    if (this.listenerCount('warning') > 0) this.emit('warning', error)
  }
}

function urlHost(host: string): string {
  if (host === '0.0.0.0') return '127.0.0.1'
  if (host === '::') return '[::1]'
  return host.includes(':') ? `[${host}]` : host
}
