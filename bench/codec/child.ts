/**
 * One codec measurement in a fresh process (spawned by bench/codec/suite.ts, one per approach per
 * round, so that the JIT state of one approach never weighs on another): the delta figures of ours
 * or JSON, the allocation check of the encoder or the decoder, or the snapshot figures. The job
 * comes in the JSON argument; `run` measures and answers once.
 */
import { performance } from 'node:perf_hooks'
import { childConfig, startChildRuntime } from '../lib/child-runtime.js'
import { monotonicUs } from '../lib/closed-loop.js'
import { allocationCheck } from './allocation.js'
import { jsonPasses, oursPasses, type Pass } from './delta-passes.js'
import {
  type Approach,
  type Checksummed,
  type ChildConfig,
  type ChildReady,
  type ChildResult,
  DELTA_PHASES,
  type DeltaPhase,
  type DeltasResult,
  type PhaseResult,
  type Settings,
} from './protocol.js'
import { snapshotJob } from './snapshot.js'
import { orderDeltas } from './workload.js'

/** The passes' checksums: module state, so that no pass's work can be dropped. */
let sinkHole = 0

/** Untimed passes for `warmupMs`, then whole passes until `windowMs` has gone by. */
function timePhase(pass: Pass, opsPerPass: number, settings: Settings): PhaseResult {
  const warmUntil = performance.now() + settings.warmupMs
  do sinkHole ^= pass()
  while (performance.now() < warmUntil)
  let passes = 0
  let ms = 0
  const startUs = monotonicUs()
  const cpuBefore = process.cpuUsage()
  const begin = performance.now()
  do {
    sinkHole ^= pass()
    passes++
    ms = performance.now() - begin
  } while (ms < settings.windowMs)
  const cpu = process.cpuUsage(cpuBefore)
  const endUs = monotonicUs()
  const ops = passes * opsPerPass
  return {
    ops,
    ms,
    perSecond: (ops * 1000) / ms,
    nsPerOp: (ms * 1e6) / ops,
    cpuNsPerOp: ((cpu.user + cpu.system) * 1000) / ops,
    passes,
    window: { startUs, endUs },
  }
}

function deltasJob(approach: Approach, settings: Settings, round: number): DeltasResult & Checksummed {
  const deltas = orderDeltas({ count: settings.deltas, liveIds: settings.liveIds, seed: settings.seed })
  const { passes, sizes, checked } = approach === 'ours' ? oursPasses(deltas) : jsonPasses(deltas)
  const shift = (round - 1) % DELTA_PHASES.length
  const order = [...DELTA_PHASES.slice(shift), ...DELTA_PHASES.slice(0, shift)]
  const phases: Partial<Record<DeltaPhase, PhaseResult>> = {}
  for (const phase of order) phases[phase] = timePhase(passes[phase], deltas.length, settings)
  return {
    approach,
    order,
    phases: phases as Record<DeltaPhase, PhaseResult>,
    ...sizes,
    roundTripChecked: checked,
    checksum: sinkHole,
  }
}

async function run(config: ChildConfig): Promise<ChildResult & Checksummed> {
  const { job, settings, round } = config
  switch (job.kind) {
    case 'deltas':
      return deltasJob(job.approach, settings, round)
    case 'alloc':
      return await allocationCheck(job.loop, settings)
    case 'snapshot':
      return snapshotJob(job.approach, settings)
  }
}

const config = childConfig<ChildConfig>()
const runtime = startChildRuntime({
  methods: {
    run: () => run(config),
  },
  onStop: async () => undefined,
})
runtime.ready({ pid: process.pid, node: process.version } satisfies ChildReady)
