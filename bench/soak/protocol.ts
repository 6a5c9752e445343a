/** Settings, child configs and IPC types of the soak suite. */

export const TRANSPORTS = ['http', 'ws', 'zmq'] as const
export type SoakTransport = (typeof TRANSPORTS)[number]

/** The key the worker serves on every transport (announced as `soak:echo/<transport>`). */
export const ECHO_KEY = 'soak:echo'

export interface SoakSettings {
  /** How long the load runs, ms (the figures are over all of it). */
  durationMs: number
  /** The first part of the run left out of the slopes: JIT, pools and caches fill up, ms. */
  warmupMs: number
  /** Between two memory samples of every process, ms. */
  sampleMs: number
  /** Calls in flight per transport (closed loop). */
  concurrency: number
  /** Raw `/lookup` calls in flight on the second Grape. */
  lookupConcurrency: number
  /** Between two short-lived clients (a new Link and RpcClient, one call, both closed), ms. */
  churnEveryMs: number
  /** Deltas a second the feed publisher sends for the whole run. */
  feedRate: number
  /** Between two short-lived replicas of the feed, ms. */
  feedChurnEveryMs: number
}

export function soakSettings(quick: boolean): SoakSettings {
  return {
    durationMs: quick ? 40_000 : 180_000,
    warmupMs: quick ? 10_000 : 30_000,
    sampleMs: quick ? 1000 : 2000,
    concurrency: 4,
    lookupConcurrency: 2,
    churnEveryMs: 100,
    feedRate: 20_000,
    feedChurnEveryMs: quick ? 4000 : 10_000,
  }
}

/** Argument of worker-child.ts. */
export interface WorkerConfig {
  grape: string
}

/** What the worker reports once it listens and its keys are announced. */
export interface WorkerReady {
  ports: Record<SoakTransport, number>
}

/** Argument of load-child.ts. */
export interface LoadConfig {
  /** The Grape the clients look workers up through (not the worker's). */
  grape: string
}

export interface LoadParams {
  settings: SoakSettings
  /** The worker's address on each transport: every lookup and call must find it. */
  workers: Record<SoakTransport, string>
}

/** Calls of one kind over the run. */
export interface CallFigures {
  ok: number
  errors: number
  firstError: string | undefined
  p50Ms: number
  p99Ms: number
}

export interface LoadResult {
  elapsedMs: number
  rpc: Record<SoakTransport, CallFigures>
  lookups: CallFigures
  /** Short-lived clients: each a new Link and RpcClient, one call, both closed. */
  churn: CallFigures
}

/** Argument of feed-child.ts. */
export interface FeedConfig {
  role: 'publisher' | 'replica'
  /** The Grape the publisher announces through, or the replicas look it up through. */
  grape: string
  /** Between two short-lived replicas (join from the carousel, sync, close), ms. */
  churnEveryMs: number
}

export interface FeedRunParams {
  /** Deltas a second. */
  rate: number
  durationMs: number
}

/** Where a publisher or a replica stands. */
export interface FeedState {
  seq: number
  digest: number
  leaves: number
  resyncs: number
  /** Short-lived replicas that joined and synced. */
  joins: number
  joinErrors: number
  firstJoinError: string | undefined
}

export interface FeedPublished extends FeedState {
  deltas: number
}
