/**
 * The codec suite: the generated order_book state codec against JSON. Each round runs six jobs
 * (deltas ours/JSON, the allocation check of the encoder and of the decoder, snapshot ours/JSON),
 * each in a fresh child process (bench/codec/child.ts) spawned and stopped by PID, one at a time.
 * See bench/README.md, "Codec suite".
 */
import { mkdirSync } from 'node:fs'
import { join } from 'node:path'
import { spawnChild } from '../lib/children.js'
import { formatProfileSummary, summarizeProfile } from '../lib/cpu-profile.js'
import { collectMainThreadProfile, cpuProfileArgs } from '../lib/profiles.js'
import type { Suite, SuiteContext } from '../lib/suite.js'
import type {
  AllocResult,
  Approach,
  ChildConfig,
  ChildReady,
  ChildResult,
  CodecRound,
  DeltasResult,
  Job,
  Settings,
  SnapshotFigure,
  SnapshotResult,
} from './protocol.js'
import { settingsFor } from './protocol.js'
import { buildReport } from './report.js'

const START_MS = 30_000
/**
 * The allocation check's process: `gc()` before each window, and a small young generation so that
 * a window without a scavenge bounds its allocation tightly (bench/codec/allocation.ts).
 */
const ALLOC_NODE_ARGS = ['--expose-gc', '--max-semi-space-size=1', '--min-semi-space-size=1']
/** A job measures for a few seconds; this bounds a stuck one. */
const JOB_TIMEOUT_MS = 90_000

function jobId(job: Job): string {
  return `${job.kind}-${job.kind === 'alloc' ? job.loop : job.approach}`
}

/** Ours first in odd rounds, JSON first in even ones (and the encoder's check first, then last). */
function jobsOf(round: number): Job[] {
  const approaches: Approach[] = round % 2 === 1 ? ['ours', 'json'] : ['json', 'ours']
  const loops: ('encode' | 'decode')[] = round % 2 === 1 ? ['encode', 'decode'] : ['decode', 'encode']
  return [
    ...approaches.map((approach): Job => ({ kind: 'deltas', approach })),
    ...loops.map((loop): Job => ({ kind: 'alloc', loop })),
    ...approaches.map((approach): Job => ({ kind: 'snapshot', approach })),
  ]
}

async function runJob(context: SuiteContext, settings: Settings, round: number, job: Job, into: CodecRound) {
  const id = jobId(job)
  // The allocation check is not profiled: the profiler allocates in the measured process.
  const profileDir =
    context.profile && job.kind !== 'alloc' ? join(context.resultsDir, 'profiles') : undefined
  if (profileDir) mkdirSync(profileDir, { recursive: true })
  const profile = profileDir ? join(profileDir, `codec-${id}-r${round}.cpuprofile`) : undefined
  const child = spawnChild({
    name: `codec-${id}-r${round}`,
    script: 'bench/codec/child.ts',
    args: [JSON.stringify({ job, settings, round } satisfies ChildConfig)],
    nodeArgs: [
      ...(job.kind === 'alloc' ? ALLOC_NODE_ARGS : []),
      ...cpuProfileArgs(profile, settings.profileIntervalUs),
    ],
    lifetimeMs: START_MS + JOB_TIMEOUT_MS + 10_000,
    verbose: context.verbose,
  })
  const label = `round ${round}, ${id} (pid ${child.pid})`
  try {
    await child.ready<ChildReady>(START_MS)
    const result = await child.call<ChildResult>('run', {}, JOB_TIMEOUT_MS)
    store(into, job, result)
    context.log(`${label}: ${describe(result)}`)
  } catch (err) {
    into.failed[id] = (err as Error)?.message ?? String(err)
    context.log(`${label}: FAILED: ${into.failed[id]}`)
  } finally {
    // IPC stop, then SIGTERM, then SIGKILL, all to this child's PID.
    await child.stop()
    if (profile && collectMainThreadProfile(profile, child.pid)) into.profiles[id] = profile
  }
}

function store(into: CodecRound, job: Job, result: ChildResult): void {
  if (job.kind === 'deltas') into.deltas[job.approach] = result as DeltasResult
  else if (job.kind === 'alloc') into.alloc[job.loop] = result as AllocResult
  else into.snapshot[job.approach] = result as SnapshotResult
}

function describe(result: ChildResult): string {
  if ('phases' in result) {
    const { roundTrip, encode, decode } = result.phases
    const rate = (perSecond: number) => `${(perSecond / 1e6).toFixed(2)} M/s`
    return `encode+decode ${rate(roundTrip.perSecond)}, encode ${rate(encode.perSecond)}, decode ${rate(decode.perSecond)}, ${result.bytesPerDelta.toFixed(1)} B/delta`
  }
  if ('long' in result) {
    return `${result.long.ops} ${result.loop}s: ${result.long.minorGcs} scavenges, young +${result.long.youngGrowthBytes} B, other spaces +${result.long.otherGrowthBytes} B; short window ${result.short.ops} ops: ${result.short.bytesPerOp?.toFixed(2) ?? 'n/a (GC ran)'} B/op`
  }
  const { encode, encodePresized, decode } = result.figures
  const ms = (figure: SnapshotFigure | undefined) => (figure ? `${figure.wallMs.toFixed(1)} ms` : 'n/a')
  const presized = encodePresized ? ` (pre-sized ${ms(encodePresized)})` : ''
  return `${result.leaves} leaves: encode ${ms(encode)}${presized}, decode ${ms(decode)}, ${result.bytes} B`
}

/** Round 1's profiles: top self time in each measured window. */
function profileSummaries(first: CodecRound | undefined): string[] {
  if (!first) return []
  const lines: string[] = []
  for (const approach of ['ours', 'json'] as const) {
    const path = first.profiles[`deltas-${approach}`]
    const result = first.deltas[approach]
    if (path && result) {
      for (const phase of result.order) {
        const summary = summarizeProfile(path, result.phases[phase].window, 10)
        lines.push(formatProfileSummary(`${approach} deltas, ${phase}`, summary))
      }
    }
    const snapshotPath = first.profiles[`snapshot-${approach}`]
    const snapshot = first.snapshot[approach]
    if (snapshotPath && snapshot) {
      for (const [name, figure] of Object.entries(snapshot.figures)) {
        const summary = summarizeProfile(snapshotPath, figure.window, 10)
        lines.push(formatProfileSummary(`${approach} snapshot, ${name}`, summary))
      }
    }
  }
  return lines
}

export const codecSuite: Suite = {
  name: 'codec',
  description: 'the generated order_book state codec against JSON: deltas, allocation, snapshots',
  budgetMs: (context) => context.rounds * jobsOf(1).length * (START_MS + JOB_TIMEOUT_MS + 15_000),
  async run(context) {
    const settings = settingsFor(context.quick)
    const rounds: CodecRound[] = []
    for (let round = 1; round <= context.rounds; round++) {
      context.log(`codec round ${round}/${context.rounds}`)
      const jobs = jobsOf(round)
      const into: CodecRound = {
        round,
        order: jobs.map(jobId),
        deltas: {},
        alloc: {},
        snapshot: {},
        failed: {},
        profiles: {},
      }
      for (const job of jobs) await runJob(context, settings, round, job, into)
      rounds.push(into)
    }
    const profiles = profileSummaries(rounds[0])
    return { text: buildReport(rounds, settings, profiles), raw: { settings, rounds } }
  },
}
