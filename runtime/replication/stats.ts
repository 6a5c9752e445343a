import { channel } from 'node:diagnostics_channel'

/** What a publisher counts. */
export interface PublisherStats {
  /** The last seq assigned. */
  seq: number
  leaves: number
  digest: number
  deltas: number
  datagrams: number
  bytes: number
  heartbeats: number
  nacks: number
  retransmits: number
  /** NACKed datagrams not sent again because they just were (`repairHoldMs`). */
  retransmitsHeld: number
  /** NACKs answered with only their first `MAX_DATAGRAMS_PER_NACK` (256) datagrams; the replica asks again. */
  nacksCapped: number
  unrecoverable: number
  snapshotCycles: number
  snapshotBytes: number
  /** How long the last complete carousel cycle took, from its first part sent to its last, ms (0: none yet). */
  snapshotCycleMs: number
  /** Datagrams on the control port that were not ours or were broken. */
  dropped: number
  sendErrors: number
  subscribers: number
  /** HELLOs of a unicast feed not taken: `maxSubscribers` were subscribed. */
  subscribersRefused: number
}

/** What a replica counts. */
export interface ReplicaStats {
  /** The last seq applied. */
  seq: number
  leaves: number
  digest: number
  /** `joining` until a snapshot is installed, `live` after, `stale` when the publisher went silent. */
  status: 'idle' | 'joining' | 'live' | 'stale' | 'closed'
  packets: number
  deltas: number
  duplicates: number
  outOfOrder: number
  gaps: number
  nacks: number
  retransmits: number
  resyncs: number
  /** Join buffers dropped because they filled before the snapshot came (what they held is asked for after). */
  joinBufferDrops: number
  snapshotBytes: number
  /** Malformed datagrams (bad magic, version, CRC, body). */
  malformed: number
  /** Datagrams of another state (another fingerprint). */
  foreign: number
  /** Datagrams of another publisher session than ours while ours is alive. */
  stray: number
  /** Deltas the publisher has sent that are not applied yet (as far as the replica knows). */
  lagSeqs: number
  /** How long the oldest of those has been missing (ms); 0 when caught up. */
  lagMs: number
}

export const publisherStatsChannel = channel('grenache:publisher:stats')
export const replicaStatsChannel = channel('grenache:replica:stats')

export function publisherStats(): PublisherStats {
  return {
    seq: 0,
    leaves: 0,
    digest: 0,
    deltas: 0,
    datagrams: 0,
    bytes: 0,
    heartbeats: 0,
    nacks: 0,
    retransmits: 0,
    retransmitsHeld: 0,
    nacksCapped: 0,
    unrecoverable: 0,
    snapshotCycles: 0,
    snapshotBytes: 0,
    snapshotCycleMs: 0,
    dropped: 0,
    sendErrors: 0,
    subscribers: 0,
    subscribersRefused: 0,
  }
}

export function replicaStats(): ReplicaStats {
  return {
    seq: 0,
    leaves: 0,
    digest: 0,
    status: 'idle',
    packets: 0,
    deltas: 0,
    duplicates: 0,
    outOfOrder: 0,
    gaps: 0,
    nacks: 0,
    retransmits: 0,
    resyncs: 0,
    joinBufferDrops: 0,
    snapshotBytes: 0,
    malformed: 0,
    foreign: 0,
    stray: 0,
    lagSeqs: 0,
    lagMs: 0,
  }
}
