/** Which Grape implementation a pair runs. */
export type Impl = 'ours' | 'ref'

export const IMPL_LABEL: Record<Impl, string> = { ours: 'ours', ref: 'reference' }

/** Argument of `grape-child.ts`. */
export interface GrapeChildConfig {
  impl: Impl
  apiPort: number
  dhtPort: number
  /** `127.0.0.1:<port>` of the other Grape only. */
  bootstrap: string[]
}

/** What a Grape child reports when its Grape started. */
export interface GrapeReady {
  url: string
  dhtPort: number
}

/** A time window on the monotonic µs clock (same clock as V8 CPU profiles). */
export interface Window {
  startUs: number
  endUs: number
}

export interface PrepareParams {
  announceUrl: string
  lookupUrl: string
  names: string[]
  ports: number[]
  timeoutMs: number
}

export interface LookupLoadParams {
  url: string
  names: string[]
  ports: number[]
  /** Lookups in flight; in-flight slot i always asks for name i % names.length. */
  concurrency: number
  warmupMs: number
  durationMs: number
  /** Grape PIDs whose CPU is measured over the window. */
  grapePids: number[]
}

export interface LookupLoadResult {
  /** Lookups answered with the expected worker. */
  ok: number
  errors: number
  firstError: string | undefined
  elapsedMs: number
  perSecond: number
  p50Ms: number
  p99Ms: number
  /** CPU ms used by each Grape over the window (same order as `grapePids`). */
  grapeCpuMs: number[]
  /** CPU ms used by the load generator over the window. */
  clientCpuMs: number
  window: Window
}

export interface VisibilityParams {
  announceUrl: string
  lookupUrl: string
  names: string[]
  basePort: number
  /** A name announced long before, looked up before each fresh one as a control. */
  controlName: string
  /** Give up on a name after this long. */
  capMs: number
}

export interface VisibilityResult {
  /** Per name: announce ack → first lookup on the other Grape that returns it, ms (NaN = never). */
  visibleMs: number[]
  /** Per name: POST /announce → ack, ms. */
  announceMs: number[]
  /** Per name: latency of the lookup right after the one that found it, ms. */
  repeatMs: number[]
  /** Per name: latency of a lookup of the control name after an idle gap, ms. */
  controlMs: number[]
  /** Names found by the very first lookup after the ack. */
  firstTryHits: number
  /** Names never found within `capMs`. */
  misses: number
}

export interface LongLivedParams {
  impl: Impl
  announceUrl: string
  lookupUrl: string
  name: string
  port: number
  pollMs: number
  /** How long the client polls (and fails) before the worker announces. */
  preAnnounceMs: number
  /** Give up this long after the announce ack. */
  capMs: number
}

export interface LongLivedResult {
  /** Announce ack → first successful lookup of the long-lived Link, ms; null when capped. */
  visibleMs: number | null
  polls: number
  pollsBeforeAnnounce: number
  lastError: string | undefined
}
