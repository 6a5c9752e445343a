import { verifySignature } from '../bep44/ed25519.js'
import {
  resolveServerLimits,
  type ServerLimitOptions,
  type ServerLimits,
} from '../transport/shared/server-limits.js'
import { type Checker, checkOption } from '../util/validate.js'
import { normaliseHost, normaliseOrigin } from './api-guard.js'

/** Verifies a BEP 44 signature: `(signature, signedBytes, publicKey) => valid`. Must be synchronous. */
export type VerifyFunction = (signature: Uint8Array, message: Uint8Array, publicKey: Uint8Array) => boolean

/** Options of a `Grape`. Names follow the reference's `conf` keys, in camelCase with units. */
export interface GrapeOptions {
  /** Port of the HTTP API (`--aph`). Required; 0 picks a free port (read it from `start()`). */
  apiPort: number
  /** UDP port of the DHT node (`--dp`). 0 picks a free port. Default 20001. */
  dhtPort?: number
  /**
   * Address the HTTP API binds (`-b`). When given, the Grape also stores its own announces under
   * this address, as the reference does. Default `'127.0.0.1'`, without self-announce.
   */
  host?: string
  /**
   * Address the DHT's UDP socket binds. Default `'0.0.0.0'` (every interface, as the reference):
   * other Grapes must reach a DHT node. Firewall the port to your Grapes' hosts, or bind their
   * shared private address; `'127.0.0.1'` for a Grape network on one host. See README, "The DHT port".
   */
  dhtHost?: string
  /** Other DHT nodes to join, as `'host:port'` (`--bn`). Empty means an isolated node. Default `[]`. */
  bootstrap?: readonly string[]
  /** Parallel DHT queries per lookup (`--dc`). Default 16 (the reference's 24 never reached the DHT). */
  dhtConcurrency?: number
  /**
   * BEP 5's K: nodes per routing-table bucket, and how many nodes closest to a name a lookup
   * converges on (an announce is stored at those that answered it). Default 8, as BEP 5; the
   * reference (bittorrent-dht's default) uses 20. Either finds the other's announces: each side's
   * closest nodes are among the other's. See README, "The DHT at scale".
   */
  dhtK?: number
  /** Routing tables cached for recent keys (`--dht_maxTables`). Default 5000. */
  dhtMaxTables?: number
  /** DHT items (BEP 44) stored by this node (`--dht_maxValues`). Default 5000. */
  dhtMaxValues?: number
  /** How long an announced peer is kept, in ms (`--dpa`). Default 120000. */
  dhtPeerMaxAgeMs?: number
  /** Age after which a quiet routing bucket is re-checked, in ms (`--dnl`). Default 300000. */
  dhtNodeLivenessMs?: number
  /** Largest API request body, in bytes (`--check_maxPayloadSize`). Always on. Default 8192. */
  maxPayloadBytes?: number
  /** How long a peer seen for a name answers lookups, in ms (`--cache_maxAge`). Default half of `dhtPeerMaxAgeMs`. */
  lookupCacheMaxAgeMs?: number
  /** A name answered from memory is refreshed from the DHT in the background once this old, in ms. Default 1000. */
  lookupRefreshMs?: number
  /** Mutable-item signature check: `true` (ed25519, the default), `false` (mutable items refused), or your own. */
  verify?: boolean | VerifyFunction
  /**
   * Web origins allowed to call the API from a browser, as a browser writes them
   * (`'https://dash.example:8443'`; `'null'` for sandboxed pages); `['*']` allows every origin.
   * A request with any other `Origin` header, or `Sec-Fetch-Site: cross-site` without an allowed
   * one, is refused with 403 `ERR_GRAPE_ORIGIN` before its body is read (`--allowed_origins`).
   * Links send no `Origin`. Default `[]`: every browser request is refused (CSRF).
   */
  allowedOrigins?: readonly string[]
  /**
   * `Host` header names accepted besides IP addresses, `localhost` and `host` (which always are):
   * `'grape.internal'` (any port) or `'grape.internal:30001'`. A Link that reaches the API by a DNS
   * name needs that name here. Any other `Host` is refused with 403 `ERR_GRAPE_HOST` (DNS
   * rebinding); `['*']` turns the check off (`--allowed_hosts`). Default `[]`.
   */
  allowedHosts?: readonly string[]
  /**
   * The API server's connection cap and timeouts (`maxConnections` 4096, answered 503
   * `ERR_BUSY` past it; `headersTimeoutMs` 10000, `requestTimeoutMs` 30000, `idleTimeoutMs` 5000
   * between requests of a kept-alive connection). They fire when configured, to within 1 s.
   */
  apiLimits?: ServerLimitOptions
}

/** `GrapeOptions` with every default filled in. */
export interface ResolvedGrapeOptions {
  apiPort: number
  dhtPort: number
  host: string
  selfAnnounce: boolean
  dhtHost: string
  bootstrap: string[]
  dhtConcurrency: number
  dhtK: number
  dhtMaxTables: number
  dhtMaxValues: number
  dhtPeerMaxAgeMs: number
  dhtNodeLivenessMs: number
  maxPayloadBytes: number
  lookupCacheMaxAgeMs: number
  lookupRefreshMs: number
  verify: VerifyFunction | null
  /** Lower-cased origins, or `['*']`. */
  allowedOrigins: string[]
  /** Lower-cased `name` or `name:port` entries, or `['*']`. */
  allowedHosts: string[]
  apiLimits: ServerLimits
}

const DAY_MS = 24 * 60 * 60 * 1000

/** Fills the defaults once and rejects invalid values with `ERR_INVALID_OPTION`. */
export function resolveGrapeOptions(options: GrapeOptions): ResolvedGrapeOptions {
  if (typeof options !== 'object' || options === null) checkOption.fail('', 'must be an object', options)
  const check: Checker = checkOption
  const dhtPeerMaxAgeMs = check.integer('dhtPeerMaxAgeMs', options.dhtPeerMaxAgeMs ?? 120_000, 1000, DAY_MS)
  const bootstrap = options.bootstrap ?? []
  if (!Array.isArray(bootstrap)) check.fail('bootstrap', 'must be an array of "host:port"', bootstrap)
  const verify = options.verify ?? true
  if (typeof verify !== 'boolean' && typeof verify !== 'function') {
    check.fail('verify', 'must be a boolean or a function', verify)
  }
  return {
    apiPort: check.port('apiPort', options.apiPort),
    dhtPort: check.port('dhtPort', options.dhtPort ?? 20001),
    host: check.string('host', options.host ?? '127.0.0.1'),
    selfAnnounce: options.host !== undefined,
    dhtHost: check.string('dhtHost', options.dhtHost ?? '0.0.0.0'),
    bootstrap: bootstrap.map((node, i) => check.hostPort(`bootstrap[${i}]`, node)),
    dhtConcurrency: check.integer('dhtConcurrency', options.dhtConcurrency ?? 16, 1, 256),
    dhtK: check.integer('dhtK', options.dhtK ?? 8, 1, 64),
    dhtMaxTables: check.integer('dhtMaxTables', options.dhtMaxTables ?? 5000, 1),
    dhtMaxValues: check.integer('dhtMaxValues', options.dhtMaxValues ?? 5000, 1),
    dhtPeerMaxAgeMs,
    dhtNodeLivenessMs: check.integer('dhtNodeLivenessMs', options.dhtNodeLivenessMs ?? 300_000, 1000, DAY_MS),
    maxPayloadBytes: check.integer('maxPayloadBytes', options.maxPayloadBytes ?? 8192, 64, 16 * 1024 * 1024),
    lookupCacheMaxAgeMs: check.integer(
      'lookupCacheMaxAgeMs',
      options.lookupCacheMaxAgeMs ?? Math.ceil(dhtPeerMaxAgeMs / 2),
      100,
      DAY_MS,
    ),
    lookupRefreshMs: check.integer('lookupRefreshMs', options.lookupRefreshMs ?? 1000, 0, DAY_MS),
    verify: verify === true ? verifySignature : verify === false ? null : verify,
    allowedOrigins: list(check, 'allowedOrigins', options.allowedOrigins, normaliseOrigin, ORIGIN_RULE),
    allowedHosts: list(check, 'allowedHosts', options.allowedHosts, normaliseHost, HOST_RULE),
    apiLimits: resolveServerLimits(apiLimitsOf(check, options.apiLimits), 5000),
  }
}

const ORIGIN_RULE = 'must be "*", "null" or an origin such as "https://example.com:8443" (no path)'
const HOST_RULE =
  'must be "*" or a host name or address with an optional port, such as "grape.internal:30001"'

/** Checks every entry of a list option with `normalise`, naming the entry that fails. */
function list(
  check: Checker,
  name: string,
  value: unknown,
  normalise: (entry: string) => string | undefined,
  rule: string,
): string[] {
  if (value === undefined) return []
  if (!Array.isArray(value)) check.fail(name, 'must be an array of strings', value)
  return value.map((entry: unknown, i) => {
    const normalised = typeof entry === 'string' ? normalise(entry) : undefined
    return normalised ?? check.fail(`${name}[${i}]`, rule, entry)
  })
}

function apiLimitsOf(check: Checker, limits: unknown): ServerLimitOptions {
  if (limits === undefined) return {}
  if (typeof limits !== 'object' || limits === null) check.fail('apiLimits', 'must be an object', limits)
  return limits as ServerLimitOptions
}
