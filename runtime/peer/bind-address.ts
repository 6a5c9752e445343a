import { type ErrorCode, GrenacheError, toGrenacheError } from '../errors.js'
import { type CallOptions, createDeadline, sleep } from '../util/deadline.js'
import { covers, isLoopback, localAddresses } from '../util/local-address.js'
import type { Discovery } from './discovery.js'

/** Where a server binds when nothing announces it, or its Grape cannot tell: nothing exposed. */
export const DEFAULT_HOST = '127.0.0.1'

export interface BindRequest {
  /** What binds, for messages: `'listen[0] (ws)'`, `'the PubServer'`. */
  what: string
  /** The option that sets the bind address, for messages: `'listen[0].host'`. */
  option: string
  /** The address given, or undefined: the announced one. */
  host: string | undefined
  /** Refuse an explicit `host` that the announced address does not reach. Default true. */
  check?: boolean
}

/** Failures that say the Grape is not up yet: asked again, as `startAnnouncing` does. */
const NOT_UP = new Set<ErrorCode>(['ERR_CONNECTION_REFUSED', 'ERR_CONNECTION_RESET', 'ERR_CONNECTION_FAILED'])

/**
 * Where announces through `link` are stored (`Discovery.announceHosts`); undefined without a link,
 * or when its Grape cannot tell. Asked once per `start()`, for every endpoint of the server; a Grape
 * that is not up yet is asked again until the deadline (`timeoutMs`, default 10 s), so a worker
 * may start before its Grape.
 */
export async function announcedHosts(
  link: Discovery | undefined,
  what: string,
  options?: CallOptions,
): Promise<readonly string[] | undefined> {
  if (!link?.announceHosts) return undefined
  const context = `${what}: asking the Grape where announces are stored`
  const deadline = createDeadline(options, 10_000, context)
  try {
    for (let retryMs = 100; ; retryMs = Math.min(retryMs * 2, 1000)) {
      try {
        return await link.announceHosts({ signal: deadline.signal })
      } catch (err) {
        if (deadline.signal.aborted) throw deadline.reason()
        const error = toGrenacheError(err, context)
        if (!NOT_UP.has(error.code)) throw error
        await sleep(retryMs, deadline.signal).catch(() => {
          throw new GrenacheError(
            deadline.reason().code,
            `${deadline.reason().message}; last failure: ${error.message}`,
            {
              cause: error,
            },
          )
        })
      }
    }
  } finally {
    deadline.dispose()
  }
}

/**
 * The address an announced endpoint binds: by default the one address its Grape is seen at by the
 * other Grapes (where the DHT stores the announce), so bind and announce agree without listening on
 * every interface; an explicit `host` is checked against it. Throws `ERR_ANNOUNCE_MISMATCH` when
 * they cannot agree (see docs/many-hosts.md). `announced` comes from `announcedHosts`.
 */
export function bindHost(request: BindRequest, announced: readonly string[] | undefined): string {
  const { host } = request
  if (announced === undefined || announced.length === 0) return host ?? DEFAULT_HOST
  if (request.check === false) return host ?? only(request, announced)
  const local = localAddresses()
  const elsewhere = announced.filter((address) => !isLoopback(address) && !local.has(address))
  if (elsewhere.length > 0) {
    throw mismatch(
      request,
      `its Grape is seen by the other Grapes at ${elsewhere.join(', ')}, not an address of this host: the DHT stores the Grape's address, so a worker must run on its Grape's host (or in its network namespace); use a Grape here`,
    )
  }
  if (host === undefined) return only(request, announced)
  const missed = announced.filter((address) => covers(host, address) === false)
  if (missed.length > 0) {
    throw mismatch(
      request,
      `it binds ${host} (${request.option}) but is announced at ${missed.join(', ')} (where the other Grapes see its Grape): clients there would get ECONNREFUSED; leave ${request.option} unset to bind the announced address, bind "0.0.0.0", or pass checkAnnounce: false if something in between forwards it`,
    )
  }
  return host
}

function only(request: BindRequest, announced: readonly string[]): string {
  if (announced.length === 1) return announced[0] as string
  throw mismatch(
    request,
    `its Grape is seen at several addresses (${announced.join(', ')}), and one bind cannot serve them all: set ${request.option} to "0.0.0.0" to listen on every interface, or bind the Grape's DHT to one address (dhtHost, --dht_host)`,
  )
}

function mismatch(request: BindRequest, why: string): GrenacheError {
  return new GrenacheError('ERR_ANNOUNCE_MISMATCH', `${request.what}: ${why}`)
}
