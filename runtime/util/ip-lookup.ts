import { type LookupOneOptions, lookup } from 'node:dns'
import { isIP } from 'node:net'

type LookupCallback = (err: NodeJS.ErrnoException | null, address: string, family: number) => void

/**
 * A `lookup` for `dgram.createSocket`: an IP address is its own answer, at once. An unconnected
 * UDP socket looks up every destination before each send, and `dns.lookup` answers even an IP
 * address on the next tick, through objects that make about a kilobyte of garbage per datagram.
 * A host name still goes to `dns.lookup`.
 */
export function ipLookup(host: string, options: number | LookupOneOptions, callback: LookupCallback): void {
  const family = isIP(host)
  if (family !== 0) callback(null, host, family)
  else lookup(host, options as LookupOneOptions, callback)
}
