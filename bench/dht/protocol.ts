import type { Impl } from '../grape/protocol.js'
import type { OursFrom } from './ours-from.js'

export type { Impl }

/** Argument of `node-child.ts`: the Grapes one process hosts. */
export interface NodeChildConfig {
  impl: Impl
  /** Where our Grape is loaded from (ignored for the reference). */
  from: OursFrom
  /** Index of the process, for labels. */
  process: number
  /** One entry per Grape: its API and DHT ports (0 = any free port), its bootstrap list (127.0.0.1 only). */
  grapes: { apiPort: number; dhtPort: number; bootstrap: string[] }[]
}

/** What a node child reports once all its Grapes started. */
export interface NodeChildReady {
  pid: number
  /** Per Grape, in config order. */
  grapes: { url: string; dhtPort: number }[]
  /** Per Grape, `start()` called → resolved, ms. */
  startMs: number[]
  /** Process start (`performance.timeOrigin`) → every Grape started, ms. */
  readyMs: number
  /** RSS before the Grape module was imported, MB (node, tsx when it runs under it, the bench's own code). */
  baseRssMb: number
}

/** A name to announce: on `announceOn` (a Grape index), polled on `visibleOn` until found. */
export interface Announcement {
  name: string
  port: number
  announceOn: number
  visibleOn: number
}

export interface AnnounceParams {
  urls: string[]
  announcements: Announcement[]
  /** Give up polling a name after this long. */
  capMs: number
}

export interface AnnounceResult {
  /** Per name: POST /announce → ack, ms. */
  announceMs: number[]
  /** Per name: ack → first lookup on `visibleOn` that returns it, ms (NaN = not within the cap). */
  visibleMs: number[]
  /** Lookups sent while watching for the names to become visible. */
  polls: number
  /** Announces answered with an error. */
  errors: number
  firstError: string | undefined
}

/** One lookup of `name` on Grape `grape`, expecting `127.0.0.1:<port>`. */
export interface LookupTask {
  grape: number
  name: string
  port: number
}

export interface LookupParams {
  urls: string[]
  tasks: LookupTask[]
  /** Lookups in flight. */
  concurrency: number
  /** Ask each task this many times in a row on the same Grape (1 = cold only, 2 = cold then warm). */
  repeat: number
}

export interface LookupResult {
  /** Per repetition: the latency of each lookup, ms. */
  ms: number[][]
  /** Per repetition: lookups whose answer had the expected peer. */
  found: number[]
  errors: number
  firstError: string | undefined
  elapsedMs: number
}
