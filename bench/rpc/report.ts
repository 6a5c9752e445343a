import { existsSync, readFileSync } from 'node:fs'
import { join } from 'node:path'
import { performance } from 'node:perf_hooks'
import { ROOT } from '../lib/children.js'
import { formatProfileSummary, summarizeProfile } from '../lib/cpu-profile.js'
import { formatNumber, type Summary, summarize } from '../lib/stats.js'
import type { SuiteContext } from '../lib/suite.js'
import { formatTable } from '../lib/table.js'
import { figureKey, type RpcRound, type Session, type Settings } from './model.js'
import { LARGE_BYTES, LARGE_RECORDS, payloadOf } from './payloads.js'
import {
  type LoadResult,
  MAP_TARGETS,
  type OursFrom,
  REQUEST_TARGETS,
  type TargetId,
  targetId,
} from './protocol.js'

type Kind = 'requests' | 'maps'
type Metric = 'perSecond' | 'p50Ms' | 'p99Ms' | 'clientUsPerCall' | 'serverUsPerCall'

const PROTOS = ['http', 'ws', 'zmq'] as const

function session(round: RpcRound, kind: Kind, id: TargetId): Session | undefined {
  return round[kind][id]
}

function figure(round: RpcRound, kind: Kind, id: TargetId, key: string): LoadResult | undefined {
  return session(round, kind, id)?.figures[key]
}

/** The metric in each round (NaN where the figure is missing). */
function perRound(
  rounds: readonly RpcRound[],
  kind: Kind,
  id: TargetId,
  key: string,
  metric: Metric,
): number[] {
  return rounds.map((round) => figure(round, kind, id, key)?.[metric] ?? Number.NaN)
}

/** a/b computed within each round. */
function ratioPerRound(
  rounds: readonly RpcRound[],
  kind: Kind,
  a: TargetId,
  b: TargetId,
  key: string,
  metric: Metric,
): number[] {
  return rounds.map((round) => {
    const x = figure(round, kind, a, key)?.[metric]
    const y = figure(round, kind, b, key)?.[metric]
    return x === undefined || y === undefined || y === 0 ? Number.NaN : x / y
  })
}

/** Whether any round of the figure had errors or wrong answers. */
function hasErrors(rounds: readonly RpcRound[], kind: Kind, id: TargetId, key: string): boolean {
  return rounds.some((round) => {
    const result = figure(round, kind, id, key)
    return result !== undefined && result.errors + result.wrong > 0
  })
}

function wasCapped(rounds: readonly RpcRound[], kind: Kind, id: TargetId, key: string): boolean {
  return rounds.some((round) => figure(round, kind, id, key)?.capped === true)
}

/** Why a target has no figure: n/a (the stack lacks the protocol) or FAILED. */
function absence(rounds: readonly RpcRound[], kind: Kind, id: TargetId): string {
  const sessions = rounds.map((round) => session(round, kind, id))
  if (sessions.some((entry) => entry?.failed)) return 'FAILED'
  if (sessions.some((entry) => entry?.unavailable)) return 'n/a'
  return 'n/a'
}

function valueCell(summary: Summary, digits?: (value: number) => string): string {
  if (summary.n === 0) return 'n/a'
  const text = digits ? digits(summary.median) : formatNumber(summary.median)
  return summary.n > 1 ? `${text} (±${(summary.spread * 100).toFixed(0)}%)` : text
}

function ratioText(value: number): string {
  if (!Number.isFinite(value)) return 'n/a'
  return value >= 10 ? value.toFixed(1) : value >= 0.1 ? value.toFixed(2) : value.toPrecision(2)
}

function ratioCell(summary: Summary): string {
  if (summary.n === 0) return 'n/a'
  const ratio = `${ratioText(summary.median)}x`
  return summary.n > 1 ? `${ratio} [${ratioText(summary.min)}–${ratioText(summary.max)}]` : ratio
}

const ms = (value: number) => (value >= 10 ? value.toFixed(1) : value.toFixed(2))

/** `!` when a round had errors or wrong answers, `*` when a figure stopped on its time cap. */
function marks(rounds: readonly RpcRound[], kind: Kind, id: TargetId, key: string): string {
  return `${hasErrors(rounds, kind, id, key) ? ' !' : ''}${wasCapped(rounds, kind, id, key) ? ' *' : ''}`
}

function requestKeys(s: Settings): string[] {
  return s.payloads.flatMap((payload) => s.concurrencies.map((c) => figureKey(payload, c)))
}

function metricTable(
  rounds: readonly RpcRound[],
  kind: Kind,
  ids: readonly TargetId[],
  keys: readonly string[],
  cellOf: (id: TargetId, key: string) => string,
  first = 'transport',
): string {
  return formatTable(
    [first, ...keys],
    ids.map((id) => {
      const any = rounds.some((round) => Object.keys(session(round, kind, id)?.figures ?? {}).length > 0)
      return [id, ...keys.map((key) => (any ? cellOf(id, key) : absence(rounds, kind, id)))]
    }),
  )
}

interface Goal {
  label: string
  text: string
  /** Per-round values (ratios, or absolute ms). */
  values: number[]
  unit: 'x' | 'ms'
  met(median: number): boolean
  /** Figures whose errors flag the goal. */
  involved: [Kind, TargetId, string][]
}

function goals(rounds: readonly RpcRound[]): Goal[] {
  const ratio = (
    a: TargetId,
    b: TargetId,
    key: string,
    metric: Metric,
    text: string,
    met: (value: number) => boolean,
    label: string,
    kind: Kind = 'requests',
  ): Goal => ({
    label,
    text,
    values: ratioPerRound(rounds, kind, a, b, key, metric),
    unit: 'x',
    met,
    involved: [
      [kind, a, key],
      [kind, b, key],
    ],
  })
  const atLeast = (limit: number) => (value: number) => value >= limit
  const atMost = (limit: number) => (value: number) => value <= limit
  const list: Goal[] = [
    ratio(
      'ours-http',
      'raw-http',
      'small/c128',
      'perSecond',
      '>= 0.85',
      atLeast(0.85),
      'ours-http/raw-http calls/s, small c=128',
    ),
    ratio(
      'ours-http',
      'ref-http',
      'small/c16',
      'perSecond',
      '>= 3 (~4x expected)',
      atLeast(3),
      'ours-http/ref-http calls/s, small c=16',
    ),
    ratio(
      'ours-http',
      'ref-http',
      'small/c128',
      'perSecond',
      '>= 3 (~4x expected)',
      atLeast(3),
      'ours-http/ref-http calls/s, small c=128',
    ),
    ratio(
      'ours-ws',
      'raw-ws',
      'small/c128',
      'perSecond',
      '>= 0.8',
      atLeast(0.8),
      'ours-ws/raw-ws calls/s, small c=128',
    ),
    ratio(
      'ours-ws',
      'ref-ws',
      'small/c16',
      'perSecond',
      '>= 1.5 (~2.2x expected)',
      atLeast(1.5),
      'ours-ws/ref-ws calls/s, small c=16',
    ),
    ratio(
      'ours-ws',
      'ref-ws',
      'small/c128',
      'perSecond',
      '>= 1.5 (~2.2x expected)',
      atLeast(1.5),
      'ours-ws/ref-ws calls/s, small c=128',
    ),
    ratio(
      'ours-zmq',
      'raw-zmq',
      'small/c16',
      'perSecond',
      '>= 0.8',
      atLeast(0.8),
      'ours-zmq/raw-zmq calls/s, small c=16',
    ),
    ratio(
      'ours-zmq',
      'raw-zmq',
      'small/c128',
      'perSecond',
      '>= 0.8',
      atLeast(0.8),
      'ours-zmq/raw-zmq calls/s, small c=128',
    ),
  ]
  for (const proto of PROTOS) {
    list.push(
      ratio(
        `ours-${proto}`,
        `raw-${proto}`,
        'small/c1',
        'p50Ms',
        '<= 1.3',
        atMost(1.3),
        `ours-${proto}/raw-${proto} p50 latency, small c=1`,
      ),
    )
  }
  const oursHttpP50 = perRound(rounds, 'requests', 'ours-http', 'small/c1', 'p50Ms')
  list.push({
    label: 'ours-http p50 latency, small c=1 (absolute)',
    text: '<= 0.15 ms',
    values: oursHttpP50,
    unit: 'ms',
    met: atMost(0.15),
    involved: [['requests', 'ours-http', 'small/c1']],
  })
  for (const proto of PROTOS) {
    list.push(
      ratio(
        `ours-${proto}`,
        `raw-${proto}`,
        '16k/c16',
        'perSecond',
        '>= 0.9',
        atLeast(0.9),
        `ours-${proto}/raw-${proto} calls/s, 16k c=16`,
      ),
    )
  }
  list.push(
    ratio(
      'ours-http',
      'ref-http',
      '16k/c16',
      'perSecond',
      '>= 1.4',
      atLeast(1.4),
      'ours-http/ref-http calls/s, 16k c=16',
    ),
    ratio(
      'ours-ws',
      'ref-ws',
      '16k/c16',
      'perSecond',
      '>= 1.05',
      atLeast(1.05),
      'ours-ws/ref-ws calls/s, 16k c=16',
    ),
    ratio(
      'ours-ws',
      'ref-ws',
      'map/c16',
      'perSecond',
      '>= 1.5',
      atLeast(1.5),
      'map over 4: ours-ws/ref-ws map calls/s, c=16',
      'maps',
    ),
  )
  return list
}

function goalTable(rounds: readonly RpcRound[]): { table: string; missed: string[] } {
  const missed: string[] = []
  const rows = goals(rounds).map((goal) => {
    const summary = summarize(goal.values)
    const errors = goal.involved.some(([kind, id, key]) => hasErrors(rounds, kind, id, key))
    let met = 'n/a'
    if (summary.n > 0) met = goal.met(summary.median) ? 'yes' : 'NO'
    if (met === 'NO') missed.push(goal.label)
    if (errors) met += ' (errors!)'
    const value =
      summary.n === 0
        ? 'n/a'
        : goal.unit === 'x'
          ? ratioCell(summary)
          : `${ms(summary.median)} ms${summary.n > 1 ? ` [${ms(summary.min)}–${ms(summary.max)}]` : ''}`
    return [goal.label, value, goal.text, met]
  })
  return {
    table: formatTable(['target', 'measured (median [min–max])', 'goal', 'met'], rows, [
      'left',
      'right',
      'left',
      'left',
    ]),
    missed,
  }
}

function versions(): string {
  const version = (path: string) => {
    try {
      return (
        JSON.parse(readFileSync(join(ROOT, 'node_modules', path, 'package.json'), 'utf8')) as {
          version: string
        }
      ).version
    } catch {
      return '?'
    }
  }
  const refWs = existsSync(join(ROOT, 'node_modules/grenache-nodejs-ws/node_modules/ws'))
    ? version('grenache-nodejs-ws/node_modules/ws')
    : version('ws')
  return [
    `grenache-nodejs-http ${version('grenache-nodejs-http')} (request ${version('request')})`,
    `grenache-nodejs-ws ${version('grenache-nodejs-ws')} (ws ${refWs})`,
    `grenache-nodejs-base ${version('grenache-nodejs-base')}`,
    `undici ${version('undici')}`,
    `ws ${version('ws')}`,
    `zeromq ${version('zeromq')}`,
  ].join(', ')
}

/** JSON cost of the large document in this process: it bounds every 16k figure. */
function jsonCost(): string {
  const doc = payloadOf('16k')
  const text = JSON.stringify(doc)
  const time = (fn: () => void) => {
    for (let i = 0; i < 50; i++) fn()
    const begin = performance.now()
    for (let i = 0; i < 200; i++) fn()
    return ((performance.now() - begin) * 1000) / 200
  }
  const parse = time(() => JSON.parse(text))
  const stringify = time(() => JSON.stringify(doc))
  return `JSON.parse ${parse.toFixed(0)} µs, JSON.stringify ${stringify.toFixed(0)} µs (orchestrator process)`
}

function notesOf(rounds: readonly RpcRound[]): string[] {
  const notes: string[] = []
  const unavailable = new Map<string, string>()
  for (const round of rounds) {
    for (const kind of ['requests', 'maps'] as const) {
      for (const [id, entry] of Object.entries(round[kind]) as [TargetId, Session][]) {
        const what = `round ${round.round} ${id}${kind === 'maps' ? ' (map)' : ''}`
        if (entry.unavailable) unavailable.set(`${id}${kind === 'maps' ? ' (map)' : ''}`, entry.unavailable)
        if (entry.failed) notes.push(`${what}: FAILED: ${entry.failed.split('\n').slice(0, 6).join(' / ')}`)
        for (const [key, result] of Object.entries(entry.figures)) {
          if (result.errors + result.wrong > 0) {
            notes.push(
              `${what} ${key}: ${result.errors} errors, ${result.wrong} wrong answers of ${result.ok + result.errors + result.wrong} (first: ${result.firstError})`,
            )
          }
          if (result.warmupErrors > 0)
            notes.push(`${what} ${key}: ${result.warmupErrors} errors in the warm-up`)
          if (result.capped) {
            notes.push(`${what} ${key}: stopped on the time cap after ${result.ok} calls (rate still valid)`)
          }
        }
      }
    }
  }
  const order = [
    ...REQUEST_TARGETS.map(targetId),
    ...MAP_TARGETS.map((target) => `${targetId(target)} (map)`),
  ] as string[]
  const missing = [...unavailable].sort(([a], [b]) => order.indexOf(a) - order.indexOf(b))
  return [...missing.map(([id, reason]) => `${id}: not measured: ${reason}`), ...notes]
}

function profileSection(rounds: readonly RpcRound[], s: Settings): string[] {
  const first = rounds[0]
  if (!first) return []
  const lines = [
    `### CPU profiles (round 1, node --cpu-prof every ${s.profileIntervalUs} µs, window of ${s.profileFigure} run for ${s.profileCalls} calls)`,
    '',
    'The profiler slows every process (all stacks are profiled alike): figures of a --profile run are not comparable with others.',
    '',
  ]
  const ids: TargetId[] = [
    ...PROTOS.map((proto): TargetId => `ours-${proto}`),
    ...PROTOS.map((proto): TargetId => `raw-${proto}`),
  ]
  for (const id of ids) {
    const entry = first.requests[id]
    if (!entry?.profiles) continue
    const window = entry.figures[s.profileFigure]?.window
    const rate = entry.figures[s.profileFigure]?.perSecond
    for (const role of ['client', 'server'] as const) {
      const path = entry.profiles[role]
      if (!path) {
        lines.push(`- ${id} ${role}: no profile`)
        continue
      }
      try {
        const summary = summarizeProfile(path, window, id.startsWith('ours') ? 15 : 8)
        lines.push(
          formatProfileSummary(
            `${id} ${role}${rate ? ` (${formatNumber(rate)} calls/s under the profiler)` : ''} — ${path.slice(ROOT.length)}`,
            summary,
          ),
        )
      } catch (err) {
        lines.push(`- ${id} ${role}: unreadable profile (${(err as Error).message})`)
      }
    }
  }
  return lines
}

export function buildReport(
  rounds: readonly RpcRound[],
  s: Settings,
  context: SuiteContext,
  ours: { from: OursFrom; why: string },
): string {
  const requestIds = REQUEST_TARGETS.map(targetId)
  const mapIds = MAP_TARGETS.map(targetId)
  const keys = requestKeys(s)
  const out: string[] = []
  out.push(
    '## RPC: ours (runtime/peer) vs reference (grenache-nodejs-http/-ws) vs raw transports',
    '',
    `${rounds.length} round(s), each target in a fresh client process and a fresh server process on 127.0.0.1, order rotated per round;`,
    `closed loop with exactly c in flight, ${s.warmupCalls} warm-up calls, then ${s.calls} calls per figure (cap ${s.capMs / 1000} s); echo handler; every reply checked.`,
    `small = {n:1}; 16k = a ${LARGE_BYTES}-byte JSON document of ${LARGE_RECORDS} order-like records: ${jsonCost()}.`,
    'No Grape in the loop: ours uses a static Discovery, the reference a stub link answering like a Link cache hit.',
    ours.from === 'dist'
      ? `Ours runs from dist/runtime, the tsc build (${ours.why}).`
      : `Ours runs from runtime/*.ts through tsx (${ours.why}): esbuild's keepNames adds an Object.defineProperty per named closure created, which the tsc build does not; \`npm run build\` first to measure dist/.`,
    `Versions: ${versions()}.`,
    'Figures: median over rounds (±(max-min)/median); ratios computed per round, median [min–max].',
    'Marks: `!` a round had errors or wrong answers (see Notes), `*` a figure stopped on its time cap.',
    ...(context.quick
      ? [
          `--quick: one round of ${s.calls} calls per figure (a small-payload figure lasts tens of ms): it checks the harness; take figures from a full run.`,
        ]
      : []),
    '',
    '### Throughput, calls/s',
    '',
    metricTable(
      rounds,
      'requests',
      requestIds,
      keys,
      (id, key) =>
        `${valueCell(summarize(perRound(rounds, 'requests', id, key, 'perSecond')))}${marks(rounds, 'requests', id, key)}`,
    ),
    '',
    '### Latency, ms: p50 / p99',
    '',
    metricTable(rounds, 'requests', requestIds, keys, (id, key) => {
      const p50 = summarize(perRound(rounds, 'requests', id, key, 'p50Ms'))
      const p99 = summarize(perRound(rounds, 'requests', id, key, 'p99Ms'))
      return p50.n === 0 ? 'n/a' : `${ms(p50.median)} / ${ms(p99.median)}`
    }),
    '',
    '### CPU per call, µs: client / server (client: process.cpuUsage(); server: /proc/<pid>/task/<tid>/schedstat)',
    '',
    metricTable(rounds, 'requests', requestIds, keys, (id, key) => {
      const client = summarize(perRound(rounds, 'requests', id, key, 'clientUsPerCall'))
      const server = summarize(perRound(rounds, 'requests', id, key, 'serverUsPerCall'))
      return client.n === 0 ? 'n/a' : `${formatNumber(client.median)} / ${formatNumber(server.median)}`
    }),
  )

  const pairs: [TargetId, TargetId][] = [
    ['ours-http', 'raw-http'],
    ['ours-http', 'ref-http'],
    ['ours-ws', 'raw-ws'],
    ['ours-ws', 'ref-ws'],
    ['ours-zmq', 'raw-zmq'],
    ['raw-http', 'ref-http'],
    ['raw-ws', 'ref-ws'],
  ]
  const ratioTable = (list: [TargetId, TargetId][], metric: Metric) =>
    formatTable(
      ['ratio', ...keys],
      list.map(([a, b]) => [
        `${a}/${b}`,
        ...keys.map((key) => ratioCell(summarize(ratioPerRound(rounds, 'requests', a, b, key, metric)))),
      ]),
    )
  const oursRaw = PROTOS.map((proto): [TargetId, TargetId] => [`ours-${proto}`, `raw-${proto}`])
  out.push(
    '',
    '### Throughput ratios (calls/s a / calls/s b, per round); raw/ref rows check the harness against perf-baseline',
    '',
    ratioTable(pairs, 'perSecond'),
    '',
    '### p50 latency ratios ours/raw (lower is better)',
    '',
    ratioTable(oursRaw, 'p50Ms'),
    '',
    '### CPU per call ratios ours/raw, client then server (lower is better)',
    '',
    formatTable(
      ['ratio', ...keys],
      oursRaw.flatMap(([a, b]) =>
        (['clientUsPerCall', 'serverUsPerCall'] as const).map((metric) => [
          `${a}/${b} ${metric === 'clientUsPerCall' ? 'client' : 'server'}`,
          ...keys.map((key) => ratioCell(summarize(ratioPerRound(rounds, 'requests', a, b, key, metric)))),
        ]),
      ),
    ),
  )

  const mapKeys = s.mapConcurrencies.map((c) => figureKey('map', c))
  out.push(
    '',
    `### map over ${s.workers} workers (${s.workers} worker processes), small payload, ${s.mapCalls} map calls per figure`,
    '',
    formatTable(
      [
        'client',
        ...mapKeys.map((key) => `${key} map calls/s`),
        ...mapKeys.map((key) => `${key} p50 / p99 ms`),
        ...mapKeys.map((key) => `${key} CPU µs/map client / ${s.workers} workers`),
      ],
      mapIds.map((id) => {
        const any = rounds.some((round) => Object.keys(round.maps[id]?.figures ?? {}).length > 0)
        if (!any) return [id, ...mapKeys.flatMap(() => Array<string>(3).fill(absence(rounds, 'maps', id)))]
        return [
          id,
          ...mapKeys.map(
            (key) =>
              `${valueCell(summarize(perRound(rounds, 'maps', id, key, 'perSecond')))}${marks(rounds, 'maps', id, key)}`,
          ),
          ...mapKeys.map((key) => {
            const p50 = summarize(perRound(rounds, 'maps', id, key, 'p50Ms'))
            const p99 = summarize(perRound(rounds, 'maps', id, key, 'p99Ms'))
            return p50.n === 0 ? 'n/a' : `${ms(p50.median)} / ${ms(p99.median)}`
          }),
          ...mapKeys.map((key) => {
            const client = summarize(perRound(rounds, 'maps', id, key, 'clientUsPerCall'))
            const server = summarize(perRound(rounds, 'maps', id, key, 'serverUsPerCall'))
            return client.n === 0 ? 'n/a' : `${formatNumber(client.median)} / ${formatNumber(server.median)}`
          }),
        ]
      }),
    ),
    '',
    formatTable(
      ['map ratio (per round)', ...mapKeys],
      (
        [
          ['ours-ws', 'ref-ws'],
          ['ours-http', 'ref-http'],
        ] as [TargetId, TargetId][]
      ).map(([a, b]) => [
        `${a}/${b}`,
        ...mapKeys.map((key) => ratioCell(summarize(ratioPerRound(rounds, 'maps', a, b, key, 'perSecond')))),
      ]),
    ),
  )

  const { table, missed } = goalTable(rounds)
  out.push('', '### Targets (checked on the median of the per-round values)', '', table)
  if (missed.length > 0) out.push('', `Missed: ${missed.join('; ')}.`)

  out.push(
    '',
    'Per round: small c=128 calls/s (and the order the targets ran in)',
    '',
    formatTable(
      ['round', ...requestIds, 'order'],
      rounds.map((round) => [
        String(round.round),
        ...requestIds.map((id) => {
          const value = figure(round, 'requests', id, 'small/c128')?.perSecond
          return value === undefined ? absence([round], 'requests', id) : value.toFixed(0)
        }),
        round.order.join(' '),
      ]),
    ),
    '',
    'First call (cold: connection setup, lazy init), ms, median over rounds',
    '',
    formatTable(
      ['transport', 'first call ms'],
      requestIds.map((id) => {
        const values = rounds.map((round) => round.requests[id]?.firstCallMs ?? Number.NaN)
        return [id, valueCell(summarize(values), ms)]
      }),
    ),
  )

  const notes = notesOf(rounds)
  out.push('', notes.length > 0 ? 'Notes:' : 'Notes: no errors, no wrong answers, no capped figure.')
  for (const note of notes) out.push(`- ${note}`)
  if (context.profile) out.push('', ...profileSection(rounds, s))
  return out.join('\n')
}
