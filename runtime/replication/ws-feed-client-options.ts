import type { Discovery } from '../peer/discovery.js'
import type { TlsOptions } from '../transport/types.js'
import { checkOption } from '../util/validate.js'
import type { WsFeedConnectionOptions } from './ws-feed-connection.js'

/** Options of a `WsFeedClient`: give `url` or `link`. */
export interface WsFeedClientOptions {
  /** The feed, `ws://host:port/path` or `wss://…`. */
  url?: string
  /** Or find it through this Link, under `<feed>/ws` (what a repeater announces). */
  link?: Discovery
  /** The path dialled at an address found through `link`; default `/`. */
  path?: string
  /** TLS settings for `wss://` (with `link`: dial `wss://` when given). */
  tls?: TlsOptions
  /** Delay before the first reconnect (ms); it doubles up to `maxReconnectDelayMs`. Default 100. */
  minReconnectDelayMs?: number
  /** Longest delay between reconnects (ms). Default 5000. */
  maxReconnectDelayMs?: number
  /** Failed connections in a row (none reaching a snapshot) before the client gives up and closes. Default: never. */
  maxReconnectAttempts?: number
  /** Deadline of an opening handshake (ms). Default 10000. */
  connectTimeoutMs?: number
  /** Largest frame accepted (bytes); a snapshot must fit. Default 256 MiB. */
  maxPayloadBytes?: number
  /** No frame nor ping for this long (ms) drops the connection, which is made again. 0: never. Default 45000. */
  idleTimeoutMs?: number
}

const HOUR_MS = 3_600_000

/** Checks the options of a `WsFeedClient` (`ERR_INVALID_OPTION`) and fills the defaults. */
export function resolveWsFeedClientOptions(options: WsFeedClientOptions): WsFeedConnectionOptions {
  if (typeof options !== 'object' || options === null) checkOption.fail('', 'must be an object', options)
  if ((options.url === undefined) === (options.link === undefined))
    checkOption.fail('url', 'or options.link must be given (one of them)', options.url)
  if (options.url !== undefined && !/^wss?:\/\/[^/]+/.test(checkOption.string('url', options.url)))
    checkOption.fail('url', 'must be a ws:// or wss:// URL', options.url)
  if (options.link !== undefined && typeof options.link?.lookup !== 'function')
    checkOption.fail('link', 'must be a Link (or another Discovery)', options.link)
  const path = checkOption.string('path', options.path ?? '/')
  if (!path.startsWith('/')) checkOption.fail('path', 'must start with "/"', path)
  if (options.tls !== undefined && (typeof options.tls !== 'object' || options.tls === null))
    checkOption.fail('tls', 'must be an object', options.tls)
  const min = checkOption.integer('minReconnectDelayMs', options.minReconnectDelayMs ?? 100, 1, HOUR_MS)
  const max = options.maxReconnectDelayMs ?? Math.max(5000, min)
  return {
    url: options.url,
    link: options.link,
    tls: options.tls,
    path,
    minReconnectDelayMs: min,
    maxReconnectDelayMs: checkOption.integer('maxReconnectDelayMs', max, min, HOUR_MS),
    maxReconnectAttempts: checkOption.integer(
      'maxReconnectAttempts',
      options.maxReconnectAttempts ?? Number.MAX_SAFE_INTEGER,
      0,
    ),
    connectTimeoutMs: checkOption.integer('connectTimeoutMs', options.connectTimeoutMs ?? 10_000, 1, HOUR_MS),
    maxPayloadBytes: checkOption.integer(
      'maxPayloadBytes',
      options.maxPayloadBytes ?? 256 * 2 ** 20,
      1024,
      2 ** 40,
    ),
    idleTimeoutMs: checkOption.integer('idleTimeoutMs', options.idleTimeoutMs ?? 45_000, 0, HOUR_MS),
  }
}
