/**
 * One stack in one round: spawns its sender and receiver processes and measures every figure of
 * that stack (throughput search, latency, and for ours repair under loss and join), then stops both
 * processes by PID.
 */
import { mkdirSync } from 'node:fs'
import { join } from 'node:path'
import { spawnChild } from '../lib/children.js'
import { collectMainThreadProfile, cpuProfileArgs } from '../lib/profiles.js'
import type { SuiteContext } from '../lib/suite.js'
import type { RowResult, StackSession } from './model.js'
import type { ChildConfig, ChildReady, OpenReceiver, Settings, Stack } from './protocol.js'
import { START_MS, StackRun } from './stack-run.js'

/** An upper bound on one session, for the children's lifetime and the suite's budget. */
export function sessionBudgetMs(s: Settings, stack: Stack): number {
  const attempt = s.windowMs + 6000
  const throughput = s.warmupMs + (1 + s.searchSteps) * (attempt + 5000)
  const latency = s.latencyMs + 6000
  if (stack !== 'ours') return 2 * START_MS + throughput + latency
  // Each setting: an unrecorded second of load, then the measured run.
  const repair = 2 * (1000 + s.lossMs + 10_000)
  const joins = 2 * s.joins * (s.joinGapMs + 10_000) + 20_000
  return 2 * START_MS + 2 * throughput + latency + repair + joins
}

/** Runs one stack's session; never throws (a failure is recorded in `failed`). */
export async function runStackSession(
  context: SuiteContext,
  s: Settings,
  stack: Stack,
  round: number,
  group: string,
): Promise<StackSession> {
  const session: StackSession = {
    stack,
    round,
    rows: {},
    wallOffsetUs: { sender: Number.NaN, receiver: Number.NaN },
  }
  const profileDir = context.profile ? join(context.resultsDir, 'profiles') : undefined
  if (profileDir) mkdirSync(profileDir, { recursive: true })
  const profileOf = (role: string) =>
    profileDir ? join(profileDir, `replication-${stack}-${role}-r${round}.cpuprofile`) : undefined
  const lifetimeMs = sessionBudgetMs(s, stack) + 30_000
  const config = JSON.stringify({ stack, settings: s } satisfies ChildConfig)
  const sender = spawnChild({
    name: `replication-${stack}-sender-r${round}`,
    script: 'bench/replication/pub-child.ts',
    args: [config],
    nodeArgs: cpuProfileArgs(profileOf('sender'), s.profileIntervalUs),
    lifetimeMs,
    verbose: context.verbose,
  })
  const receiver = spawnChild({
    name: `replication-${stack}-receiver-r${round}`,
    script: 'bench/replication/sub-child.ts',
    args: [config],
    nodeArgs: cpuProfileArgs(profileOf('receiver'), s.profileIntervalUs),
    lifetimeMs,
    verbose: context.verbose,
  })
  const run = new StackRun(
    context,
    s,
    { sender, receiver },
    stack,
    `round ${round}, ${stack} (pids ${sender.pid}/${receiver.pid})`,
  )
  try {
    const [a, b] = await Promise.all([
      sender.ready<ChildReady>(START_MS),
      receiver.ready<ChildReady>(START_MS),
    ])
    session.wallOffsetUs = { sender: a.wallOffsetUs, receiver: b.wallOffsetUs }
    if (stack === 'ours') {
      for (const row of ['ours', 'ours-novalidate'] as const) {
        const result: RowResult = {}
        session.rows[row] = result
        const opened = await run.open({ group, validate: row === 'ours', prefill: 0, snapshotStream: false })
        await run.warmup()
        result.throughput = await run.throughput(row)
        result.latency = await run.latency(row)
        if (row === 'ours') {
          // Repair under loss: a fresh replica on a lossy network, with the default options and
          // (when set) with another `nackRetryMs`. The second run of a session came out better
          // whatever its setting (the publisher's heap settles), so the order alternates by round.
          const other = s.lossTunedNackRetryMs > 0 ? [s.lossTunedNackRetryMs] : []
          const variants = round % 2 === 1 ? [undefined, ...other] : [...other, undefined]
          for (const nackRetryMs of variants) {
            await receiver.call('close', {}, START_MS)
            await receiver.call(
              'open',
              {
                address: opened.address,
                lossy: { drop: s.lossDrop, seed: s.seed + round },
                ...(nackRetryMs === undefined ? {} : { nackRetryMs }),
              } satisfies OpenReceiver,
              START_MS,
            )
            const figure = await run.repair(nackRetryMs)
            if (nackRetryMs === undefined) result.repair = figure
            else result.repairTuned = figure
          }
        }
        await run.close()
      }
      session.join = await run.join(group)
    } else {
      const result: RowResult = {}
      session.rows[stack] = result
      await run.open({ group, validate: false, prefill: 0, snapshotStream: false })
      await run.warmup()
      result.throughput = await run.throughput(stack)
      result.latency = await run.latency(stack)
      await run.close()
    }
  } catch (err) {
    session.failed = (err as Error)?.message ?? String(err)
    run.log(`FAILED: ${session.failed}`)
  } finally {
    // IPC stop, then SIGTERM, then SIGKILL, each to the child's own PID.
    await Promise.all([sender.stop(), receiver.stop()])
    const senderProfile = profileOf('sender')
    const receiverProfile = profileOf('receiver')
    if (senderProfile && receiverProfile) {
      session.profiles = {
        sender: collectMainThreadProfile(senderProfile, sender.pid) ? senderProfile : undefined,
        receiver: collectMainThreadProfile(receiverProfile, receiver.pid) ? receiverProfile : undefined,
      }
    }
  }
  return session
}
