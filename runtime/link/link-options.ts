import { type Checker, checkOption } from '../util/validate.js'

/** Options of a `Link`. */
export interface LinkOptions {
  /** Base URL of the Grape's HTTP API, e.g. `'http://127.0.0.1:30001'`. Required. */
  grape: string
  /** Default deadline of one call, in ms (retries included). Default 2500 (the reference's). */
  requestTimeoutMs?: number
  /** Attempts per call when the Grape cannot be reached, the first included. Default 3. */
  maxAttempts?: number
  /** How long a non-empty lookup answer is served from memory, in ms. Default 10000. */
  lookupCacheMaxAgeMs?: number
  /** A cached answer this old is served and refreshed in the background, in ms. Default 1000. */
  lookupRefreshMs?: number
  /** Names whose lookup answers are kept. Default 2500. */
  lookupCacheMaxNames?: number
  /** Time between re-announces of `startAnnouncing`, in ms (±10 %). Default 30000. */
  announceIntervalMs?: number
  /** Default deadline for the first announce of `startAnnouncing`, in ms. Default 10000. */
  announceTimeoutMs?: number
  /**
   * Keep-alive connections to the Grape at most. Default 8. 0: a new connection for each call,
   * closed after it, and the pool is never loaded: for a process that makes a call or two and exits.
   */
  connections?: number
}

export interface ResolvedLinkOptions {
  grape: URL
  requestTimeoutMs: number
  maxAttempts: number
  lookupCacheMaxAgeMs: number
  lookupRefreshMs: number
  lookupCacheMaxNames: number
  announceIntervalMs: number
  announceTimeoutMs: number
  connections: number
}

const HOUR_MS = 60 * 60 * 1000

export function resolveLinkOptions(options: LinkOptions): ResolvedLinkOptions {
  if (typeof options !== 'object' || options === null) checkOption.fail('', 'must be an object', options)
  const check: Checker = checkOption
  const text = check.string('grape', options.grape)
  let grape: URL
  try {
    grape = new URL(text)
  } catch {
    check.fail('grape', 'must be a URL such as "http://127.0.0.1:30001"', text)
  }
  if (grape.protocol !== 'http:' && grape.protocol !== 'https:') {
    check.fail('grape', 'must be an http: or https: URL', text)
  }
  if (grape.search || grape.hash) check.fail('grape', 'must not have a query or a fragment', text)
  return {
    grape,
    requestTimeoutMs: check.integer('requestTimeoutMs', options.requestTimeoutMs ?? 2500, 1, HOUR_MS),
    maxAttempts: check.integer('maxAttempts', options.maxAttempts ?? 3, 1, 100),
    lookupCacheMaxAgeMs: check.integer(
      'lookupCacheMaxAgeMs',
      options.lookupCacheMaxAgeMs ?? 10_000,
      0,
      HOUR_MS,
    ),
    lookupRefreshMs: check.integer('lookupRefreshMs', options.lookupRefreshMs ?? 1000, 0, HOUR_MS),
    lookupCacheMaxNames: check.integer('lookupCacheMaxNames', options.lookupCacheMaxNames ?? 2500, 1),
    announceIntervalMs: check.integer(
      'announceIntervalMs',
      options.announceIntervalMs ?? 30_000,
      100,
      HOUR_MS,
    ),
    announceTimeoutMs: check.integer('announceTimeoutMs', options.announceTimeoutMs ?? 10_000, 1, HOUR_MS),
    connections: check.integer('connections', options.connections ?? 8, 0, 1024),
  }
}
