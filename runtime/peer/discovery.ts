import type { TransportKind } from '../transport/types.js'
import type { CallOptions } from '../util/deadline.js'

/**
 * What peers need from service discovery. A `Link` is one; anything that can announce and look
 * up names (a static list in a test, another registry) can stand in for it.
 */
export interface Discovery {
  /** Addresses (`"ip:port"`) announced under `name`; rejects with `ERR_LOOKUP_EMPTY` when none. */
  lookup(name: string, options?: CallOptions): Promise<readonly string[]>
  /**
   * The cached addresses of `name` right now, without waiting (refreshing them in the background
   * if they are getting old), or undefined when there is no cached answer: the fast path of a call.
   */
  peek?(name: string): readonly string[] | undefined
  /** Forgets a cached answer for `name`, so the next lookup asks again. */
  invalidate?(name: string): void
  /**
   * The addresses announces are stored at (what other Grapes see this one's Grape as), or undefined
   * when that cannot be told. Servers bind it by default and check an explicit bind against it.
   */
  announceHosts?(options?: CallOptions): Promise<readonly string[] | undefined>
  startAnnouncing(name: string, port: number, options?: CallOptions): Promise<void>
  stopAnnouncing(name: string, port: number): boolean
}

/**
 * How a service key becomes a name on the DHT. `tagged` (the default) appends the transport, so a
 * client only ever finds workers that speak its protocol; `plain` uses the key as it is, as the
 * reference peers do (for interop with them).
 */
export type DiscoveryMode = 'tagged' | 'plain'

/** The name a key is announced and looked up under: `fibonacci@1/ws`, or the key itself when plain. */
export function discoveryName(key: string, transport: TransportKind, mode: DiscoveryMode): string {
  return mode === 'plain' ? key : `${key}/${transport}`
}
