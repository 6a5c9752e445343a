import type { Discovery } from '../peer/discovery.js'
import { checkOption } from '../util/validate.js'
import type { DatagramNetwork } from './endpoint.js'
import type { FeedTransport } from './feed-transport.js'
import { InterfaceFollowingNetwork } from './replica-bind.js'
import { UdpNetwork } from './udp-endpoint.js'

export interface ReplicaOptions {
  /** Finds the publisher by the feed's name (`<name>@<major>/feed`) through this Link. */
  link?: Discovery
  /** Or the publisher's control address, `host:port` (no lookup). */
  publisher?: string
  /**
   * The local side of the transport: `{ kind: 'memory', network }` for the publisher's memory
   * network, or UDP options (`interface`, `recvBufferBytes`); groups and ports come from the publisher.
   */
  transport?: FeedTransport
  /**
   * Address of this replica's own socket (NACKs, retransmits, unicast fan-out). Default: the
   * local address of the route to the publisher (the interface that reaches it), and groups are
   * joined on that interface unless `transport.interface` is given. See docs/many-hosts.md.
   */
  host?: string
  /** A hole is NACKed after a random delay of up to this many ms (a hole that fills meanwhile is not); default 1. */
  nackDelayMs?: number
  /**
   * A NACK not answered is sent again after this many ms (doubling after the third time, up to 16
   * times this); default 2 (1 measured alike at best, with more NACKs asked twice).
   */
  nackRetryMs?: number
  /**
   * NACKs for one hole before giving up and resyncing; default 6 (with `nackRetryMs` 2: 64 ms
   * without an answer, longer than the collector pauses of a busy publisher).
   */
  nackAttempts?: number
  /** Deltas held out of order or while joining; past it, the replica resyncs. Default 65536. */
  maxBufferedDeltas?: number
  /** Heartbeats missed before the publisher is `stale`; default 3. */
  deadAfterHeartbeats?: number
  /**
   * How to get the snapshot when joining: `auto` (the default) fetches it over the publisher's
   * snapshot stream when it serves one, else (or when that fails) collects it from the carousel;
   * `carousel` always uses the carousel.
   */
  join?: 'auto' | 'carousel'
}

export interface ResolvedReplicaOptions {
  link: Discovery | undefined
  publisher: string | undefined
  /** Undefined: the route's source towards the publisher, found at start. */
  host: string | undefined
  nackDelayMs: number
  nackRetryMs: number
  nackAttempts: number
  maxBufferedDeltas: number
  deadAfterHeartbeats: number
  join: 'auto' | 'carousel'
  network: DatagramNetwork
}

/** Checks the options (`ERR_INVALID_OPTION` naming the option) and fills in the defaults. */
export function resolveReplicaOptions(options: ReplicaOptions): ResolvedReplicaOptions {
  if (typeof options !== 'object' || options === null) checkOption.fail('', 'must be an object', options)
  if (options.link === undefined && options.publisher === undefined) {
    checkOption.fail(
      'link',
      'or options.publisher must be given (how else to find the publisher?)',
      undefined,
    )
  }
  const t = options.transport
  let network: DatagramNetwork
  if (t?.kind === 'memory') {
    if (typeof t.network?.bind !== 'function') {
      checkOption.fail('transport.network', 'must be a MemoryNetwork (or a network wrapping one)', t.network)
    }
    network = t.network
  } else if (t?.network) {
    network = t.network
  } else if (t?.kind === 'multicast' && t.interface !== undefined) {
    network = new UdpNetwork({
      interface: t.interface,
      ...(t.recvBufferBytes !== undefined ? { recvBufferBytes: t.recvBufferBytes } : {}),
    })
  } else {
    network = new InterfaceFollowingNetwork(
      t && t.recvBufferBytes !== undefined ? { recvBufferBytes: t.recvBufferBytes } : {},
    )
  }
  return {
    link: options.link,
    publisher:
      options.publisher === undefined ? undefined : checkOption.hostPort('publisher', options.publisher),
    host: options.host === undefined ? undefined : checkOption.string('host', options.host),
    nackDelayMs: checkOption.integer('nackDelayMs', options.nackDelayMs ?? 1, 0, 10_000),
    nackRetryMs: checkOption.integer('nackRetryMs', options.nackRetryMs ?? 2, 1, 60_000),
    nackAttempts: checkOption.integer('nackAttempts', options.nackAttempts ?? 6, 1, 1000),
    maxBufferedDeltas: checkOption.integer('maxBufferedDeltas', options.maxBufferedDeltas ?? 65_536, 1),
    deadAfterHeartbeats: checkOption.integer(
      'deadAfterHeartbeats',
      options.deadAfterHeartbeats ?? 3,
      1,
      1000,
    ),
    join: options.join === undefined ? 'auto' : checkJoin(options.join),
    network,
  }
}

function checkJoin(join: unknown): 'auto' | 'carousel' {
  if (join !== 'auto' && join !== 'carousel') checkOption.fail('join', 'must be "auto" or "carousel"', join)
  return join
}
