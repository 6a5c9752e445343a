import { randomBytes } from 'node:crypto'
import { mkdirSync } from 'node:fs'
import { join } from 'node:path'
import { performance } from 'node:perf_hooks'
import { setTimeout as sleep } from 'node:timers/promises'
import { ROOT, spawnChild } from '../lib/children.js'
import { comparisonTable, type RoundFigures } from '../lib/compare.js'
import { formatProfileSummary, type ProfileWindow, summarizeProfile } from '../lib/cpu-profile.js'
import type { MemorySample } from '../lib/memory.js'
import { cpuSnapshot } from '../lib/proc-cpu.js'
import type { Suite, SuiteContext } from '../lib/suite.js'
import { type Plan, startNetwork } from './network.js'
import { bundleNodeChild } from './node-child-bundle.js'
import { decideDhtOursFrom, type OursFrom } from './ours-from.js'
import type { AnnounceParams, AnnounceResult, Impl, LookupParams, LookupResult } from './protocol.js'
import { figuresOf, METRICS, notesOf, type SessionRaw } from './report.js'
import { planWorkload } from './workload.js'

interface Settings {
  plans: Plan[]
  names: number
  burst: number
  burstConcurrency: number
  idleMs: number
  visibilityCapMs: number
  /** Every Grape must know this many DHT nodes before the workload starts. */
  joinedNodes: number
}

function settingsFor(quick: boolean): Settings {
  return {
    plans: quick
      ? [{ grapes: 100, perProcess: 10 }]
      : [
          { grapes: 30, perProcess: 1 },
          { grapes: 100, perProcess: 10 },
        ],
    names: quick ? 20 : 60,
    burst: quick ? 200 : 1000,
    burstConcurrency: 8,
    idleMs: quick ? 5000 : 30_000,
    visibilityCapMs: 3000,
    joinedNodes: 3,
  }
}

/** Upper bound of one session, ms. */
function sessionBudgetMs(s: Settings, plan: Plan): number {
  const processes = Math.ceil(plan.grapes / plan.perProcess)
  return 180_000 + processes * 2000 + s.names * (s.visibilityCapMs + 500) + s.burst * 50 + s.idleMs
}

const sum = (values: number[]) => values.reduce((total, value) => total + value, 0)
const monotonicUs = () => Number(process.hrtime.bigint() / 1000n)

interface Session {
  raw: SessionRaw
  profiles: string[]
}

async function runSession(
  impl: Impl,
  plan: Plan,
  round: number,
  context: SuiteContext,
  s: Settings,
  from: OursFrom,
  childBundle: string | undefined,
) {
  const lifetimeMs = sessionBudgetMs(s, plan)
  const profileDir = context.profile ? join(context.resultsDir, 'profiles') : undefined
  if (profileDir) mkdirSync(profileDir, { recursive: true })
  const label = `round ${round}, ${impl}, ${plan.grapes} Grapes (${plan.perProcess}/process)`
  context.log(`${label}: starting`)
  const network = await startNetwork({
    impl,
    from,
    childBundle,
    plan,
    tag: `${plan.grapes}x${plan.perProcess}-r${round}`,
    lifetimeMs,
    profileDir,
    verbose: context.verbose,
  })
  const load = spawnChild({ name: `${impl}-dht-load`, script: 'bench/dht/load-child.ts', lifetimeMs })
  let raw: SessionRaw
  let window: ProfileWindow | undefined
  try {
    const joinBegin = performance.now()
    await Promise.all(
      network.processes.map((child) =>
        child.call('waitNodes', { count: s.joinedNodes, timeoutMs: 60_000 }, 65_000),
      ),
    )
    const joinedMs = network.startedMs + (performance.now() - joinBegin)
    await load.ready(30_000)
    const { urls } = network
    await load.call('connect', { urls }, 60_000)
    const work = planWorkload(urls.length, s.names, s.burst, `${impl}-${randomBytes(3).toString('hex')}`)
    const pids = network.processes.map((child) => child.pid)
    const workCpuBefore = cpuSnapshot(pids)
    const startUs = monotonicUs()

    context.log(`${label}: ${s.names} announces, each watched from another Grape`)
    const announce = await load.call<AnnounceResult>(
      'announce',
      { urls, announcements: work.announcements, capMs: s.visibilityCapMs } satisfies AnnounceParams,
      s.names * (s.visibilityCapMs + 5000),
    )
    context.log(`${label}: cold and warm lookups, c=1`)
    const coldWarm = await load.call<LookupResult>(
      'lookups',
      { urls, tasks: work.coldWarm, concurrency: 1, repeat: 2 } satisfies LookupParams,
      s.names * 10_000,
    )
    context.log(`${label}: burst of ${work.burst.length} cold lookups, c=${s.burstConcurrency}`)
    const burst = await load.call<LookupResult>(
      'lookups',
      { urls, tasks: work.burst, concurrency: s.burstConcurrency, repeat: 1 } satisfies LookupParams,
      work.burst.length * 1000 + 30_000,
    )
    window = { startUs, endUs: monotonicUs() }
    const workCpuMs = sum(cpuSnapshot(pids)) - sum(workCpuBefore)

    const memory = await Promise.all(
      network.processes.map((child) => child.call<MemorySample>('memory', {}, 10_000)),
    )
    context.log(`${label}: idle for ${s.idleMs / 1000} s`)
    await sleep(2000)
    const before = cpuSnapshot(pids)
    await sleep(s.idleMs)
    const after = cpuSnapshot(pids)
    const idleCpuMs = sum(after) - sum(before)
    raw = {
      impl,
      plan,
      startedMs: network.startedMs,
      joinedMs,
      startMs: network.ready.flatMap((info) => info.startMs),
      rssMb: memory.map((sample) => sample.rssMb),
      baseRssMb: network.ready.map((info) => info.baseRssMb),
      announce,
      coldWarm,
      burst,
      workCpuMs,
      idleCpuMs,
      idleMs: s.idleMs,
    }
  } finally {
    await load.stop()
    await network.stop()
  }
  const profiles: string[] = []
  // The first process without a seed is the typical one; with one process per Grape, one Grape.
  const typical = network.profiles[network.profiles.length - 1]
  if (typical) {
    try {
      const summary = summarizeProfile(typical, window)
      profiles.push(
        formatProfileSummary(`${impl}, ${plan.grapes} Grapes, announce to burst (${typical})`, summary),
      )
    } catch (err) {
      profiles.push(`- ${impl}: no profile (${(err as Error).message})`)
    }
  }
  return { raw, profiles } satisfies Session
}

export const dhtSuite: Suite = {
  name: 'dht',
  description:
    'N Grapes on one DHT (30 one per process, 100 ten per process), ours vs grenache-grape 1.0.0: start-up, announce, visibility, cold/warm lookups, burst, idle CPU, RSS',
  budgetMs: ({ quick, rounds }) => {
    const s = settingsFor(quick)
    return 2 * rounds * s.plans.reduce((sum, plan) => sum + sessionBudgetMs(s, plan), 0)
  },

  async run(context) {
    const s = settingsFor(context.quick)
    const ours = decideDhtOursFrom(ROOT)
    context.log(`ours from ${ours.from}: ${ours.why}`)
    // With ours from dist/, every Grape process is plain node (the source needs tsx, so both get it).
    const childBundle = ours.from === 'dist' ? await bundleNodeChild() : undefined
    const lines: string[] = [
      '## DHT at scale: ours (runtime/grape) vs reference (grenache-grape 1.0.0)',
      '',
      `Ours runs from ${ours.from === 'dist' ? 'dist/ (compiled JavaScript, as users run it)' : 'the TypeScript source through tsx'}: ${ours.why}.`,
      childBundle
        ? `The Grape processes of both run on plain node (${childBundle}, node-child.ts bundled); the load generator runs under tsx.`
        : 'The Grape processes of both run under tsx.',
    ]
    const rawOut: unknown[] = []
    for (const plan of s.plans) {
      const rounds: { ours: Session; ref: Session }[] = []
      for (let round = 1; round <= context.rounds; round++) {
        const order: Impl[] = round % 2 === 1 ? ['ours', 'ref'] : ['ref', 'ours']
        const sessions: Partial<Record<Impl, Session>> = {}
        for (const impl of order) {
          sessions[impl] = await runSession(impl, plan, round, context, s, ours.from, childBundle)
        }
        rounds.push(sessions as { ours: Session; ref: Session })
      }
      const table = comparisonTable(
        { a: 'ours', b: 'reference' },
        METRICS,
        rounds.map((r): RoundFigures => ({ a: figuresOf(r.ours.raw), b: figuresOf(r.ref.raw) })),
      )
      lines.push(
        '',
        `### ${plan.grapes} Grapes, ${plan.perProcess} per process`,
        '',
        `${context.rounds} round(s); ratios per round, median [min-max]. ${s.names} names announced one at a time, each watched`,
        `from another Grape (back-to-back lookups, cap ${s.visibilityCapMs / 1000} s), looked up cold then warm on a third;`,
        `burst: ${s.burst} cold (Grape, name) lookups at c=${s.burstConcurrency}; idle CPU over ${s.idleMs / 1000} s after the work.`,
        '',
        table,
      )
      const notes = notesOf(rounds.map((r) => [r.ours.raw, r.ref.raw]))
      if (notes.length > 0) lines.push('', 'Notes:', ...notes.map((note) => `- ${note}`))
      const profiled = rounds[0]
      if (context.profile && profiled) {
        lines.push('', '#### CPU profiles (round 1; the profiler slows the Grapes)', '')
        lines.push(...profiled.ours.profiles, ...profiled.ref.profiles)
      }
      rawOut.push({ plan, rounds: rounds.map((r) => ({ ours: r.ours.raw, ref: r.ref.raw })) })
    }
    return { text: lines.join('\n'), raw: { settings: s, oursFrom: ours, plans: rawOut } }
  },
}
