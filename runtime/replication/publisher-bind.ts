import { GrenacheError } from '../errors.js'
import { announcedHosts, bindHost } from '../peer/bind-address.js'
import type { Discovery } from '../peer/discovery.js'
import { isLoopback, isWildcard } from '../util/local-address.js'
import { type FeedTransport, type ResolvedTransport, resolveTransport } from './feed-transport.js'

export interface PublisherPlacement {
  /** The control endpoint's address (HELLO, NACK, unicast fan-out). */
  host: string
  /** The transport, rebuilt to multicast on `host`'s interface when none was given. */
  transport: ResolvedTransport
}

/**
 * Where a publisher binds: its control endpoint where the feed is announced (as a worker, see
 * `bindHost`), and its multicast on that interface unless one was given. A loopback interface for a
 * feed announced at another address is refused (`ERR_ANNOUNCE_MISMATCH`): replicas elsewhere would
 * find the feed and never hear a datagram of it.
 */
export async function placePublisher(input: {
  /** The codec's feed (`<name>@<major>`): the default group is derived from it. */
  feed: string
  link: Discovery | undefined
  host: string | undefined
  checkAnnounce: boolean
  option: FeedTransport | undefined
  transport: ResolvedTransport
}): Promise<PublisherPlacement> {
  const what = `Publisher ${input.feed}/feed`
  const announced = await announcedHosts(input.link, what)
  const host = bindHost({ what, option: 'host', host: input.host, check: input.checkAnnounce }, announced)
  const option = input.option
  if (option?.kind !== undefined && option.kind !== 'multicast') return { host, transport: input.transport }
  const given = option?.interface
  const remote = (announced ?? []).filter((address) => !isLoopback(address))
  // A wildcard control bind says nothing about the interface: take the one the feed is announced at.
  const follow = isWildcard(host) ? (remote.length === 1 ? remote[0] : undefined) : host
  if (given === undefined && option?.network === undefined && follow !== undefined && !isLoopback(follow)) {
    const rebuilt = resolveTransport({ ...option, kind: 'multicast', interface: follow }, input.feed)
    return { host, transport: rebuilt }
  }
  if (input.checkAnnounce && given !== undefined && isLoopback(given) && remote.length > 0) {
    throw new GrenacheError(
      'ERR_ANNOUNCE_MISMATCH',
      `${what}: multicasts on ${given} (transport.interface), which never leaves this host, while the feed is announced at ${remote.join(', ')}: replicas there would never hear it; give the interface of that address, or leave transport.interface unset`,
    )
  }
  return { host, transport: input.transport }
}
