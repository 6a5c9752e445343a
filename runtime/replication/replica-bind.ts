import { isWildcard, routeSource } from '../util/local-address.js'
import type { DatagramEndpoint, DatagramNetwork } from './endpoint.js'
import { isMulticastAddress, UdpNetwork, type UdpNetworkOptions } from './udp-endpoint.js'

/**
 * The address a replica's control socket binds by default: the source of the route to the
 * publisher (`"ip:port"`, the first candidate), so its HELLOs and NACKs leave by the interface that
 * reaches it; a socket on `127.0.0.1` cannot send to another host at all. `127.0.0.1` when the
 * publisher is not an IP address (a memory network) or has no route.
 */
export async function replicaHost(candidates: readonly string[]): Promise<string> {
  const first = candidates[0]
  const host = first?.slice(0, first.lastIndexOf(':')).replace(/^\[|\]$/g, '')
  return (host === undefined ? undefined : await routeSource(host)) ?? '127.0.0.1'
}

/**
 * A UDP network whose multicast interface is the address of the first specific socket bound on it
 * (the replica's control socket, bound first): groups are then joined on the interface that reaches
 * the publisher. `127.0.0.1` when that bind is a wildcard.
 */
export class InterfaceFollowingNetwork implements DatagramNetwork {
  readonly #options: Omit<UdpNetworkOptions, 'interface'>
  #network: UdpNetwork | undefined

  constructor(options: Omit<UdpNetworkOptions, 'interface'>) {
    this.#options = options
    // Checks the other options now, as a UdpNetwork would.
    new UdpNetwork({ ...options, interface: '127.0.0.1' })
  }

  bind(options: { host?: string; port?: number; reuseAddr?: boolean }): Promise<DatagramEndpoint> {
    if (!this.#network) {
      const host = options.host
      const iface = host && !isWildcard(host) && !isMulticastAddress(host) ? host : '127.0.0.1'
      this.#network = new UdpNetwork({ ...this.#options, interface: iface })
    }
    return this.#network.bind(options)
  }
}
