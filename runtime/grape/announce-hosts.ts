import { isIP } from 'node:net'
import { GrenacheError } from '../errors.js'
import { isLoopback, isWildcard, routeSource } from '../util/local-address.js'

/** Route lookups made for one answer at most: distinct hosts beyond it add nothing in practice. */
const MAX_HOSTS = 32

export interface AnnounceHostsInput {
  /** The address the DHT socket is bound to. */
  dhtHost: string
  /** The Grape's `host`, when it self-announces (its own store records `host:port`). */
  selfAnnounceHost: string | undefined
  /** The DHT nodes this Grape knows: its routing table, then its bootstrap list. */
  nodes: ReadonlyArray<{ host: string }>
}

/**
 * Where an announce made through this Grape is stored: the source address other DHT nodes see its
 * packets come from (the bound `dhtHost`, or with a wildcard bind the route's source towards each
 * known node), plus the self-announce `host`. Sorted, without duplicates; empty when the DHT binds
 * a wildcard, knows no node yet and does not self-announce: then nobody can tell.
 */
export async function announceHosts(input: AnnounceHostsInput): Promise<string[]> {
  const out = new Set<string>()
  if (input.selfAnnounceHost !== undefined && !isWildcard(input.selfAnnounceHost)) {
    out.add(input.selfAnnounceHost)
  }
  if (!isWildcard(input.dhtHost)) {
    out.add(input.dhtHost)
    return [...out].sort()
  }
  const hosts = [...new Set(input.nodes.map((node) => node.host).filter((host) => isIP(host) !== 0))]
  const sources = await Promise.all(hosts.slice(0, MAX_HOSTS).map((host) => routeSource(host)))
  for (const source of sources) if (source !== undefined && !isWildcard(source)) out.add(source)
  return [...out].sort()
}

/**
 * A DHT socket bound to loopback cannot send to another host: refuse the start rather than leave a
 * Grape that never joins. Host names in the bootstrap list are not resolved here.
 */
export function checkDhtBind(dhtHost: string, bootstrap: readonly string[]): void {
  if (!isLoopback(dhtHost)) return
  const remote = bootstrap.filter((node) => {
    const host = node.slice(0, node.lastIndexOf(':')).replace(/^\[|\]$/g, '')
    return isIP(host) !== 0 && !isLoopback(host) && !isWildcard(host)
  })
  if (remote.length === 0) return
  throw new GrenacheError(
    'ERR_UNREACHABLE_BIND',
    `the DHT binds ${dhtHost} (options.dhtHost, --dht_host) but bootstraps from ${remote.join(', ')} on another host, which a loopback socket cannot reach: bind the address of the interface that reaches them, or "0.0.0.0"`,
  )
}
