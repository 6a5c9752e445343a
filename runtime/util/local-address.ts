import dgram from 'node:dgram'
import { isIP } from 'node:net'
import { networkInterfaces } from 'node:os'

/** True for the addresses that mean "every interface" to `listen`/`bind`. */
export function isWildcard(host: string): boolean {
  return host === '0.0.0.0' || host === '::' || host === '::0'
}

/** True for 127.0.0.0/8 and `::1` (and `localhost`, which resolves to one of them). */
export function isLoopback(host: string): boolean {
  return host === 'localhost' || host === '::1' || (isIP(host) === 4 && host.startsWith('127.'))
}

/** The addresses of this host's interfaces (this network namespace's), read now. */
export function localAddresses(): Set<string> {
  const out = new Set<string>()
  for (const list of Object.values(networkInterfaces())) {
    for (const entry of list ?? []) out.add(entry.address)
  }
  return out
}

/**
 * Whether a socket bound to `bound` accepts connections addressed to `address`: the same address,
 * or a wildcard of its family (`::` takes IPv4 too, as Node binds it dual-stack). Undefined when
 * either is a host name, which is not resolved here.
 */
export function covers(bound: string, address: string): boolean | undefined {
  const family = isIP(address)
  if (isIP(bound) === 0 || family === 0) return bound === address ? true : undefined
  if (bound === address) return true
  if (bound === '0.0.0.0') return family === 4
  return bound === '::' || bound === '::0'
}

/**
 * The source address the kernel picks for packets to `host`: the address of the interface its route
 * leaves by. A connected UDP socket asks the routing table without sending anything. Undefined
 * when there is no route (or `host` is not an IP address).
 */
export function routeSource(host: string, port = 9): Promise<string | undefined> {
  const family = isIP(host)
  if (family === 0) return Promise.resolve(undefined)
  return new Promise((resolve) => {
    const socket = dgram.createSocket(family === 6 ? 'udp6' : 'udp4')
    const done = (address: string | undefined): void => {
      try {
        socket.close()
      } catch {
        // Closed already by the failed connect.
      }
      resolve(address)
    }
    socket.once('error', () => done(undefined))
    socket.connect(port, host, () => {
      try {
        done(socket.address().address)
      } catch {
        done(undefined)
      }
    })
  })
}
