import { GrenacheError } from '../../errors.js'

/** A ZeroMQ TCP endpoint and whether the socket needs IPv6 turned on for it. */
export interface Endpoint {
  /** `tcp://host:port`, IPv6 hosts in brackets. */
  url: string
  ipv6: boolean
}

function tcp(host: string, port: string): Endpoint {
  const bare = host.startsWith('[') && host.endsWith(']') ? host.slice(1, -1) : host
  const ipv6 = bare.includes(':')
  return { url: `tcp://${ipv6 ? `[${bare}]` : bare}:${port}`, ipv6 }
}

/** The endpoint a client dials for a worker address `"ip:port"` (`"[::1]:port"` for IPv6). */
export function dialEndpoint(address: string): Endpoint {
  const match = typeof address === 'string' ? /^(.+):(\d{1,5})$/.exec(address) : null
  const port = match ? Number(match[2]) : 0
  if (!match || port < 1 || port > 65535) {
    throw new GrenacheError(
      'ERR_INVALID_ARGUMENT',
      `address must be "host:port" with a port from 1 to 65535, got ${JSON.stringify(address)}`,
    )
  }
  return tcp(match[1] as string, String(port))
}

/** The endpoint a server binds: port 0 asks libzmq for a free one (`*`). */
export function bindEndpoint(host: string, port: number): Endpoint {
  return tcp(host, port === 0 ? '*' : String(port))
}

/** The port of a bound endpoint, read from the socket's `lastEndpoint`. */
export function endpointPort(lastEndpoint: string | null): number {
  const port = Number(/:(\d+)$/.exec(lastEndpoint ?? '')?.[1])
  if (!Number.isInteger(port) || port < 1) {
    throw new GrenacheError('ERR_INTERNAL', `zmq: cannot read the bound port from ${String(lastEndpoint)}`)
  }
  return port
}
