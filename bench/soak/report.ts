import { type MemorySample, slopePerMinute } from '../lib/memory.js'
import { formatNumber } from '../lib/stats.js'
import { formatTable } from '../lib/table.js'
import {
  type CallFigures,
  type FeedPublished,
  type FeedState,
  type LoadResult,
  type SoakSettings,
  TRANSPORTS,
} from './protocol.js'

/** One memory sample of one process, at `minute` since the load started. */
export interface Sample extends MemorySample {
  minute: number
}

export interface ProcessFigures {
  name: string
  samples: Sample[]
  /** CPU of the process over the run, in % of one core. */
  cpuPercent: number
  handlesBefore: Record<string, number>
  handlesAfter: Record<string, number>
}

export interface SoakReportInput {
  settings: SoakSettings
  quick: boolean
  processes: ProcessFigures[]
  load: LoadResult
  /** The replication feed: what the publisher sent, where the replica got to. */
  feed: { published: FeedPublished; replica: FeedState }
}

const mb = (value: number | undefined) => (value === undefined ? 'n/a' : value.toFixed(1))
const signed = (value: number) =>
  Number.isFinite(value) ? `${value >= 0 ? '+' : ''}${value.toFixed(2)}` : 'n/a'

/** Handles before → after: the total, and each type whose count changed. */
export function handleChange(before: Record<string, number>, after: Record<string, number>): string {
  const total = (counts: Record<string, number>) => Object.values(counts).reduce((a, b) => a + b, 0)
  const types = [...new Set([...Object.keys(before), ...Object.keys(after)])].sort()
  const changed = types
    .filter((type) => (before[type] ?? 0) !== (after[type] ?? 0))
    .map((type) => `${type} ${before[type] ?? 0}→${after[type] ?? 0}`)
  return `${total(before)} → ${total(after)}${changed.length > 0 ? ` (${changed.join(', ')})` : ' (same types)'}`
}

function memoryRow(p: ProcessFigures, warmupMinutes: number): string[] {
  const first = p.samples[0]
  const last = p.samples.at(-1)
  const steady = p.samples.filter((s) => s.minute >= warmupMinutes)
  const minutes = steady.map((s) => s.minute)
  const maxRss = Math.max(...p.samples.map((s) => s.rssMb))
  return [
    p.name,
    `${mb(first?.rssMb)} → ${mb(last?.rssMb)} (max ${mb(maxRss)})`,
    signed(
      slopePerMinute(
        minutes,
        steady.map((s) => s.rssMb),
      ),
    ),
    `${mb(first?.heapUsedMb)} → ${mb(last?.heapUsedMb)}`,
    signed(
      slopePerMinute(
        minutes,
        steady.map((s) => s.heapUsedMb),
      ),
    ),
    `${mb(first?.heapTotalMb)} → ${mb(last?.heapTotalMb)}`,
    signed(
      slopePerMinute(
        minutes,
        steady.map((s) => s.rssMb - s.heapTotalMb),
      ),
    ),
    formatNumber(p.cpuPercent),
    handleChange(p.handlesBefore, p.handlesAfter),
  ]
}

function callRow(name: string, figures: CallFigures, seconds: number): string[] {
  return [
    name,
    formatNumber(figures.ok),
    formatNumber(figures.errors),
    formatNumber(figures.ok / seconds),
    formatNumber(figures.p50Ms),
    formatNumber(figures.p99Ms),
    figures.firstError ?? '',
  ]
}

function feedTable(
  { published, replica }: SoakReportInput['feed'],
  s: SoakSettings,
  seconds: number,
): string {
  const converged =
    replica.seq === published.seq &&
    replica.digest === published.digest &&
    replica.leaves === published.leaves
  return formatTable(
    ['feed', 'deltas', 'per s', 'seq', 'leaves', 'converged', 'resyncs', 'joins (churn)', 'join errors'],
    [
      [
        'publisher',
        formatNumber(published.deltas),
        formatNumber(published.deltas / seconds),
        formatNumber(published.seq),
        formatNumber(published.leaves),
        '',
        '',
        '',
        '',
      ],
      [
        `replica (1% loss)`,
        '',
        '',
        formatNumber(replica.seq),
        formatNumber(replica.leaves),
        converged ? 'yes (seq, digest, leaves)' : 'NO',
        formatNumber(replica.resyncs),
        `${formatNumber(replica.joins)} (one per ${s.feedChurnEveryMs / 1000} s)`,
        replica.joinErrors > 0 ? `${replica.joinErrors}: ${replica.firstJoinError}` : '0',
      ],
    ],
    ['left', 'right', 'right', 'right', 'right', 'left', 'right', 'right', 'left'],
  )
}

export function formatSoakReport({ settings: s, quick, processes, load, feed }: SoakReportInput): string {
  const seconds = load.elapsedMs / 1000
  const warmupMinutes = s.warmupMs / 60_000
  const samples = processes[0]?.samples.length ?? 0
  return [
    `## Soak: ${formatNumber(seconds)} s of RPC load (http, ws, zmq), lookups and client churn${quick ? ' (--quick)' : ''}`,
    '',
    `Two Grapes, a worker (RpcServer on http, ws and zmq, announced through Grape 1) and a load generator`,
    `(an RpcClient per transport, ${s.concurrency} calls in flight each; ${s.lookupConcurrency} raw /lookup calls in flight on`,
    `Grape 2; a short-lived Link and RpcClient every ${s.churnEveryMs} ms); a replication feed (a publisher`,
    `announced through Grape 1 sending ${s.feedRate} order-book deltas/s on a 127.0.0.1 multicast group, a replica`,
    `found through Grape 2 losing 1% of what it receives, and a second replica that joins from the carousel`,
    `and leaves every ${s.feedChurnEveryMs / 1000} s); each in its own process.`,
    `Memory: ${samples} samples per process, every ${s.sampleMs} ms, each after a full GC (--expose-gc);`,
    `slopes are least squares over the samples after the first ${s.warmupMs / 1000} s (warm-up). Handles:`,
    `process.getActiveResourcesInfo() after 6 s idle, before the load and after it.`,
    '',
    formatTable(
      [
        'process',
        'RSS MB start → end',
        'RSS MB/min',
        'heap MB start → end',
        'heap MB/min',
        'heap reserved MB',
        'RSS - reserved MB/min',
        'CPU %',
        'handles before → after',
      ],
      processes.map((p) => memoryRow(p, warmupMinutes)),
      ['left', 'right', 'right', 'right', 'right', 'right', 'right', 'right', 'left'],
    ),
    '',
    formatTable(
      ['calls', 'ok', 'errors', 'per s', 'p50 ms', 'p99 ms', 'first error'],
      [
        ...TRANSPORTS.map((t) => callRow(`rpc ${t}`, load.rpc[t], seconds)),
        callRow('/lookup on Grape 2', load.lookups, seconds),
        callRow('short-lived clients', load.churn, seconds),
      ],
      ['left', 'right', 'right', 'right', 'right', 'right', 'left'],
    ),
    '',
    feedTable(feed, s, seconds),
    '',
    'A leak shows as a heap slope that stays positive run after run. RSS also grows as V8 reserves',
    'more heap than it uses (heap reserved: mostly the young generation growing, in 8 and 16 MB steps,',
    'to its maximum under a high allocation rate; bounded). Memory outside the heap (buffers, native',
    'code, the allocator) grows when RSS - reserved keeps a positive slope.',
  ].join('\n')
}
