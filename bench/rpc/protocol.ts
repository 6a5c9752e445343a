import type { OursFrom } from '../lib/ours-from.js'

/** The stacks the RPC suite compares, and the messages between its orchestrator and children. */

/** `ours`: runtime/peer; `ref`: grenache-nodejs-http/-ws; `raw`: the bare libraries (the floor). */
export type Stack = 'ours' | 'ref' | 'raw'
export type Proto = 'http' | 'ws' | 'zmq'

/** One stack over one protocol, e.g. ours-http. */
export interface Target {
  stack: Stack
  proto: Proto
}

export type TargetId = `${Stack}-${Proto}`

export const targetId = (target: Target): TargetId => `${target.stack}-${target.proto}`

/** The single-request targets, in table order. There is no reference ZeroMQ RPC (wire §7). */
export const REQUEST_TARGETS: readonly Target[] = [
  { stack: 'ours', proto: 'http' },
  { stack: 'ours', proto: 'ws' },
  { stack: 'ours', proto: 'zmq' },
  { stack: 'ref', proto: 'http' },
  { stack: 'ref', proto: 'ws' },
  { stack: 'raw', proto: 'http' },
  { stack: 'raw', proto: 'ws' },
  { stack: 'raw', proto: 'zmq' },
]

/** The `map` (fan-out) targets. */
export const MAP_TARGETS: readonly Target[] = [
  { stack: 'ours', proto: 'ws' },
  { stack: 'ours', proto: 'http' },
  { stack: 'ref', proto: 'ws' },
  { stack: 'ref', proto: 'http' },
]

/** Where our runtime is loaded from: `dist/runtime` (tsc build) or `runtime/*.ts` through tsx. */
export type { OursFrom }

/** The service key every echo server handles. */
export const ECHO_KEY = 'bench:echo'

export type PayloadKind = 'small' | '16k'

/** Argument of `server-child.ts`. */
export interface ServerChildConfig {
  target: Target
  port: number
  oursFrom: OursFrom
}

/** What a server child reports once it listens (or why it cannot serve this target). */
export type ServerReady =
  | { available: true; port: number; host: string }
  | { available: false; reason: string }

/** `connect` on the client child. */
export interface ConnectParams {
  target: Target
  /** `ip:port` of every worker. */
  addresses: string[]
  /** Whether `map` is used (ours: nothing changes; ref: the same client). */
  map: boolean
  oursFrom: OursFrom
}

export type ConnectResult = { available: true; firstCallMs: number } | { available: false; reason: string }

/** A time window on the monotonic µs clock (the timeline of V8 CPU profiles). */
export interface Window {
  startUs: number
  endUs: number
}

/** `load` on the client child: one figure. */
export interface LoadParams {
  payload: PayloadKind
  /** `request` (one worker) or `map` (every worker). */
  mode: 'request' | 'map'
  concurrency: number
  warmupCalls: number
  calls: number
  /** The figure stops early after this long (and is marked capped). */
  capMs: number
  /** The warm-up stops early after this long. */
  warmupCapMs: number
  /** Server processes whose CPU is measured over the window (/proc/<pid>/stat). */
  serverPids: number[]
}

export interface LoadResult {
  /** Calls answered correctly. */
  ok: number
  /** Calls that failed (threw / rejected). */
  errors: number
  /** Calls answered with something other than the echo. */
  wrong: number
  firstError: string | undefined
  /** Errors and wrong answers during the warm-up (not counted above). */
  warmupErrors: number
  elapsedMs: number
  /** Stopped on `capMs` before `calls` calls. */
  capped: boolean
  perSecond: number
  p50Ms: number
  p99Ms: number
  clientCpuMs: number
  /** Summed over `serverPids`. */
  serverCpuMs: number
  clientUsPerCall: number
  serverUsPerCall: number
  window: Window
}
