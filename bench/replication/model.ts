/** The replication suite's results (shared by session.ts, suite.ts and report.ts). */
import type { ProfileWindow } from '../lib/cpu-profile.js'
import type { DriveParams, JoinResult, ReceiverCounters, SenderCounters, Stack } from './protocol.js'

/** A row of the tables: ours with and without zod validation, and the two baselines. */
export type RowId = 'ours' | 'ours-novalidate' | 'json-udp' | 'json-ws'
export const ROWS: readonly RowId[] = ['ours', 'ours-novalidate', 'json-udp', 'json-ws']
export const ROW_LABELS: Record<RowId, string> = {
  ours: 'ours (validate: true)',
  'ours-novalidate': 'ours (validate: false)',
  'json-udp': 'JSON over UDP multicast',
  'json-ws': 'JSON over WebSocket pub/sub',
}

/** One timed load: the sender driven for a window, the receiver waited for. */
export interface Attempt {
  params: DriveParams
  sent: number
  firstSeq: number
  lastSeq: number
  sender: SenderCounters
  receiver: ReceiverCounters
  /** What the sender managed, deltas/s (first send to the end of the last turn). */
  offeredDps: number
  /** What the receiver applied, deltas/s (first send to caught up, or to its last progress). */
  appliedDps: number
  reached: boolean
  /** Last send to caught up, ms (NaN if it never caught up). */
  drainMs: number
  /** Everything applied, nothing lost, no resync, caught up within the drain limit. */
  keptUp: boolean
  /** CPU over the window (first send to caught up), ms: sender and receiver process. */
  senderCpuMs: number
  receiverCpuMs: number
  window: ProfileWindow
}

export interface ThroughputFigure {
  flat: Attempt
  /** The highest attempt that kept up (flat out, or the first paced one that did). */
  best: Attempt | undefined
  attempts: Attempt[]
}

export interface LatencyFigure {
  attempt: Attempt
  samples: number
  /** Sent but never seen applied. */
  missing: number
  p50Us: number
  p99Us: number
  maxUs: number
}

export interface RepairFigure {
  attempt: Attempt
  /** Holes closed (`grenache:replica:repair` events). */
  holes: number
  p50Ms: number
  p99Ms: number
  maxMs: number
  /** NACKs per hole, mean. */
  nacksPerHole: number
  /** Holes that took more than one NACK. */
  multiNack: number
  /** Every hole's repair time, ms, in the order they closed. */
  ms: number[]
}

export interface JoinFigure {
  leaves: number
  stateBytes: number
  /** stateBytes / snapshotBytesPerSecond, ms. */
  cycleMs: number
  carousel: JoinResult[]
  http: JoinResult[]
  /** The publisher's carousel counters after the joins. */
  carouselCycles: number
  carouselBytes: number
  load: { offeredDps: number; sent: number }
}

export interface RowResult {
  throughput?: ThroughputFigure
  latency?: LatencyFigure
  repair?: RepairFigure
  /** ours: the same with the replica's `nackRetryMs` set to `Settings.lossTunedNackRetryMs`. */
  repairTuned?: RepairFigure
}

/** One stack in one round: a fresh sender and receiver process. */
export interface StackSession {
  stack: Stack
  round: number
  rows: Partial<Record<RowId, RowResult>>
  join?: JoinFigure
  failed?: string
  /** `performance.timeOrigin + performance.now()` minus the monotonic clock in each process, µs. */
  wallOffsetUs: { sender: number; receiver: number }
  profiles?: { sender: string | undefined; receiver: string | undefined }
}

export interface ReplicationRound {
  round: number
  group: string
  order: Stack[]
  loadBefore: string
  sessions: Partial<Record<Stack, StackSession>>
}
