import type { Figures, MetricSpec, Target } from '../lib/compare.js'
import { percentile } from '../lib/stats.js'
import type { Plan } from './network.js'
import type { AnnounceResult, Impl, LookupResult } from './protocol.js'

/** Everything one session measured. */
export interface SessionRaw {
  impl: Impl
  plan: Plan
  /** Spawn of the first process → every Grape started, ms. */
  startedMs: number
  /** … → every Grape knows the required number of DHT nodes, ms. */
  joinedMs: number
  /** Each Grape's `start()`, ms. */
  startMs: number[]
  /** RSS of each process after the work, MB. */
  rssMb: number[]
  /** RSS of each process before the Grape module was loaded, MB. */
  baseRssMb: number[]
  announce: AnnounceResult
  coldWarm: LookupResult
  burst: LookupResult
  /** CPU of all Grape processes together from the first announce to the end of the burst, ms. */
  workCpuMs: number
  /** CPU of all Grape processes together over the idle window, ms. */
  idleCpuMs: number
  idleMs: number
}

const atMost = (limit: number): Target => ({
  text: `ours/ref <= ${limit}`,
  met: (_ours, _ref, ratio) => ratio <= limit,
})
const atLeast = (limit: number): Target => ({
  text: `ours/ref >= ${limit}`,
  met: (_ours, _ref, ratio) => ratio >= limit,
})

export const METRICS: MetricSpec[] = [
  { key: 'start.all', label: 'start-up: spawn -> every Grape started', unit: 'ms', target: atMost(1) },
  { key: 'start.joined', label: '   -> every Grape knows 3 DHT nodes', unit: 'ms', target: atMost(1) },
  { key: 'start.p50', label: '   one start(), p50', unit: 'ms' },
  { key: 'announce.p50', label: 'announce (POST -> ack), p50', unit: 'ms', target: atMost(1) },
  { key: 'announce.p99', label: '   p99', unit: 'ms', target: atMost(1) },
  { key: 'visible.p50', label: 'ack -> visible on another Grape, p50', unit: 'ms', target: atMost(1) },
  { key: 'visible.max', label: '   max', unit: 'ms', target: atMost(1) },
  { key: 'visible.found', label: '   names visible within the cap', unit: '%' },
  { key: 'cold.p50', label: 'cold lookup, c=1, p50', unit: 'ms', target: atMost(1) },
  { key: 'cold.p99', label: '   p99', unit: 'ms', target: atMost(1) },
  { key: 'cold.found', label: '   names found', unit: '%' },
  { key: 'warm.p50', label: 'warm lookup (same Grape again), p50', unit: 'ms', target: atMost(0.25) },
  { key: 'warm.found', label: '   names found', unit: '%' },
  { key: 'burst.rate', label: 'burst of cold lookups, c=8, lookups/s', target: atLeast(1) },
  { key: 'burst.p99', label: '   p99', unit: 'ms' },
  { key: 'burst.found', label: '   names found', unit: '%' },
  {
    key: 'work.cpu',
    label: 'Grape CPU per DHT operation (all processes)',
    unit: 'µs',
    target: atMost(1),
  },
  { key: 'idle.cpu', label: 'idle CPU per Grape, ms per 30 s', target: atMost(1) },
  { key: 'rss.grape', label: 'RSS per Grape (all processes / N)', unit: 'MB', target: atMost(1) },
  { key: 'rss.loaded', label: '   RSS per process above node and the harness', unit: 'MB' },
]

const percent = (found: number, total: number) => (100 * found) / Math.max(1, total)
const sum = (values: number[]) => values.reduce((total, value) => total + value, 0)

export function figuresOf(raw: SessionRaw): Figures {
  const { announce, coldWarm, burst } = raw
  const cold = coldWarm.ms[0] ?? []
  const warm = coldWarm.ms[1] ?? []
  const visible = announce.visibleMs.filter(Number.isFinite)
  const grapes = raw.plan.grapes
  const aboveBase = raw.rssMb.map((rss, i) => rss - (raw.baseRssMb[i] ?? Number.NaN))
  return {
    values: {
      'start.all': raw.startedMs,
      'start.joined': raw.joinedMs,
      'start.p50': percentile(raw.startMs, 0.5),
      'announce.p50': percentile(announce.announceMs.filter(Number.isFinite), 0.5),
      'announce.p99': percentile(announce.announceMs.filter(Number.isFinite), 0.99),
      'visible.p50': percentile(visible, 0.5),
      'visible.max': visible.length > 0 ? Math.max(...visible) : Number.NaN,
      'visible.found': percent(visible.length, announce.visibleMs.length),
      'cold.p50': percentile(cold, 0.5),
      'cold.p99': percentile(cold, 0.99),
      'cold.found': percent(coldWarm.found[0] ?? 0, cold.length),
      'warm.p50': percentile(warm, 0.5),
      'warm.found': percent(coldWarm.found[1] ?? 0, warm.length),
      'burst.rate': ((burst.ms[0]?.length ?? 0) * 1000) / burst.elapsedMs,
      'burst.p99': percentile(burst.ms[0] ?? [], 0.99),
      'burst.found': percent(burst.found[0] ?? 0, burst.ms[0]?.length ?? 0),
      'work.cpu': (raw.workCpuMs * 1000) / operations(raw),
      'idle.cpu': (raw.idleCpuMs / grapes) * (30_000 / raw.idleMs),
      'rss.grape': sum(raw.rssMb) / grapes,
      'rss.loaded': percentile(aboveBase, 0.5),
    },
  }
}

/** Announces and lookups the Grapes served between the two CPU samples of the work. */
function operations(raw: SessionRaw): number {
  const lookups = (result: LookupResult) => sum(result.ms.map((list) => list.length))
  return raw.announce.announceMs.length + raw.announce.polls + lookups(raw.coldWarm) + lookups(raw.burst)
}

export function notesOf(rounds: [SessionRaw, SessionRaw][]): string[] {
  const notes: string[] = []
  for (const [i, sessions] of rounds.entries()) {
    for (const raw of sessions) {
      const label = `round ${i + 1} ${raw.impl}`
      const { announce, coldWarm, burst } = raw
      if (announce.errors > 0)
        notes.push(`${label}: ${announce.errors} announces failed: ${announce.firstError}`)
      const lookupErrors = coldWarm.errors + burst.errors
      if (lookupErrors > 0) {
        notes.push(`${label}: ${lookupErrors} lookups failed: ${coldWarm.firstError ?? burst.firstError}`)
      }
    }
  }
  return notes
}
