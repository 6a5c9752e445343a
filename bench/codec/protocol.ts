/**
 * The codec suite's settings and the IPC types between bench/codec/suite.ts and its children
 * (bench/codec/child.ts): one job per child process, one child per approach per round.
 */
import type { ProfileWindow } from '../lib/cpu-profile.js'

/** What one child measures. */
export type Job =
  | { kind: 'deltas'; approach: Approach }
  | { kind: 'alloc'; loop: 'encode' | 'decode' }
  | { kind: 'snapshot'; approach: Approach }

export type Approach = 'ours' | 'json'

/** The four delta figures of each approach, in the order a round 1 child runs them. */
/** `validateEncode`: the codec's `parseDelta` then encode; `zodValidateEncode`: zod's `stateParsers` instead. */
export const DELTA_PHASES = [
  'roundTrip',
  'encode',
  'decode',
  'roundTripVariant',
  'validateEncode',
  'zodValidateEncode',
] as const
export type DeltaPhase = (typeof DELTA_PHASES)[number]

export interface Settings {
  /** Pre-generated deltas, cycled. */
  deltas: number
  /** Distinct order ids the deltas touch. */
  liveIds: number
  seed: number
  /** Per delta figure: untimed passes for at least this long, then timed passes for at least `windowMs`. */
  warmupMs: number
  windowMs: number
  /** Allocation check: untimed warm-up ops, then the counted ops. */
  allocWarmupOps: number
  allocOps: number
  /** Allocation check: ops of the short window that must see no GC (halved until it sees none). */
  allocShortOps: number
  /** Snapshot: leaves, untimed repetitions, timed repetitions (medians). */
  snapshotLeaves: number
  snapshotWarmups: number
  snapshotReps: number
  /** `--cpu-prof-interval` when profiling, µs. */
  profileIntervalUs: number
}

export function settingsFor(quick: boolean): Settings {
  return {
    deltas: 100_000,
    liveIds: 10_000,
    seed: 0x5eed,
    warmupMs: quick ? 150 : 400,
    windowMs: quick ? 300 : 1_000,
    allocWarmupOps: quick ? 500_000 : 1_000_000,
    allocOps: quick ? 2_000_000 : 10_000_000,
    allocShortOps: 20_000,
    snapshotLeaves: 100_000,
    snapshotWarmups: quick ? 2 : 3,
    snapshotReps: quick ? 3 : 9,
    profileIntervalUs: 100,
  }
}

/** The child's one argument (JSON). */
export interface ChildConfig {
  job: Job
  settings: Settings
  /** 1-based; rotates the order of the delta figures inside a child. */
  round: number
}

export interface ChildReady {
  pid: number
  node: string
}

/** One timed delta figure. */
export interface PhaseResult {
  ops: number
  ms: number
  perSecond: number
  nsPerOp: number
  /** `process.cpuUsage()` over the window (every thread of the process), ns per op: robust to a busy machine. */
  cpuNsPerOp: number
  passes: number
  /** The timed window on the monotonic µs clock, for profiles. */
  window: ProfileWindow
}

export interface DeltasResult {
  approach: Approach
  /** The order the figures ran in. */
  order: DeltaPhase[]
  phases: Record<DeltaPhase, PhaseResult>
  /** Mean encoded bytes per delta, overall and by op. */
  bytesPerDelta: number
  bytesByOp: Record<'upsert' | 'patch' | 'delete', number>
  /** Share of each op in the workload. */
  mix: Record<'upsert' | 'patch' | 'delete', number>
  /** Every delta decoded back equal to the original (checked before timing). */
  roundTripChecked: number
}

/** GC events (PerformanceObserver 'gc') and heap use around a loop that ran without yielding. */
export interface AllocWindow {
  ops: number
  ms: number
  /** Scavenges (young generation). */
  minorGcs: number
  /** Mark-compacts, incremental marking, weak callbacks. */
  majorGcs: number
  /** Young generation (new space, new large objects) used bytes, after − before. */
  youngGrowthBytes: number
  /** Every other space (old, code, large objects), after − before: mostly the compiler's work. */
  otherGrowthBytes: number
  /** What the young generation could take when the window started: more allocation means a scavenge. */
  youngFreeBytes: number
  /** (youngGrowthBytes − the 0-op window's) / ops; null when a GC ran in the window (or no ops). */
  bytesPerOp: number | null
}

export interface AllocResult {
  loop: 'encode' | 'decode'
  /** Young growth of a window of 0 ops: what the readings themselves allocate. */
  baselineBytes: number
  /** The long window (`allocOps`). */
  long: AllocWindow
  /** A short window that saw no GC, so that its young growth is what the loop allocated. */
  short: AllocWindow
  /** How many short windows were tried before one saw no GC. */
  shortTries: number
  /** The young generation's size (both semi-spaces), bytes. */
  youngBytes: number
}

/** A snapshot figure: medians over the timed repetitions. */
export interface SnapshotFigure {
  wallMs: number
  /** `process.cpuUsage()` (every thread of the process, GC helpers included), ms. */
  cpuMs: number
  /** Every timed repetition, wall ms. */
  reps: number[]
  /** The timed repetitions on the monotonic µs clock, for profiles. */
  window: ProfileWindow
}

export type SnapshotFigureName = 'encode' | 'encodePresized' | 'decode'

export interface SnapshotResult {
  approach: Approach
  leaves: number
  bytes: number
  /** `encodePresized` is ours only: one reused buffer sized by the codec's limits. */
  figures: Partial<Record<SnapshotFigureName, SnapshotFigure>>
}

export type ChildResult = DeltasResult | AllocResult | SnapshotResult

/** The XOR of every timed loop's checksum: returned so that no loop's work can be dropped. */
export interface Checksummed {
  checksum: number
}

/** One round: every job in its own fresh process, one after the other. */
export interface CodecRound {
  round: number
  /** The jobs in the order they ran. */
  order: string[]
  deltas: Partial<Record<Approach, DeltasResult>>
  alloc: Partial<Record<'encode' | 'decode', AllocResult>>
  snapshot: Partial<Record<Approach, SnapshotResult>>
  /** Job id → why it failed. */
  failed: Record<string, string>
  /** Job id → profile file (with `--profile`). */
  profiles: Record<string, string>
}

/** Targets printed next to the figures (never asserted). */
export const TARGETS = {
  roundTripPerSecond: 5_000_000,
  roundTripOverJson: 8,
  jsonBytesOverOurs: 4,
} as const
