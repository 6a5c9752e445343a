import { decideOursFrom } from '../lib/ours-from.js'
import type { LoadResult, OursFrom, PayloadKind, TargetId } from './protocol.js'

/** The RPC suite's settings, results and their keys (shared by suite.ts and report.ts). */

export interface Settings {
  /** Calls per request figure (perf-baseline: 20 000). */
  calls: number
  /** Map calls per map figure (perf-baseline: 5 000). */
  mapCalls: number
  /** Untimed calls before each figure, at the same concurrency (perf-baseline: 1 000). */
  warmupCalls: number
  /** A figure stops early after this long (perf-baseline: 30 s). */
  capMs: number
  warmupCapMs: number
  concurrencies: number[]
  mapConcurrencies: number[]
  payloads: PayloadKind[]
  /** Worker processes behind `map`. */
  workers: number
  /** With --profile: the figure summarised (`small/c128`; `BENCH_RPC_PROFILE_FIGURE` to change it). */
  profileFigure: string
  /** With --profile: calls of the profiled figure, so that its window holds enough samples. */
  profileCalls: number
  /** With --profile: V8's sampling interval, µs (default 1000). */
  profileIntervalUs: number
}

/** The figure --profile summarises by default. */
export const PROFILED_FIGURE = 'small/c128'

export function settingsFor(quick: boolean): Settings {
  return {
    calls: quick ? 2000 : 20_000,
    mapCalls: quick ? 500 : 5000,
    warmupCalls: quick ? 200 : 1000,
    capMs: quick ? 5000 : 30_000,
    warmupCapMs: quick ? 5000 : 15_000,
    concurrencies: [1, 16, 128],
    mapConcurrencies: [1, 16],
    payloads: ['small', '16k'],
    workers: 4,
    profileFigure: process.env.BENCH_RPC_PROFILE_FIGURE ?? PROFILED_FIGURE,
    profileCalls: quick ? 20_000 : 100_000,
    profileIntervalUs: 250,
  }
}

/** `small/c16`, `16k/c128`, `map/c1`. */
export const figureKey = (payload: PayloadKind | 'map', concurrency: number) => `${payload}/c${concurrency}`

/** One stack over one protocol in one round: a fresh client process and fresh server process(es). */
export interface Session {
  target: TargetId
  round: number
  /** Why the target was not measured: the stack lacks the protocol (n/a), or the session failed. */
  unavailable?: string
  failed?: string
  firstCallMs?: number
  figures: Record<string, LoadResult>
  /** `.cpuprofile` paths (with --profile). */
  profiles?: { client: string | undefined; server: string | undefined }
}

export interface RpcRound {
  round: number
  requests: Partial<Record<TargetId, Session>>
  maps: Partial<Record<TargetId, Session>>
  /** The order the targets ran in this round. */
  order: TargetId[]
  mapOrder: TargetId[]
}

/** What the ours stack loads: runtime/peer and everything it imports. */
const OURS_SOURCES = ['runtime/peer', 'runtime/transport', 'runtime/util', 'runtime/errors.ts']

/** Where the ours stack loads our runtime from; `BENCH_RPC_OURS=dist|source` forces it. */
export function decideRpcOursFrom(root: string): { from: OursFrom; why: string } {
  return decideOursFrom(root, OURS_SOURCES, 'BENCH_RPC_OURS')
}
