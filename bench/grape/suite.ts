import { randomBytes } from 'node:crypto'
import { mkdirSync } from 'node:fs'
import { join } from 'node:path'
import { spawnChild } from '../lib/children.js'
import { comparisonTable, type Figures, type MetricSpec, type RoundFigures } from '../lib/compare.js'
import { formatProfileSummary, summarizeProfile } from '../lib/cpu-profile.js'
import { median, percentile } from '../lib/stats.js'
import type { Suite, SuiteContext } from '../lib/suite.js'
import { formatTable } from '../lib/table.js'
import { startGrapePair } from './pair.js'
import {
  IMPL_LABEL,
  type Impl,
  type LongLivedParams,
  type LongLivedResult,
  type LookupLoadParams,
  type LookupLoadResult,
  type PrepareParams,
  type VisibilityParams,
  type VisibilityResult,
} from './protocol.js'

interface Settings {
  warmupMs: number
  durationMs: number
  /** Fresh names for figure c. */
  visibilityNames: number
  visibilityCapMs: number
  pollMs: number
  preAnnounceMs: number
  longLivedCapMs: number
}

const NAMES = 16
const LOOKUP_PORT = 41000
const VISIBILITY_PORT = 42000
const LONG_LIVED_PORT = 43999

function settingsFor(quick: boolean): Settings {
  return {
    warmupMs: quick ? 500 : 1000,
    durationMs: quick ? 2000 : 5000,
    visibilityNames: quick ? 10 : 30,
    visibilityCapMs: 2000,
    pollMs: 25,
    preAnnounceMs: 200,
    longLivedCapMs: 15_000,
  }
}

/** Upper bound of one session (one implementation, one round), ms. */
function sessionBudgetMs(s: Settings): number {
  return (
    2 * (s.warmupMs + s.durationMs) + s.visibilityNames * (s.visibilityCapMs + 50) + s.longLivedCapMs + 60_000
  )
}

const lowerOrEqual = (limit: number, text: string) => ({
  text,
  met: (_ours: number, _ref: number, ratio: number) => ratio <= limit,
})

const METRICS: MetricSpec[] = [
  {
    key: 'a16.rate',
    label: 'a. lookups/s, c=16 over 16 names',
    target: { text: 'ours/ref >= 3', met: (_o, _r, ratio) => ratio >= 3 },
  },
  { key: 'a16.p50', label: '   p50 latency, c=16', unit: 'ms' },
  { key: 'a16.p99', label: '   p99 latency, c=16', unit: 'ms' },
  { key: 'a1.rate', label: 'a. lookups/s, c=1' },
  { key: 'a1.p50', label: '   p50 latency, c=1', unit: 'ms' },
  {
    key: 'b16.cpu',
    label: 'b. Grape CPU µs/lookup, both Grapes, c=16',
    target: lowerOrEqual(0.2, 'ours/ref <= 0.2'),
  },
  { key: 'b16.cpu1', label: '   of which Grape 1 (announced to)' },
  { key: 'b16.cpu2', label: '   of which Grape 2 (queried)' },
  { key: 'b1.cpu', label: 'b. Grape CPU µs/lookup, both Grapes, c=1' },
  { key: 'client.cpu', label: '   load generator CPU µs/lookup, c=16' },
  { key: 'errors', label: '   lookup errors or wrong answers (a)' },
  {
    key: 'c.p50',
    label: 'c. announce ack -> visible on Grape 2, p50',
    unit: 'ms',
    target: lowerOrEqual(1, 'ours/ref <= 1'),
  },
  { key: 'c.max', label: '   max', unit: 'ms' },
  { key: 'c.firstTry', label: '   found by the first lookup', unit: '%' },
  { key: 'c.repeat', label: '   the next lookup of that name, p50', unit: 'ms' },
  { key: 'c.control', label: '   control: known name after 10 ms idle, p50', unit: 'ms' },
  { key: 'c.announce', label: '   POST /announce -> ack, p50', unit: 'ms' },
  {
    key: 'd.ms',
    label: 'd. long-lived Link sees a new worker',
    unit: 'ms',
    target: { text: 'ours < 500 ms', met: (ours) => ours < 500 },
  },
  { key: 'd.polls', label: '   polls after the announce' },
  { key: 'setup.ms', label: '   (setup) 2 Grapes spawned -> connected', unit: 'ms' },
]

interface Session {
  figures: Figures
  raw: {
    c16: LookupLoadResult
    c1: LookupLoadResult
    visibility: VisibilityResult
    longLived: LongLivedResult
  }
  profiles: string[]
}

async function runSession(impl: Impl, round: number, context: SuiteContext, s: Settings): Promise<Session> {
  const lifetimeMs = sessionBudgetMs(s) + 30_000
  const profileDir = context.profile ? join(context.resultsDir, 'profiles') : undefined
  if (profileDir) mkdirSync(profileDir, { recursive: true })
  const label = IMPL_LABEL[impl]
  context.log(`round ${round}, ${label}: starting 2 Grapes`)
  const pair = await startGrapePair({
    impl,
    tag: `r${round}`,
    lifetimeMs,
    profileDir,
    verbose: context.verbose,
  })
  const client = spawnChild({
    name: `${label}-client`,
    script: 'bench/grape/client-child.ts',
    lifetimeMs,
    verbose: context.verbose,
  })
  let raw: Session['raw']
  try {
    await client.ready(30_000)
    const [url1, url2] = pair.urls
    const grapePids = pair.grapes.map((grape) => grape.pid)
    const nonce = `${impl}-r${round}-${randomBytes(3).toString('hex')}`
    const names = Array.from({ length: NAMES }, (_, i) => `bench:lookup:${nonce}:${i}`)
    const ports = names.map((_, i) => LOOKUP_PORT + i)
    await client.call(
      'prepare',
      { announceUrl: url1, lookupUrl: url2, names, ports, timeoutMs: 15_000 } satisfies PrepareParams,
      20_000,
    )

    const loadTimeout = s.warmupMs + s.durationMs + 30_000
    const load = (concurrency: number) => {
      context.log(`round ${round}, ${label}: lookups c=${concurrency}`)
      const params = {
        url: url2,
        names,
        ports,
        concurrency,
        warmupMs: s.warmupMs,
        durationMs: s.durationMs,
        grapePids,
      } satisfies LookupLoadParams
      return client.call<LookupLoadResult>('lookupLoad', params, loadTimeout)
    }
    const c16 = await load(16)
    const c1 = await load(1)

    context.log(`round ${round}, ${label}: announce -> visible, ${s.visibilityNames} names`)
    const visibility = await client.call<VisibilityResult>(
      'visibility',
      {
        announceUrl: url1,
        lookupUrl: url2,
        names: Array.from({ length: s.visibilityNames }, (_, i) => `bench:fresh:${nonce}:${i}`),
        basePort: VISIBILITY_PORT,
        controlName: names[0] as string,
        capMs: s.visibilityCapMs,
      } satisfies VisibilityParams,
      s.visibilityNames * (s.visibilityCapMs + 1000) + 10_000,
    )

    context.log(`round ${round}, ${label}: long-lived Link polling every ${s.pollMs} ms`)
    const longLived = await client.call<LongLivedResult>(
      'longLived',
      {
        impl,
        announceUrl: url1,
        lookupUrl: url2,
        name: `bench:new-worker:${nonce}`,
        port: LONG_LIVED_PORT,
        pollMs: s.pollMs,
        preAnnounceMs: s.preAnnounceMs,
        capMs: s.longLivedCapMs,
      } satisfies LongLivedParams,
      s.preAnnounceMs + s.longLivedCapMs + 15_000,
    )
    raw = { c16, c1, visibility, longLived }
  } finally {
    await client.stop()
    await pair.stop()
  }

  const profiles: string[] = []
  for (const [i, path] of (pair.profiles ?? []).entries()) {
    try {
      const summary = summarizeProfile(path, raw.c16.window)
      profiles.push(formatProfileSummary(`${label} Grape ${i + 1} during lookups c=16 (${path})`, summary))
    } catch (err) {
      profiles.push(`- ${label} Grape ${i + 1}: no profile (${(err as Error).message})`)
    }
  }
  return { figures: figuresOf(raw, pair.connectedMs, s), raw, profiles }
}

function figuresOf(raw: Session['raw'], connectedMs: number, s: Settings): Figures {
  const { c16, c1, visibility, longLived } = raw
  const perLookupUs = (cpuMs: number, result: LookupLoadResult) => (cpuMs * 1000) / Math.max(1, result.ok)
  const sum = (values: number[]) => values.reduce((total, value) => total + value, 0)
  const found = visibility.visibleMs.filter(Number.isFinite)
  return {
    values: {
      'a16.rate': c16.perSecond,
      'a16.p50': c16.p50Ms,
      'a16.p99': c16.p99Ms,
      'a1.rate': c1.perSecond,
      'a1.p50': c1.p50Ms,
      'b16.cpu': perLookupUs(sum(c16.grapeCpuMs), c16),
      'b16.cpu1': perLookupUs(c16.grapeCpuMs[0] ?? Number.NaN, c16),
      'b16.cpu2': perLookupUs(c16.grapeCpuMs[1] ?? Number.NaN, c16),
      'b1.cpu': perLookupUs(sum(c1.grapeCpuMs), c1),
      'client.cpu': perLookupUs(c16.clientCpuMs, c16),
      errors: c16.errors + c1.errors,
      'c.p50': median(found),
      'c.max': found.length > 0 ? Math.max(...found) : Number.NaN,
      'c.firstTry': (100 * visibility.firstTryHits) / Math.max(1, visibility.visibleMs.length),
      'c.announce': percentile(visibility.announceMs, 0.5),
      'c.repeat': percentile(visibility.repeatMs, 0.5),
      'c.control': percentile(visibility.controlMs, 0.5),
      'd.ms': longLived.visibleMs ?? s.longLivedCapMs,
      'd.polls': longLived.polls - longLived.pollsBeforeAnnounce,
      'setup.ms': connectedMs,
    },
    capped: longLived.visibleMs === null ? ['d.ms'] : [],
  }
}

function notesOf(rounds: { ours: Session; ref: Session }[]): string[] {
  const notes: string[] = []
  for (const [i, round] of rounds.entries()) {
    for (const [impl, session] of Object.entries(round) as [Impl, Session][]) {
      const { c16, c1, visibility, longLived } = session.raw
      const label = `round ${i + 1} ${IMPL_LABEL[impl]}`
      if (c16.errors + c1.errors > 0)
        notes.push(`${label}: lookup errors: ${c16.firstError ?? c1.firstError}`)
      if (visibility.misses > 0) notes.push(`${label}: ${visibility.misses} fresh names never became visible`)
      if (longLived.visibleMs === null) {
        notes.push(
          `${label}: the long-lived Link never saw the worker (capped; last error ${longLived.lastError})`,
        )
      }
    }
  }
  return notes
}

export const grapeSuite: Suite = {
  name: 'grape',
  description:
    'our Grape vs grenache-grape 1.0.0: lookups/s, CPU per lookup, announce visibility, long-lived Link',
  budgetMs: ({ quick, rounds }) => 2 * rounds * (sessionBudgetMs(settingsFor(quick)) + 30_000),

  async run(context) {
    const s = settingsFor(context.quick)
    const rounds: { ours: Session; ref: Session }[] = []
    for (let round = 1; round <= context.rounds; round++) {
      // Alternate which implementation goes first, so neither always gets the cooler machine.
      const order: Impl[] = round % 2 === 1 ? ['ours', 'ref'] : ['ref', 'ours']
      const sessions: Partial<Record<Impl, Session>> = {}
      for (const impl of order) sessions[impl] = await runSession(impl, round, context, s)
      rounds.push(sessions as { ours: Session; ref: Session })
    }
    const table = comparisonTable(
      { a: 'ours', b: 'reference' },
      METRICS,
      rounds.map((round): RoundFigures => ({ a: round.ours.figures, b: round.ref.figures })),
    )
    const perRoundKeys: [string, string, number][] = [
      ['a16.rate', 'a c=16 /s', 0],
      ['b16.cpu', 'b µs', 1],
      ['c.p50', 'c p50 ms', 2],
      ['d.ms', 'd ms', 0],
    ]
    const perRound = formatTable(
      ['round', 'first', ...perRoundKeys.flatMap(([, title]) => [`${title} ours`, 'ref'])],
      rounds.map((round, i) => [
        String(i + 1),
        i % 2 === 0 ? 'ours' : 'reference',
        ...perRoundKeys.flatMap(([key, , digits]) =>
          [round.ours, round.ref].map((session) => session.figures.values[key]?.toFixed(digits) ?? 'n/a'),
        ),
      ]),
    )
    const lines = [
      `## Grape: ours (runtime/grape) vs reference (grenache-grape 1.0.0)`,
      '',
      `${context.rounds} round(s), median (±(max-min)/median over rounds); ratios computed per round, median [min-max].`,
      `a/b: ${s.durationMs / 1000} s measured after ${s.warmupMs / 1000} s warm-up, lookups on Grape 2 of names announced on Grape 1;`,
      `c: ${s.visibilityNames} fresh names; d: poll every ${s.pollMs} ms, announce after ${s.preAnnounceMs} ms, cap ${s.longLivedCapMs / 1000} s.`,
      '',
      table,
      '',
      'Per round:',
      '',
      perRound,
    ]
    const notes = notesOf(rounds)
    if (notes.length > 0) lines.push('', 'Notes:', ...notes.map((note) => `- ${note}`))
    const profiled = rounds[0]
    if (context.profile && profiled) {
      lines.push(
        '',
        '### CPU profiles (round 1, node --cpu-prof; the profiler slows the Grapes, figures above are not comparable)',
        '',
        ...profiled.ours.profiles,
        ...profiled.ref.profiles,
      )
    }
    return {
      text: lines.join('\n'),
      raw: { settings: s, rounds: rounds.map((round) => ({ ours: round.ours.raw, ref: round.ref.raw })) },
    }
  },
}
