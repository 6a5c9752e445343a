import { GrenacheError } from '../errors.js'
import { checkOption } from '../util/validate.js'
import type { DatagramAddress, DatagramNetwork } from './endpoint.js'
import { fnv1a } from './leaf-store.js'
import { UdpNetwork } from './udp-endpoint.js'

/** How a feed's packets travel. */
export type FeedTransport =
  | {
      kind: 'multicast'
      /** IPv4 multicast group; default one in 239.255.0.0/16 derived from the feed name. */
      group?: string
      /** Port of the deltas and heartbeats; 0 (the default) picks a free one. */
      dataPort?: number
      /** Port of the snapshot carousel; 0 (the default) picks a free one. */
      snapshotPort?: number
      /** The IPv4 address of the interface to multicast on; default 127.0.0.1. */
      interface?: string
      /** Multicast TTL (hops); default 1, the local network. */
      ttl?: number
      /** Whether this host's own sockets hear what it multicasts; default true. */
      loopback?: boolean
      /** Receive buffer of each socket (bytes); default 4 MiB (the kernel may cap it). */
      recvBufferBytes?: number
      sendBufferBytes?: number
      /** The network to bind with; default a `UdpNetwork` of these options (wrap one in `lossyNetwork` to inject loss). */
      network?: DatagramNetwork
    }
  | {
      /** Unicast fan-out: every packet to every replica that subscribed, for networks without multicast. */
      kind: 'unicast'
      recvBufferBytes?: number
      sendBufferBytes?: number
      network?: DatagramNetwork
    }
  | {
      /** An in-process network for tests. */
      kind: 'memory'
      /** A `MemoryNetwork`, or one wrapping it (`lossyNetwork`). */
      network: DatagramNetwork
      group?: string
      dataPort?: number
      snapshotPort?: number
    }

/** A transport with everything decided. */
export interface ResolvedTransport {
  kind: FeedTransport['kind']
  network: DatagramNetwork
  /** Where deltas go (multicast and memory). */
  data: DatagramAddress
  /** Where snapshot parts go (multicast and memory). */
  snapshot: DatagramAddress
}

/** Checks a transport option and builds its network; ports are picked later, by `pickPorts`. */
export function resolveTransport(transport: FeedTransport | undefined, feed: string): ResolvedTransport {
  const t = transport ?? { kind: 'multicast' }
  if (typeof t !== 'object' || t === null) checkOption.fail('transport', 'must be an object', t)
  switch (t.kind) {
    case 'multicast': {
      const group = t.group ?? defaultGroup(feed)
      if (!isMulticast(group))
        checkOption.fail('transport.group', 'must be an IPv4 multicast address (224.0.0.0/4)', group)
      const network =
        t.network ??
        new UdpNetwork({
          interface: t.interface ?? '127.0.0.1',
          ...(t.ttl === undefined ? {} : { ttl: t.ttl }),
          ...(t.loopback === undefined ? {} : { loopback: t.loopback }),
          ...(t.recvBufferBytes === undefined ? {} : { recvBufferBytes: t.recvBufferBytes }),
          ...(t.sendBufferBytes === undefined ? {} : { sendBufferBytes: t.sendBufferBytes }),
        })
      return {
        kind: 'multicast',
        network,
        data: { host: group, port: checkOption.port('transport.dataPort', t.dataPort ?? 0) },
        snapshot: { host: group, port: checkOption.port('transport.snapshotPort', t.snapshotPort ?? 0) },
      }
    }
    case 'unicast': {
      const network =
        t.network ??
        new UdpNetwork({
          ...(t.recvBufferBytes === undefined ? {} : { recvBufferBytes: t.recvBufferBytes }),
          ...(t.sendBufferBytes === undefined ? {} : { sendBufferBytes: t.sendBufferBytes }),
        })
      return { kind: 'unicast', network, data: { host: '', port: 0 }, snapshot: { host: '', port: 0 } }
    }
    case 'memory': {
      if (typeof t.network?.bind !== 'function') {
        checkOption.fail(
          'transport.network',
          'must be a MemoryNetwork (or a network wrapping one)',
          t.network,
        )
      }
      const group = t.group ?? `memory:${feed}`
      return {
        kind: 'memory',
        network: t.network,
        data: { host: group, port: checkOption.port('transport.dataPort', t.dataPort ?? 0) },
        snapshot: { host: group, port: checkOption.port('transport.snapshotPort', t.snapshotPort ?? 0) },
      }
    }
    default:
      return checkOption.fail(
        'transport.kind',
        'must be "multicast", "unicast" or "memory"',
        (t as { kind: unknown }).kind,
      )
  }
}

/** Replaces port 0 with free ports of the network (a socket bound to 0 and closed). */
export async function pickPorts(t: ResolvedTransport): Promise<void> {
  if (t.kind === 'unicast') return
  for (const target of [t.data, t.snapshot]) {
    if (target.port !== 0) continue
    const probe = await t.network.bind({ port: 0 })
    target.port = probe.address.port
    await probe.close()
  }
  if (t.data.port === t.snapshot.port) {
    throw new GrenacheError('ERR_INVALID_OPTION', 'options.transport: dataPort and snapshotPort must differ')
  }
}

/** 239.255.x.y from the feed name: the same feed gets the same group on every host. */
export function defaultGroup(feed: string): string {
  const hash = fnv1a(Buffer.from(feed), Buffer.byteLength(feed))
  return `239.255.${(hash >>> 8) & 0xff}.${1 + ((hash & 0xff) % 254)}`
}

function isMulticast(address: string): boolean {
  const match = /^(\d{1,3})\.(\d{1,3})\.(\d{1,3})\.(\d{1,3})$/.exec(address)
  if (!match) return false
  const parts = match.slice(1).map(Number)
  return parts.every((n) => n <= 255) && (parts[0] as number) >= 224 && (parts[0] as number) <= 239
}

/** `host:port` of an address. */
export function addressKey(address: DatagramAddress): string {
  return `${address.host}:${address.port}`
}
