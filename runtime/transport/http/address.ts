import { GrenacheError } from '../../errors.js'
import { show } from '../../util/validate.js'

/**
 * The origin to dial for a worker address (`"ip:port"`, `"[v6]:port"` or a bare `"v6:port"`).
 * Throws `ERR_INVALID_ARGUMENT` for anything else.
 */
export function workerOrigin(protocol: 'http' | 'https', address: string): string {
  const match = typeof address === 'string' ? /^(?:\[([^\]]+)\]|([^[\]]+)):(\d{1,5})$/.exec(address) : null
  const host = match?.[1] ?? match?.[2]
  const port = Number(match?.[3])
  if (host === undefined || host === '' || !(port >= 1 && port <= 65535)) {
    throw new GrenacheError(
      'ERR_INVALID_ARGUMENT',
      `address must be "host:port" with a port from 1 to 65535, got ${show(address)}`,
    )
  }
  return `${protocol}://${host.includes(':') ? `[${host}]` : host}:${port}`
}
