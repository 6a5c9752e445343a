/**
 * The measurements of one stack, driven from the orchestrator: each figure is one or more timed
 * loads of the sender process, the receiver process waited for, and CPU of both read by PID.
 */
import type { BenchChild } from '../lib/children.js'
import { cpuSnapshot } from '../lib/proc-cpu.js'
import { percentile } from '../lib/stats.js'
import type { SuiteContext } from '../lib/suite.js'
import type { Attempt, JoinFigure, LatencyFigure, RepairFigure, ThroughputFigure } from './model.js'
import {
  type DriveParams,
  type DriveResult,
  drainLimitMs,
  type ExpectResult,
  type JoinResult,
  type OpenReceiver,
  type OpenSender,
  type SenderOpened,
  type Settings,
  type Stack,
} from './protocol.js'

/** How long the repair load runs unrecorded before the measured run (ms). */
const REPAIR_SETTLE_MS = 1000

/** Starting a process or a stack, ms. */
export const START_MS = 30_000
const CALL_SLACK_MS = 30_000

const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms))

export interface Pair {
  sender: BenchChild
  receiver: BenchChild
}

export class StackRun {
  readonly #context: SuiteContext
  readonly #s: Settings
  readonly #pair: Pair
  readonly #stack: Stack
  readonly #label: string

  constructor(context: SuiteContext, s: Settings, pair: Pair, stack: Stack, label: string) {
    this.#context = context
    this.#s = s
    this.#pair = pair
    this.#stack = stack
    this.#label = label
  }

  log(line: string): void {
    this.#context.log(`${this.#label}: ${line}`)
  }

  async open(sender: OpenSender, receiver?: Omit<OpenReceiver, 'address'>): Promise<SenderOpened> {
    const opened = await this.#pair.sender.call<SenderOpened>('open', sender, START_MS + 60_000)
    await this.#pair.receiver.call('open', { address: opened.address, ...receiver }, START_MS)
    return opened
  }

  async close(): Promise<void> {
    await this.#pair.receiver.call('close', {}, START_MS)
    await this.#pair.sender.call('close', {}, START_MS)
  }

  /** One timed load; CPU of both processes from just before the first send to the receiver caught up. */
  async attempt(
    params: DriveParams,
    options: { repairs?: boolean } = {},
  ): Promise<{
    attempt: Attempt
    drive: DriveResult
    expect: ExpectResult
  }> {
    const { sender, receiver } = this.#pair
    await receiver.call('mark', { record: params.record, repairs: options.repairs === true }, START_MS)
    const before = cpuSnapshot([sender.pid, receiver.pid])
    const drive = await sender.call<DriveResult>('run', params, params.durationMs + CALL_SLACK_MS)
    const expect = await receiver.call<ExpectResult>(
      'expect',
      { lastSeq: drive.lastSeq, idleMs: 300, capMs: 5000 },
      CALL_SLACK_MS,
    )
    const after = cpuSnapshot([sender.pid, receiver.pid])
    const endUs = expect.reached ? expect.reachedUs : expect.lastProgressUs
    const drainMs = expect.reached ? Math.max(0, expect.reachedUs - drive.endUs) / 1000 : Number.NaN
    const c = expect.counters
    const keptUp =
      expect.reached &&
      c.resyncs === 0 &&
      c.lost === 0 &&
      c.disconnects === 0 &&
      drainMs <= drainLimitMs(params.durationMs)
    const attempt: Attempt = {
      params: { ...params },
      sent: drive.sent,
      firstSeq: drive.firstSeq,
      lastSeq: drive.lastSeq,
      sender: drive.counters,
      receiver: c,
      offeredDps: (drive.sent * 1e6) / Math.max(1, drive.endUs - drive.startUs),
      appliedDps: (c.applied * 1e6) / Math.max(1, endUs - drive.startUs),
      reached: expect.reached,
      drainMs,
      keptUp,
      senderCpuMs: (after[0] as number) - (before[0] as number),
      receiverCpuMs: (after[1] as number) - (before[1] as number),
      window: { startUs: drive.startUs, endUs },
    }
    return { attempt, drive, expect }
  }

  /** After an attempt that fell behind: until the receiver is at the sender's seq (and live) again. */
  async settle(seq: number): Promise<void> {
    const ok = await this.#pair.receiver.call<boolean>(
      'settle',
      { seq, timeoutMs: this.#stack === 'ours' ? 8000 : 300 },
      CALL_SLACK_MS,
    )
    if (!ok && this.#stack === 'ours') this.log(`the replica did not settle at seq ${seq}`)
  }

  async warmup(): Promise<void> {
    const s = this.#s
    const { drive } = await this.attempt({
      mode: 'paced',
      rateDps: s.warmupDps,
      perTick: s.pacedBatch,
      durationMs: s.warmupMs,
      record: false,
    })
    await this.settle(drive.lastSeq)
  }

  /** Flat out; if that did not keep up, paced below what it managed, lower each time. */
  async throughput(row: string): Promise<ThroughputFigure> {
    const s = this.#s
    const attempts: Attempt[] = []
    const describe = (a: Attempt) =>
      `${a.params.mode === 'flat' ? 'flat out' : `paced ${fmt(a.params.rateDps)}/s`}: offered ${fmt(a.offeredDps)}/s, applied ${fmt(a.appliedDps)}/s, drain ${a.drainMs.toFixed(0)} ms, ${a.keptUp ? 'kept up' : `fell behind (resyncs ${a.receiver.resyncs}: overflow ${a.receiver.resyncsOverflow}, nack-attempts ${a.receiver.resyncsNack}; lost ${a.receiver.lost}, gaps ${a.receiver.gaps}, disconnects ${a.receiver.disconnects})`}; cpu ${fmt(a.senderCpuMs)}/${fmt(a.receiverCpuMs)} ms`
    const flat = (
      await this.attempt({
        mode: 'flat',
        rateDps: 0,
        perTick: s.flatBatch,
        durationMs: s.windowMs,
        record: false,
      })
    ).attempt
    attempts.push(flat)
    this.log(`${row} throughput ${describe(flat)}`)
    let best = flat.keptUp ? flat : undefined
    let rate = 0.85 * Math.min(flat.offeredDps, flat.appliedDps)
    for (let step = 0; !best && step < s.searchSteps; step++) {
      await this.settle(attempts[attempts.length - 1]?.lastSeq ?? 0)
      const paced = (
        await this.attempt({
          mode: 'paced',
          rateDps: Math.round(rate),
          perTick: s.pacedBatch,
          durationMs: s.windowMs,
          record: false,
        })
      ).attempt
      attempts.push(paced)
      this.log(`${row} throughput ${describe(paced)}`)
      if (paced.keptUp) best = paced
      rate = 0.7 * Math.min(rate, paced.appliedDps)
    }
    await this.settle(attempts[attempts.length - 1]?.lastSeq ?? 0)
    return { flat, best, attempts }
  }

  /** Single-delta turns at a low rate; send and apply times joined by seq. */
  async latency(row: string): Promise<LatencyFigure> {
    const s = this.#s
    const { attempt, drive, expect } = await this.attempt({
      mode: 'paced',
      rateDps: s.latencyDps,
      perTick: 1,
      durationMs: s.latencyMs,
      record: true,
    })
    const appliedAt = new Map<number, number>()
    const applied = expect.applied ?? { seqs: [], us: [] }
    for (let i = 0; i < applied.seqs.length; i++) {
      appliedAt.set(applied.seqs[i] as number, applied.us[i] as number)
    }
    const latencies: number[] = []
    let missing = 0
    const sendUs = drive.sendUs ?? []
    for (let i = 0; i < sendUs.length; i++) {
      const at = appliedAt.get(drive.firstSeq + i)
      if (at === undefined) missing++
      else latencies.push(at - (sendUs[i] as number))
    }
    const figure: LatencyFigure = {
      attempt,
      samples: latencies.length,
      missing,
      p50Us: percentile(latencies, 0.5),
      p99Us: percentile(latencies, 0.99),
      maxUs: latencies.length > 0 ? Math.max(...latencies) : Number.NaN,
    }
    this.log(
      `${row} latency at ${s.latencyDps}/s: p50 ${figure.p50Us.toFixed(0)} µs, p99 ${figure.p99Us.toFixed(0)} µs, max ${figure.maxUs.toFixed(0)} µs (${figure.samples} samples, ${missing} missing)`,
    )
    return figure
  }

  /** ours: paced load while the replica drops `lossDrop` of what it receives; repair times. */
  async repair(nackRetryMs?: number): Promise<RepairFigure> {
    const s = this.#s
    const load = { mode: 'paced', rateDps: s.lossDps, perTick: s.lossPerTick, record: false } as const
    // The same load, unrecorded, first: the publisher comes from the throughput runs, and the first
    // repair run of a session paid for their garbage (its p99 was about 1.5 ms above the second's,
    // whichever setting went first).
    await this.attempt({ ...load, durationMs: REPAIR_SETTLE_MS })
    const { attempt, expect } = await this.attempt({ ...load, durationMs: s.lossMs }, { repairs: true })
    const ms = expect.repairs?.ms ?? []
    const nacks = expect.repairs?.nacks ?? []
    const figure: RepairFigure = {
      attempt,
      holes: ms.length,
      p50Ms: percentile(ms, 0.5),
      p99Ms: percentile(ms, 0.99),
      maxMs: ms.length > 0 ? Math.max(...ms) : Number.NaN,
      nacksPerHole: nacks.length > 0 ? nacks.reduce((a, b) => a + b, 0) / nacks.length : Number.NaN,
      multiNack: nacks.filter((count) => count > 1).length,
      ms: ms.map((value) => Math.round(value * 1000) / 1000),
    }
    this.log(
      `repair at ${(s.lossDrop * 100).toFixed(0)}% loss, ${fmt(s.lossDps)} deltas/s${nackRetryMs === undefined ? '' : `, nackRetryMs ${nackRetryMs}`}: ${figure.holes} holes (${histogram(nacks)} NACKs per hole), p50 ${figure.p50Ms.toFixed(2)} ms, p99 ${figure.p99Ms.toFixed(2)} ms, max ${figure.maxMs.toFixed(2)} ms; ${attempt.receiver.injectedDrops} dropped, ${attempt.receiver.resyncs} resyncs, applied ${attempt.reached ? 'all' : 'NOT all'}`,
    )
    return figure
  }

  /** ours: a publisher with `joinLeaves` leaves under load; fresh replicas join by carousel, then http. */
  async join(group: string): Promise<JoinFigure> {
    const s = this.#s
    const { sender, receiver } = this.#pair
    const opened = await sender.call<SenderOpened>(
      'open',
      { group, validate: true, prefill: s.joinLeaves, snapshotStream: true } satisfies OpenSender,
      START_MS + 60_000,
    )
    const stateBytes = opened.stateBytes ?? Number.NaN
    await sleep(s.joinGapMs)
    await sender.call(
      'loadStart',
      {
        mode: 'paced',
        rateDps: s.joinLoadDps,
        perTick: s.pacedBatch,
        durationMs: 3_600_000,
        record: false,
      } satisfies DriveParams,
      START_MS,
    )
    await sleep(200)
    const carousel: JoinResult[] = []
    const http: JoinResult[] = []
    const carouselStats = async () =>
      (await sender.call<CarouselStats | undefined>('carousel', {}, START_MS)) ?? {
        cycles: Number.NaN,
        bytes: Number.NaN,
        cycleMs: Number.NaN,
        cpuMs: Number.NaN,
      }
    let load: DriveResult | undefined
    let wheel: CarouselStats | undefined
    try {
      for (const [mode, into] of [
        ['carousel', carousel],
        ['auto', http],
      ] as const) {
        for (let i = 0; i < s.joins; i++) {
          const before = await carouselStats()
          const result = withNaN(
            await receiver.call<JoinResult>('join', { address: opened.address, mode }, START_MS + 30_000),
          )
          const after = await carouselStats()
          result.carouselCycles = after.cycles - before.cycles
          result.cycleMs = result.carouselCycles > 0 ? after.cycleMs : Number.NaN
          result.senderCpuMs = after.cpuMs - before.cpuMs
          into.push(result)
          this.log(
            `join ${mode === 'auto' ? 'http' : mode} #${i + 1}: ${result.ms.toFixed(1)} ms (started ${result.startedMs.toFixed(1)}, first part ${result.firstPartMs.toFixed(1)}, last part seen ${result.lastPartMs.toFixed(1)}, replica's joinMs ${result.joinMs.toFixed(1)}), ${result.carouselCycles} carousel cycle(s) started (the last took ${result.cycleMs.toFixed(1)} ms on the publisher), ${result.leaves} leaves, ${fmt(result.snapshotBytes)} snapshot bytes, ${result.resyncs} resyncs; CPU publisher ${result.senderCpuMs.toFixed(0)} ms, replica ${result.cpuMs.toFixed(0)} ms`,
          )
          await sleep(s.joinGapMs)
        }
      }
    } finally {
      load = await sender.call<DriveResult>('loadStop', {}, START_MS)
      wheel = await carouselStats()
      await sender.call('close', {}, START_MS)
    }
    return {
      leaves: opened.leaves ?? Number.NaN,
      stateBytes,
      cycleMs: (stateBytes * 1000) / s.snapshotBytesPerSecond,
      carousel,
      http,
      carouselCycles: wheel?.cycles ?? Number.NaN,
      carouselBytes: wheel?.bytes ?? Number.NaN,
      load: { offeredDps: (load.sent * 1e6) / Math.max(1, load.endUs - load.startUs), sent: load.sent },
    }
  }
}

/** The publisher's carousel counters (`carousel` on the sender). */
interface CarouselStats {
  cycles: number
  bytes: number
  /** The last complete cycle, first part sent to last, ms. */
  cycleMs: number
  /** CPU of the sender process so far, ms. */
  cpuMs: number
}

/** `n×count` for each number of NACKs a hole took. */
function histogram(values: readonly number[]): string {
  const counts = new Map<number, number>()
  for (const value of values) counts.set(value, (counts.get(value) ?? 0) + 1)
  return [...counts]
    .sort((a, b) => a[0] - b[0])
    .map(([value, count]) => `${value}:${count}`)
    .join(' ')
}

/** NaN travels over IPC (JSON) as null: back to NaN. */
function withNaN<T extends object>(value: T): T {
  for (const [key, field] of Object.entries(value)) {
    if (field === null) (value as Record<string, unknown>)[key] = Number.NaN
  }
  return value
}

function fmt(value: number): string {
  return Number.isFinite(value) ? Math.round(value).toLocaleString('en-US') : 'n/a'
}
