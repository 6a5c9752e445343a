import { comparisonTable, type Figures, type MetricSpec, type RoundFigures } from '../lib/compare.js'
import { formatNumber, median, type Summary, summarize } from '../lib/stats.js'
import type { SuiteContext } from '../lib/suite.js'
import { formatTable } from '../lib/table.js'
import type { BuildDecision } from './build.js'
import type { PhaseResult } from './gen-phases.js'
import { GENERATOR_TARGET_MS, type GeneratorResults, type ScenarioId } from './generator.js'
import { INPUT, type LoadResult, type Settings, type Variant } from './protocol.js'
import type { TypedRound, TypedSession } from './suite.js'

/** The typed layer may cost at most 10% of the plain peer's throughput at c=128 over WS. */
export const TYPED_TARGET_RATIO = 0.9
const TARGET_CONCURRENCY = 128

interface ReportInput {
  rounds: TypedRound[]
  generator: GeneratorResults
  settings: Settings
  build: BuildDecision
  context: SuiteContext
}

const hasErrors = (result: LoadResult | undefined) => result !== undefined && result.errors + result.wrong > 0

function figuresOf(session: TypedSession | undefined): Figures {
  const values: Record<string, number> = {}
  const capped: string[] = []
  for (const [key, result] of Object.entries(session?.figures ?? {})) {
    values[`rate/${key}`] = result.perSecond
    values[`p50/${key}`] = result.p50Ms
    values[`p99/${key}`] = result.p99Ms
    values[`client/${key}`] = result.clientUsPerCall
    values[`worker/${key}`] = result.serverUsPerCall
    if (result.capped) capped.push(`rate/${key}`)
  }
  return { values, capped }
}

function typedSpecs(concurrencies: readonly number[]): MetricSpec[] {
  const per = (prefix: string, label: string, unit?: string): MetricSpec[] =>
    concurrencies.map((c) => ({
      key: `${prefix}/c${c}`,
      label: `${label} c=${c}`,
      ...(unit ? { unit } : {}),
    }))
  return [
    ...concurrencies.map(
      (c): MetricSpec => ({
        key: `rate/c${c}`,
        label: `calls/s c=${c}`,
        ...(c === TARGET_CONCURRENCY
          ? {
              target: {
                text: `typed/plain >= ${TYPED_TARGET_RATIO}`,
                met: (_typed: number, _plain: number, ratio: number) => ratio >= TYPED_TARGET_RATIO,
              },
            }
          : {}),
      }),
    ),
    ...per('p50', 'p50', 'ms'),
    { key: `p99/c${TARGET_CONCURRENCY}`, label: `p99 c=${TARGET_CONCURRENCY}`, unit: 'ms' },
    ...per('client', 'client CPU µs/call'),
    ...per('worker', 'worker CPU µs/call'),
  ]
}

function rangeCell(summary: Summary, digits = 2): string {
  if (summary.n === 0) return 'n/a'
  const value = (x: number) => (Math.abs(x) >= 100 ? x.toFixed(0) : x.toFixed(digits))
  return summary.n > 1
    ? `${value(summary.median)} [${value(summary.min)}–${value(summary.max)}]`
    : value(summary.median)
}

/** typed − plain (or `a` − `b`) of one metric, within each round. */
function differences(
  rounds: readonly TypedRound[],
  key: string,
  metric: keyof LoadResult,
  a: Variant = 'typed',
  b: Variant = 'plain',
): number[] {
  return rounds.map((round) => {
    const typed = round.sessions[a]?.figures[key]?.[metric]
    const plain = round.sessions[b]?.figures[key]?.[metric]
    return typeof typed === 'number' && typeof plain === 'number' ? typed - plain : Number.NaN
  })
}

function typedSection(input: ReportInput): string[] {
  const { rounds, settings, build } = input
  const s = settings.typed
  const lines: string[] = []
  lines.push('## Typed layer: generated client and worker vs the plain runtime peer (WS)')
  lines.push('')
  lines.push(
    `- our code: ${build.from === 'dist' ? '**dist/** (the tsc build; generated/fibonacci.gen.ts and schemas/fibonacci.schema.ts through tsx, their runtime imports redirected to dist/runtime)' : '**runtime/*.ts through tsx** (esbuild keepNames: per-call `__name()` costs included)'}: ${build.why}`,
  )
  lines.push(
    `- typed: \`FibonacciClient.fib(${JSON.stringify(INPUT)})\` → \`serveFibonacci({ fib })\` (ServiceServer: envelope dispatch, zod \`safeParse\` of the input, the worker function); plain: \`RpcClient.request('fibonacci@1', { action: 'fib', args: [${JSON.stringify(INPUT)}] })\` → \`RpcServer.handle\` with a handler doing the same work without validation. Both compute fib(20) = 6765 iteratively.`,
  )
  lines.push(
    `- each round and variant: a fresh worker process and a fresh client process on 127.0.0.1, static discovery (\`peek\` answers at once, as a Link's cache); closed loop by count, per figure: ${s.figures.map((f) => `c=${f.concurrency} ${formatNumber(f.warmupCalls)} warm-up + ${formatNumber(f.calls)} timed calls`).join(', ')} (cap ${s.capMs / 1000} s); worker CPU from schedstat, client CPU from process.cpuUsage(); ${rounds.length} round(s), order alternating. Ratios per round, then median [min–max].`,
  )
  lines.push('')
  const table: RoundFigures[] = rounds.map((round) => ({
    a: figuresOf(round.sessions.typed),
    b: figuresOf(round.sessions.plain),
  }))
  const concurrencies = s.figures.map((figure) => figure.concurrency)
  lines.push(comparisonTable({ a: 'typed', b: 'plain' }, typedSpecs(concurrencies), table))
  lines.push('')

  lines.push('### Cost of the typed layer per call (typed − plain, same round; median [min–max])')
  lines.push('')
  const validation = summarize(
    rounds.map((round) => round.sessions.typed?.validation?.cpuUsPerParse ?? Number.NaN),
  )
  const rows = concurrencies.map((c) => {
    const key = `c${c}`
    return [
      `c=${c}`,
      rangeCell(summarize(differences(rounds, key, 'serverUsPerCall'))),
      rangeCell(summarize(differences(rounds, key, 'clientUsPerCall'))),
      rangeCell(summarize(differences(rounds, key, 'p50Ms')), 3),
    ]
  })
  lines.push(
    formatTable(['in flight', 'worker CPU µs/call', 'client CPU µs/call', 'p50 ms'], rows, [
      'left',
      'right',
      'right',
      'right',
    ]),
  )
  lines.push('')
  const workerDelta = summarize(differences(rounds, `c${TARGET_CONCURRENCY}`, 'serverUsPerCall'))
  const typedWorker = median(
    rounds
      .map((round) => round.sessions.typed?.figures[`c${TARGET_CONCURRENCY}`]?.serverUsPerCall ?? Number.NaN)
      .filter(Number.isFinite),
  )
  const shares: string[] = []
  if (Number.isFinite(validation.median) && Number.isFinite(typedWorker) && typedWorker > 0) {
    shares.push(
      `${((validation.median / typedWorker) * 100).toFixed(1)}% of the typed worker's CPU per call at c=${TARGET_CONCURRENCY}`,
    )
  }
  if (Number.isFinite(validation.median) && Number.isFinite(workerDelta.median) && workerDelta.median > 0) {
    shares.push(`${((validation.median / workerDelta.median) * 100).toFixed(0)}% of its extra CPU over plain`)
  }
  lines.push(
    `- input validation alone: \`FibonacciService.methods.fib.input.safeParse(${JSON.stringify(INPUT)})\` in the typed worker, after the figures (JIT-warm), ${formatNumber(s.parseIterations)} calls: **${rangeCell(validation, 3)} µs CPU per call**${shares.length > 0 ? ` (${shares.join('; ')})` : ''}. The rest of the worker's extra cost is the typed dispatch (envelope checks, the context object, result handling). The generated client does not validate (\`validateInput\` is off by default): its extra cost is ServiceClient.call (method lookup, envelope and options objects, one more async frame).`,
  )
  const outputParse = summarize(
    rounds.map((round) => round.sessions.typed?.validation?.cpuUsPerOutputParse ?? Number.NaN),
  )
  const outputCost = concurrencies
    .map(
      (c) =>
        `c=${c} ${rangeCell(summarize(differences(rounds, `c${c}`, 'serverUsPerCall', 'typed', 'unchecked')))}`,
    )
    .join(', ')
  const outputThroughput = concurrencies
    .map((c) => {
      const ratios = rounds.map((round) => {
        const checked = round.sessions.typed?.figures[`c${c}`]?.perSecond
        const raw = round.sessions.unchecked?.figures[`c${c}`]?.perSecond
        return typeof checked === 'number' && typeof raw === 'number' && raw > 0 ? checked / raw : Number.NaN
      })
      return `c=${c} ${rangeCell(summarize(ratios), 3)}`
    })
    .join(', ')
  lines.push(
    `- output validation (on by default, \`validateOutput\`): worker CPU µs per call, typed − unchecked (\`validateOutput: false\`), same round: ${outputCost}; throughput typed/unchecked: ${outputThroughput}; the output schema's \`safeParse(6765)\` alone: **${rangeCell(outputParse, 3)} µs CPU**. A larger output costs more: zod's parse grows with the fields it checks.`,
  )
  const notes: string[] = []
  for (const round of rounds) {
    for (const variant of round.order) {
      const session = round.sessions[variant]
      if (session?.failed) notes.push(`round ${round.round} ${variant}: FAILED: ${session.failed}`)
      for (const [key, result] of Object.entries(session?.figures ?? {})) {
        if (hasErrors(result)) {
          notes.push(
            `round ${round.round} ${variant} ${key}: ${result.errors} errors, ${result.wrong} wrong answers (${result.firstError})${key === `c${TARGET_CONCURRENCY}` ? ': the target is not valid' : ''}`,
          )
        }
        if (result.warmupErrors > 0)
          notes.push(`round ${round.round} ${variant} ${key}: ${result.warmupErrors} warm-up errors`)
        if (result.capped) notes.push(`round ${round.round} ${variant} ${key}: capped at ${s.capMs / 1000} s`)
      }
    }
  }
  const first = (variant: Variant) =>
    median(rounds.map((round) => round.sessions[variant]?.firstCallMs ?? Number.NaN).filter(Number.isFinite))
  lines.push(
    `- first call (connect, lazy init; informational): typed ${formatNumber(first('typed'))} ms, plain ${formatNumber(first('plain'))} ms.`,
  )
  if (notes.length > 0) lines.push('', '**Notes**', '', ...notes.map((note) => `- ${note}`))
  return lines
}

const SCENARIOS: Array<[ScenarioId, (g: GeneratorResults) => string]> = [
  ['repoCheck', (g) => `schemas/ (${repoServices(g)}), --check`],
  ['bigFresh', (g) => `${g.services} services, fresh out dir (writes ${g.files} files)`],
  ['bigCheck', (g) => `${g.services} services, --check (output up to date)`],
]

function repoServices(g: GeneratorResults): string {
  const count = g.repoPhases[0]?.services
  return count === undefined ? 'the repository' : `${count} service${count === 1 ? '' : 's'}`
}

function msCell(values: readonly number[]): string {
  const summary = summarize(values)
  if (summary.n === 0) return 'n/a'
  return summary.n > 1
    ? `${formatNumber(summary.median)} [${formatNumber(summary.min)}–${formatNumber(summary.max)}]`
    : formatNumber(summary.median)
}

function generatorSection(input: ReportInput): string[] {
  const g = input.generator
  const lines: string[] = ['## Generator: `node dist/codegen/cli.js` end to end (loader child included)', '']
  if (g.unavailable) return [...lines, `n/a: ${g.unavailable}`]
  lines.push(
    `- ${g.services} schema files written by the bench (2–5 methods each, nested objects, enums, arrays, records, unions, declared errors, events on every third, two legacy keys, shared types from \`./common.js\`) into \`${g.project}/\` (removed afterwards); generated code imports \`./runtime/index.js\`. Wall time spawn → exit, ${input.settings.generator.runs} timed runs after an untimed one, median [min–max]; CPU = CLI + loader child (10 ms ticks).`,
  )
  lines.push('')
  const rows = SCENARIOS.map(([id, label]) => {
    const runs = g.runs[id]
    const wall = summarize(runs.map((run) => run.wallMs))
    const isTarget = id === 'bigFresh'
    return [
      label(g),
      msCell(runs.map((run) => run.wallMs)),
      msCell(runs.map((run) => run.cpuMs)),
      String(runs.length),
      isTarget ? `< ${formatNumber(GENERATOR_TARGET_MS)} ms` : '',
      isTarget && wall.n > 0 ? (wall.median < GENERATOR_TARGET_MS ? 'yes' : 'NO') : '',
    ]
  })
  lines.push(
    formatTable(['scenario', 'wall ms', 'CPU ms', 'runs', 'target', 'met'], rows, [
      'left',
      'right',
      'right',
      'right',
      'left',
      'left',
    ]),
  )
  lines.push('')
  lines.push('### Where one run goes (median ms over the runs)')
  lines.push('')
  const phase = (list: PhaseResult[], pick: (p: PhaseResult) => number) => median(list.map(pick))
  const boot = median(g.nodeBootMs)
  const imported = median(g.importMs)
  const phaseRows: Array<[string, (p: PhaseResult) => number]> = [
    ['load: loader child process, wall', (p) => p.loadMs],
    ['    its CPU (node boot, hooks, TypeScript transpile, zod → JSON Schema)', (p) => p.loadCpuMs],
    ['generate(): ts-morph emit + format, lock', (p) => p.generateMs],
    ['    its CPU', (p) => p.generateCpuMs],
    ['compare with disk + write', (p) => p.writeMs],
  ]
  const extra = g.services - (g.repoPhases[0]?.services ?? 1)
  const row = (label: string, repo: number, big: number, perService = true) => [
    label,
    formatNumber(repo),
    formatNumber(big),
    perService && extra > 0 ? formatNumber((big - repo) / extra) : '',
  ]
  const sum = (list: PhaseResult[]) =>
    boot +
    imported +
    phase(list, (p) => p.loadMs) +
    phase(list, (p) => p.generateMs) +
    phase(list, (p) => p.writeMs)
  const e2e = (id: ScenarioId) => median(g.runs[id].map((run) => run.wallMs))
  lines.push(
    formatTable(
      [
        'phase',
        `schemas/ (${repoServices(g)}, --check)`,
        `${g.services} services (fresh)`,
        'per extra service',
      ],
      [
        row('node startup (`node -e 0`)', boot, boot, false),
        row(
          "import of the CLI's modules (ts-morph/TypeScript, handlebars, zod), plain node",
          imported,
          imported,
          false,
        ),
        ...phaseRows.map(([label, pick]) => row(label, phase(g.repoPhases, pick), phase(g.bigPhases, pick))),
        row('sum: startup + import + load + generate + write', sum(g.repoPhases), sum(g.bigPhases)),
        row('CLI end to end (table above)', e2e('repoCheck'), e2e('bigFresh')),
      ],
      ['left', 'right', 'right', 'right'],
    ),
  )
  lines.push('')
  lines.push(
    "- load, generate and write are timed by `bench/codegen/gen-phases.ts`, which calls the built `loadSchemas()` and `generate()` and writes as the CLI does; the import of the CLI's modules is timed apart in plain node (tsx's hooks slow module loading). The loader child loads ts-morph (for `transpileModule`) on its hooks thread; the CLI loads it again for `generate()`.",
  )
  if (g.profiles) {
    lines.push('', '### CPU profiles of one fresh run (bench/results/profiles/codegen-*.cpuprofile)', '')
    lines.push(...g.profiles)
  }
  if (g.notes.length > 0) lines.push('', '**Notes**', '', ...g.notes.map((note) => `- ${note}`))
  return lines
}

export function buildReport(input: ReportInput): string {
  return [...typedSection(input), '', ...generatorSection(input)].join('\n')
}
