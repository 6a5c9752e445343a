import {
  resolveServerLimits,
  type ServerLimitOptions,
  type ServerLimits,
} from '../transport/shared/server-limits.js'
import type { TlsOptions } from '../transport/types.js'
import { checkOption } from '../util/validate.js'

/** Options of a `WsFeedServer` (and the repeater's `websocket` output); the cap and timeouts as every server's. */
export interface WsFeedServerOptions extends ServerLimitOptions {
  /** Address to listen on; default `127.0.0.1`. */
  host?: string
  /** Port; default 0, a free one. */
  port?: number
  /** The only path served (`ws://host:port/path`); another path is refused (HTTP 400). Default `/`. */
  path?: string
  /**
   * A consumer with more than this many bytes queued (it reads too slowly) is closed with code
   * 4008 (`WS_FEED_SLOW_CODE`) instead of letting memory grow; it reconnects and gets a fresh
   * snapshot. The snapshot a consumer is being sent does not count (a state larger than the
   * limit can still be served). Default 8 MiB.
   */
  maxBufferedBytes?: number
  /** Interval of WebSocket pings (ms); a consumer that did not answer the last one is dropped. 0: none. Default 15000. */
  pingIntervalMs?: number
  /** Serve `wss://` with this certificate and key. */
  tls?: TlsOptions
}

export type ResolvedWsFeedServerOptions = Required<
  Omit<WsFeedServerOptions, 'tls' | keyof ServerLimitOptions>
> & {
  tls: TlsOptions | undefined
  limits: ServerLimits
}

/** Checks the options of a `WsFeedServer` (`ERR_INVALID_OPTION`) and fills the defaults. */
export function resolveWsFeedServerOptions(options: WsFeedServerOptions): ResolvedWsFeedServerOptions {
  if (typeof options !== 'object' || options === null) checkOption.fail('', 'must be an object', options)
  const path = checkOption.string('path', options.path ?? '/')
  if (!path.startsWith('/')) checkOption.fail('path', 'must start with "/"', path)
  const tls = options.tls
  if (tls !== undefined && (typeof tls !== 'object' || tls === null || !(tls.pfx || (tls.key && tls.cert)))) {
    checkOption.fail('tls', 'must have key and cert (or pfx)', typeof tls === 'object' ? '{…}' : tls)
  }
  return {
    host: checkOption.string('host', options.host ?? '127.0.0.1'),
    port: checkOption.port('port', options.port ?? 0),
    path,
    maxBufferedBytes: checkOption.integer('maxBufferedBytes', options.maxBufferedBytes ?? 8 * 1024 * 1024, 1),
    pingIntervalMs: checkOption.integer('pingIntervalMs', options.pingIntervalMs ?? 15_000, 0, 3_600_000),
    tls,
    limits: resolveServerLimits(options, 0),
  }
}
