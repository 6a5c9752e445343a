import type { Delta } from '../state/types.js'

/** One applied delta, for `change` listeners. */
export interface ReplicaChange<K, L, P = Partial<L>> {
  seq: number
  op: Delta<K, L>['op']
  /** Undefined for `clear`. */
  key: K | undefined
  /** The leaf after the delta (undefined once deleted or cleared). */
  leaf: L | undefined
  /** The leaf before it. */
  previous: L | undefined
  /** The delta as it came. */
  delta: Delta<K, L, P>
}

export type ResyncReason = 'unrecoverable' | 'nack-attempts' | 'digest' | 'overflow' | 'snapshot' | 'restart'

export interface ReplicaEvents<K, L, P = Partial<L>> {
  change: [change: ReplicaChange<K, L, P>]
  /** A snapshot was installed: the replica is live. */
  synced: [info: { seq: number; leaves: number; session: string; joinMs: number }]
  /** The replica dropped what it had and joins again. */
  resync: [info: { reason: ResyncReason; seq: number }]
  /** No heartbeat for `deadAfterHeartbeats` intervals. */
  stale: [info: { silentMs: number }]
  /** Heard from the publisher again after `stale`. */
  live: []
  close: []
}
