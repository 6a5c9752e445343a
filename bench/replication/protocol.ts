/**
 * The replication suite's settings and the IPC types between bench/replication/suite.ts and its
 * two children: the sender (pub-child.ts) and the receiver (sub-child.ts) of one stack per round.
 */

/** `ours`: OrderBookPublisher/OrderBookReplica over UDP multicast; the two JSON baselines. */
export type Stack = 'ours' | 'json-udp' | 'json-ws'
export const STACKS: readonly Stack[] = ['ours', 'json-udp', 'json-ws']

export interface Settings {
  /** Pre-generated deltas, cycled by the sender. */
  streamDeltas: number
  /** Distinct order ids the stream touches. */
  ids: number
  seed: number
  /** Untimed paced load before the throughput attempts of a stack, ms, at `warmupDps`. */
  warmupMs: number
  warmupDps: number
  /** One throughput attempt, ms. */
  windowMs: number
  /** Flat out: deltas per event-loop turn (one `setImmediate` each). */
  flatBatch: number
  /**
   * Paced attempts after a flat-out run that did not keep up: the first at 0.85x the lower of what
   * was offered and applied flat out, each next one at 0.7x the last.
   */
  searchSteps: number
  /** Paced load: at most this many deltas in one turn. */
  pacedBatch: number
  /** Latency: deltas per second, one delta per turn (one datagram or message each). */
  latencyDps: number
  latencyMs: number
  /** Repair: the drop probability on the replica's receive side, the load (deltas/s, per turn), ms. */
  lossDrop: number
  lossDps: number
  lossPerTick: number
  lossMs: number
  /** Repair again with the replica's `nackRetryMs` at this (0: not run). */
  lossTunedNackRetryMs: number
  /** Join: leaves the publisher holds, its load meanwhile (deltas/s), joins per mode, pause between. */
  joinLeaves: number
  joinLoadDps: number
  joins: number
  joinGapMs: number
  /** The snapshot carousel's rate (the publisher default, 16 MiB/s). */
  snapshotBytesPerSecond: number
  /** `--cpu-prof-interval` when profiling, µs. */
  profileIntervalUs: number
}

/**
 * The settings of a run: the defaults (shorter windows with `--quick`), then any fields of the JSON
 * object in `BENCH_REPLICATION_SETTINGS` (e.g. `{"lossDps":20000}`), for experiments.
 */
export function settingsFor(quick: boolean): Settings {
  const defaults = defaultSettings(quick)
  const text = process.env.BENCH_REPLICATION_SETTINGS
  if (!text) return defaults
  const overrides = JSON.parse(text) as Partial<Settings>
  for (const key of Object.keys(overrides)) {
    if (!(key in defaults)) throw new Error(`BENCH_REPLICATION_SETTINGS: unknown setting ${key}`)
  }
  return { ...defaults, ...overrides }
}

function defaultSettings(quick: boolean): Settings {
  return {
    streamDeltas: 1 << 18,
    ids: 10_000,
    seed: 0x5eed,
    warmupMs: quick ? 300 : 500,
    warmupDps: 200_000,
    windowMs: quick ? 1000 : 2000,
    flatBatch: 1000,
    searchSteps: quick ? 1 : 2,
    pacedBatch: 4000,
    latencyDps: 2000,
    latencyMs: quick ? 1500 : 3000,
    lossDrop: 0.01,
    lossDps: 100_000,
    lossPerTick: 10,
    lossMs: quick ? 1500 : 3000,
    lossTunedNackRetryMs: 1,
    joinLeaves: 100_000,
    joinLoadDps: 100_000,
    joins: quick ? 1 : 3,
    joinGapMs: 500,
    snapshotBytesPerSecond: 16 * 1024 * 1024,
    profileIntervalUs: 250,
  }
}

/** An attempt kept up when the receiver applied everything, without resync or loss, this soon after the last send. */
export function drainLimitMs(windowMs: number): number {
  return Math.max(100, windowMs * 0.05)
}

/** Argument of both children. */
export interface ChildConfig {
  stack: Stack
  settings: Settings
}

/** Both children answer `ready` with this. */
export interface ChildReady {
  pid: number
  /** `performance.timeOrigin + performance.now()` minus the monotonic clock, µs (workload.ts). */
  wallOffsetUs: number
}

/** `open` on the sender. */
export interface OpenSender {
  /** The multicast group of this round (ours, json-udp). */
  group: string
  /** ours: run zod on each delta. */
  validate: boolean
  /** Leaves to hold before the figure (upserted, untimed). */
  prefill: number
  /** ours: also serve the state over http (`snapshotStream: 'http'`). */
  snapshotStream: boolean
}

export interface SenderOpened {
  /** What the receiver connects to: ours the control endpoint, json-udp `group:port`, json-ws `127.0.0.1:port`. */
  address: string
  /** ours with a prefill: the codec snapshot of the state, bytes, and the leaves. */
  stateBytes?: number
  leaves?: number
}

/** `open` on the receiver. */
export interface OpenReceiver {
  address: string
  /** ours: drop this share of every datagram received (seeded `lossyNetwork`, `on: 'receive'`). */
  lossy?: { drop: number; seed: number }
  /** ours: the replica's `nackRetryMs` (default: the replica's default). */
  nackRetryMs?: number
}

/** `run` (and `loadStart`) on the sender. */
export interface DriveParams {
  /** `flat`: `perTick` deltas per turn, as fast as the loop goes; `paced`: `rateDps`, at most `perTick` per turn. */
  mode: 'flat' | 'paced'
  rateDps: number
  perTick: number
  durationMs: number
  /** Keep the send time of every delta (latency). */
  record: boolean
}

/** Sender counters: deltas, payload bytes on the wire (datagrams or WebSocket frames) and packets. */
export interface SenderCounters {
  deltas: number
  bytes: number
  packets: number
}

export interface DriveResult {
  firstSeq: number
  lastSeq: number
  sent: number
  /** First send and end of the last turn, monotonic µs. */
  startUs: number
  endUs: number
  counters: SenderCounters
  /** With `record`: the send time of seq `firstSeq + i`, µs. */
  sendUs?: number[]
}

/** `mark` on the receiver: the counters of `expect` start here. */
export interface MarkParams {
  record: boolean
  repairs: boolean
}

export interface ReceiverCounters {
  applied: number
  /** Deltas never received (json-udp: a seq jump; there is no repair). */
  lost: number
  resyncs: number
  /** ours: resyncs for a full window (`overflow`) and for NACKs unanswered (`nack-attempts`). */
  resyncsOverflow: number
  resyncsNack: number
  gaps: number
  nacks: number
  retransmits: number
  /** json-ws: connections lost. */
  disconnects: number
  /** ours with `lossy`: datagrams dropped by the injector. */
  injectedDrops: number
}

/** `expect` on the receiver. */
export interface ExpectParams {
  lastSeq: number
  /** Give up after this long without progress. */
  idleMs: number
  /** ... or after this long in all. */
  capMs: number
}

export interface ExpectResult {
  reached: boolean
  /** When the receiver was first seen at `lastSeq` or past it (1 ms polling), µs; NaN if never. */
  reachedUs: number
  /** The last time its seq moved, µs. */
  lastProgressUs: number
  seq: number
  counters: ReceiverCounters
  /** With `record`: the apply time of each seq applied. */
  applied?: { seqs: number[]; us: number[] }
  /** With `repairs`: `grenache:replica:repair` events since `mark`. */
  repairs?: { ms: number[]; nacks: number[] }
}

/** `join` on the receiver (ours). */
export interface JoinParams {
  address: string
  mode: 'carousel' | 'auto'
}

export interface JoinResult {
  /** `start()` to `synced`, ms. */
  ms: number
  /** `start()` resolved (INFO received, sockets bound, join started), ms after `start()`. */
  startedMs: number
  /**
   * When the replica's `snapshotBytes` was first seen above 0 (the first carousel part in) and
   * last seen to grow before `synced`, ms after `start()` (1 ms polling; the last part and the
   * install run in one turn, so the install shows as `ms - lastPartMs`). NaN for a stream join.
   */
  firstPartMs: number
  lastPartMs: number
  /** The window, monotonic µs (for profiles). */
  startUs: number
  endUs: number
  /** The replica's own `joinMs` (from its join start, after INFO). */
  joinMs: number
  leaves: number
  snapshotBytes: number
  resyncs: number
  /** Carousel cycles the publisher started during the join (filled in by the orchestrator). */
  carouselCycles?: number
  /**
   * The publisher's measured duration of the last carousel cycle complete at `synced`, from its
   * first part sent to its last (`stats.snapshotCycleMs`; filled in by the orchestrator). NaN for a
   * stream join.
   */
  cycleMs?: number
  /** CPU (user + system) of the receiver process from `start()` to `synced`, ms. */
  cpuMs: number
  /** CPU of the sender process over the same join (publisher, load and carousel), ms (filled in by the orchestrator). */
  senderCpuMs?: number
}
