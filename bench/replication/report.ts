/** The replication suite's Markdown report: one table per figure, notes, and with --profile the profiles. */
import { formatProfileSummary, summarizeProfile } from '../lib/cpu-profile.js'
import { formatNumber } from '../lib/stats.js'
import type { SuiteContext } from '../lib/suite.js'
import { type Attempt, type ReplicationRound, ROW_LABELS, ROWS, type StackSession } from './model.js'
import { drainLimitMs, type Settings } from './protocol.js'
import { mainAttempt, rowOf, stackOf } from './report-cells.js'
import { bytesTable, cpuTable, joinTable, latencyTable, repairTable, throughputTable } from './tables.js'

function profileSection(rounds: readonly ReplicationRound[]): string {
  const first = rounds[0]
  if (!first) return ''
  const lines: string[] = ['### CPU profiles (round 1, measured windows only)', '']
  const add = (session: StackSession | undefined, title: string, attempt: Attempt | undefined) => {
    if (!session?.profiles || !attempt) return
    for (const [role, path] of [
      ['sender', session.profiles.sender],
      ['receiver', session.profiles.receiver],
    ] as const) {
      if (!path) continue
      try {
        lines.push(formatProfileSummary(`${title}, ${role}`, summarizeProfile(path, attempt.window)))
      } catch (err) {
        lines.push(`- ${title}, ${role}: cannot read ${path}: ${(err as Error).message}`)
      }
    }
  }
  for (const row of ROWS) {
    const result = rowOf(first, row)
    add(
      first.sessions[stackOf(row)],
      `${ROW_LABELS[row]}, throughput (${describeAttempt(mainAttempt(result))})`,
      mainAttempt(result),
    )
  }
  for (const row of ROWS) {
    add(first.sessions[stackOf(row)], `${ROW_LABELS[row]}, latency`, rowOf(first, row)?.latency?.attempt)
  }
  const join = first.sessions.ours?.join
  const window = (result: { startUs: number; endUs: number } | undefined) =>
    result ? ({ window: { startUs: result.startUs, endUs: result.endUs } } as Attempt) : undefined
  add(first.sessions.ours, 'join by carousel (the first)', window(join?.carousel[0]))
  add(first.sessions.ours, 'join by http (the first)', window(join?.http[0]))
  add(
    first.sessions.ours,
    `${ROW_LABELS.ours}, repair under loss`,
    first.sessions.ours?.rows.ours?.repair?.attempt,
  )
  return lines.join('\n')
}

function describeAttempt(a: Attempt | undefined): string {
  if (!a) return 'n/a'
  return a.params.mode === 'flat' ? 'flat out' : `paced at ${formatNumber(a.params.rateDps)}/s`
}

export function buildReport(rounds: readonly ReplicationRound[], s: Settings, context: SuiteContext): string {
  const out: string[] = ['## Replication: ours (UDP multicast) vs JSON over UDP vs JSON over WebSocket', '']
  out.push(
    `${rounds.length} round(s); each round a fresh sender and receiver process per stack on 127.0.0.1 (a random 239.255.x.y group per round), stacks in rotated order. Load averages at each round's start: ${rounds.map((round) => round.loadBefore).join(', ')}. Stream: ${formatNumber(s.streamDeltas)} seeded deltas over ${formatNumber(s.ids)} ids (70% upsert, 20% size patch, 10% delete), cycled.`,
  )
  out.push(
    '',
    '### 1. Throughput (deltas applied by the receiver per second)',
    '',
    throughputTable(rounds),
    '',
  )
  out.push(
    `Flat out: ${s.flatBatch} deltas per event-loop turn for ${s.windowMs} ms. An attempt kept up when the receiver applied every delta with 0 resyncs and 0 lost, within ${formatNumber(drainLimitMs(s.windowMs))} ms of the last send. When flat out did not keep up, up to ${s.searchSteps} paced attempts follow (0.85x the lower of offered and applied, then 0.7x each): "sustained" is the first that kept up, a lower bound of the highest rate that does (within those steps).`,
  )
  out.push(
    '',
    `### 2. Latency at ${formatNumber(s.latencyDps)} deltas/s, one delta per turn`,
    '',
    latencyTable(rounds),
    '',
  )
  out.push(
    `Sender apply to receiver apply, per seq, for ${s.latencyMs} ms: the sender stamps each delta just before \`apply\`/\`send\`, the receiver after applying it (ours: the \`change\` event); both on CLOCK_MONOTONIC (\`process.hrtime\`, the same clock in every process of the host), joined by seq in the orchestrator.`,
  )
  out.push('', '### 3. Bytes per delta on the wire', '', bytesTable(rounds), '')
  out.push(
    'Payload bytes per delta: datagrams (ours: `publisher.stats.bytes / deltas`, 32-byte header included; JSON: the datagram) or WebSocket messages with their frame header; IP/UDP/TCP headers not counted. Batched: the flat-out attempt; one per packet: the latency run.',
  )
  out.push(
    '',
    `### 4. Join of ${formatNumber(s.joinLeaves)} leaves under ${formatNumber(s.joinLoadDps)} deltas/s (ours)`,
    '',
    joinTable(rounds, s),
    '',
  )
  out.push(
    '',
    `### 5. Repair at ${(s.lossDrop * 100).toFixed(0)}% loss (ours)`,
    '',
    repairTable(rounds, s),
    '',
  )
  out.push('', '### 6. CPU per 1M deltas', '', cpuTable(rounds), '')
  out.push(
    '',
    'CPU seconds (user + system, /proc/<pid>/stat) of each process from the first send until the receiver caught up, per 1M deltas sent (sender) or applied (receiver), in the attempt the throughput table calls sustained (flat out when nothing kept up). A flat-out sender is busy by construction; a paced one sleeps between turns.',
  )
  const offsets = rounds.flatMap((round) =>
    Object.values(round.sessions).map((session) =>
      Math.abs(session.wallOffsetUs.sender - session.wallOffsetUs.receiver),
    ),
  )
  const failures = rounds.flatMap((round) =>
    Object.values(round.sessions)
      .filter((session) => session.failed)
      .map((session) => `- round ${round.round}, ${session.stack}: FAILED: ${session.failed}`),
  )
  out.push('', '### Notes', '')
  if (failures.length > 0) out.push(...failures)
  if (offsets.some(Number.isFinite)) {
    out.push(
      `- \`performance.timeOrigin + performance.now()\` differs between a sender and its receiver process by up to ${formatNumber(Math.max(...offsets.filter(Number.isFinite)))} µs from the monotonic clock: the error that clock would have added to the latencies above.`,
    )
  }
  out.push(
    "- Ours runs from the TypeScript source through tsx (generated/order-book.gen.ts and runtime/), like the codec suite: esbuild's keepNames wraps named closures in `__name()`, a cost per closure created that the tsc build does not have.",
  )
  if (context.profile) out.push('', profileSection(rounds))
  return out.join('\n')
}
