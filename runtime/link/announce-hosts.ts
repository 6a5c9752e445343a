import { isIP } from 'node:net'
import { debuglog } from 'node:util'
import { GrenacheError, isGrenacheError } from '../errors.js'
import { isLoopback, localAddresses } from '../util/local-address.js'

const debug = debuglog('grenache')

/**
 * Reads the answer of our Grape's `POST /addresses` (`{announce: [ip, …]}`). A Grape without the
 * extension (the reference answers `"ERR_REQ_NOTFOUND"`) gives undefined, unless it is reached at a
 * literal address that is not this host's: the DHT then stores that Grape's host, so that is the
 * answer. Other failures reject: a worker should not guess where it will be announced.
 */
export async function readAnnounceHosts(
  ask: () => Promise<unknown>,
  grape: URL,
): Promise<readonly string[] | undefined> {
  let answer: unknown
  try {
    answer = await ask()
  } catch (err) {
    if (!isGrenacheError(err, 'ERR_GRAPE_REJECTED') || !err.message.includes('ERR_REQ_NOTFOUND')) throw err
    debug('the Grape at %s does not tell its announce addresses', grape.origin)
    return remoteGrape(grape)
  }
  const hosts = (answer as { announce?: unknown } | null)?.announce
  if (!Array.isArray(hosts) || !hosts.every((host) => typeof host === 'string' && isIP(host) !== 0)) {
    throw new GrenacheError('ERR_GRAPE_BAD_ANSWER', 'Grape addresses: expected {announce: [ip, …]}')
  }
  return hosts as string[]
}

function remoteGrape(grape: URL): readonly string[] | undefined {
  const host = grape.hostname.replace(/^\[|\]$/g, '')
  if (isIP(host) === 0 || isLoopback(host) || localAddresses().has(host)) return undefined
  return [host]
}
