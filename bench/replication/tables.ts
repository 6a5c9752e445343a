/** The six tables of the replication report: medians over rounds, ratios per round, targets. */
import { formatNumber } from '../lib/stats.js'
import { formatTable } from '../lib/table.js'
import {
  type JoinFigure,
  type RepairFigure,
  type ReplicationRound,
  ROW_LABELS,
  ROWS,
  type RowResult,
} from './model.js'
import type { JoinResult, Settings } from './protocol.js'
import { cell, mainAttempt, median, met, perRound, ratio, ratios, rowOf } from './report-cells.js'

const TARGET_DPS = 1_000_000
const TARGET_P50_US = 100
const TARGET_REPAIR_P99_MS = 5

const sustained = (r: RowResult) => r.throughput?.best?.appliedDps

export function throughputTable(rounds: readonly ReplicationRound[]): string {
  const rows = ROWS.map((row) => {
    const best = perRound(rounds, row, sustained)
    const kept = rounds.filter((round) => rowOf(round, row)?.throughput?.flat.keptUp).length
    const measured = rounds.filter((round) => rowOf(round, row)?.throughput).length
    const none = rounds.filter((round) => {
      const t = rowOf(round, row)?.throughput
      return t && !t.best
    }).length
    const ours = row.startsWith('ours')
    return [
      ROW_LABELS[row],
      `${cell(best)}${none > 0 ? ` (${none} round(s): none kept up)` : ''}`,
      cell(perRound(rounds, row, (r) => r.throughput?.flat.offeredDps)),
      cell(perRound(rounds, row, (r) => r.throughput?.flat.appliedDps)),
      measured > 0 ? `${kept}/${measured}` : 'n/a',
      row === 'json-udp' ? '' : ratio(ratios(rounds, row, 'json-udp', sustained)),
      row === 'json-ws' ? '' : ratio(ratios(rounds, row, 'json-ws', sustained)),
      ours ? `>= ${formatNumber(TARGET_DPS)}/s` : '',
      ours ? met(median(best), (v) => v >= TARGET_DPS) : '',
    ]
  })
  return formatTable(
    [
      'stack',
      'sustained deltas/s',
      'flat out: offered/s',
      'flat out: applied/s',
      'kept up flat out',
      'vs JSON/UDP',
      'vs JSON/WS',
      'target',
      'met',
    ],
    rows,
    ['left', 'right', 'right', 'right', 'right', 'right', 'right', 'left', 'left'],
  )
}

export function latencyTable(rounds: readonly ReplicationRound[]): string {
  const p50 = (r: RowResult) => r.latency?.p50Us
  const rows = ROWS.map((row) => {
    const ours = row.startsWith('ours')
    const values = perRound(rounds, row, p50)
    const samples = perRound(rounds, row, (r) => r.latency?.samples).reduce((a, b) => a + (b || 0), 0)
    const missing = perRound(rounds, row, (r) => r.latency?.missing).reduce((a, b) => a + (b || 0), 0)
    return [
      ROW_LABELS[row],
      cell(values, ' µs'),
      cell(
        perRound(rounds, row, (r) => r.latency?.p99Us),
        ' µs',
      ),
      cell(
        perRound(rounds, row, (r) => r.latency?.maxUs),
        ' µs',
      ),
      `${samples}${missing > 0 ? ` (${missing} missing)` : ''}`,
      row === 'json-udp' ? '' : ratio(ratios(rounds, row, 'json-udp', p50)),
      row === 'json-ws' ? '' : ratio(ratios(rounds, row, 'json-ws', p50)),
      ours ? `p50 <= ${TARGET_P50_US} µs` : '',
      ours ? met(median(values), (v) => v <= TARGET_P50_US) : '',
    ]
  })
  return formatTable(
    ['stack', 'p50', 'p99', 'max', 'samples', 'p50 vs JSON/UDP', 'p50 vs JSON/WS', 'target', 'met'],
    rows,
    ['left', 'right', 'right', 'right', 'right', 'right', 'right', 'left', 'left'],
  )
}

export function bytesTable(rounds: readonly ReplicationRound[]): string {
  const batched = (r: RowResult) => {
    const a = r.throughput?.flat
    return a ? a.sender.bytes / a.sender.deltas : undefined
  }
  const perPacket = (r: RowResult) => {
    const a = r.throughput?.flat
    return a ? a.sender.deltas / a.sender.packets : undefined
  }
  const single = (r: RowResult) => {
    const a = r.latency?.attempt
    return a ? a.sender.bytes / a.sender.deltas : undefined
  }
  const rows = ROWS.filter((row) => row !== 'ours-novalidate').map((row) => [
    ROW_LABELS[row],
    cell(perRound(rounds, row, batched)),
    cell(perRound(rounds, row, perPacket)),
    cell(perRound(rounds, row, single)),
    row === 'json-udp' ? '' : ratio(ratios(rounds, row, 'json-udp', batched)),
    row === 'json-ws' ? '' : ratio(ratios(rounds, row, 'json-ws', batched)),
    row === 'json-udp' ? '' : ratio(ratios(rounds, row, 'json-udp', single)),
  ])
  return formatTable(
    [
      'stack',
      'bytes/delta, batched',
      'deltas per packet',
      'bytes/delta, one per packet',
      'batched vs JSON/UDP',
      'batched vs JSON/WS',
      'one per packet vs JSON/UDP',
    ],
    rows,
  )
}

export function joinTable(rounds: readonly ReplicationRound[], s: Settings): string {
  const joins = rounds.map((round) => round.sessions.ours?.join)
  const each = (pick: (j: JoinFigure) => number) => joins.map((j) => (j ? pick(j) : Number.NaN))
  const of = (mode: 'carousel' | 'http', f: (r: JoinResult) => number | undefined) =>
    each((j) => median(j[mode].map((r) => f(r) ?? Number.NaN)))
  const cycle = each((j) => j.cycleMs)
  const targetMedian = median(cycle.map((c) => 1.2 * c + 50))
  const carousel = of('carousel', (r) => r.ms)
  const row = (label: string, mode: 'carousel' | 'http', target: string, verdict: string) => [
    label,
    cell(
      of(mode, (r) => r.ms),
      ' ms',
    ),
    cell(
      of(mode, (r) => r.startedMs),
      ' ms',
    ),
    mode === 'carousel'
      ? cell(
          of(mode, (r) => r.firstPartMs),
          ' ms',
        )
      : '',
    mode === 'carousel'
      ? cell(
          of(mode, (r) => r.lastPartMs),
          ' ms',
        )
      : '',
    mode === 'carousel' ? cell(of(mode, (r) => r.carouselCycles)) : '',
    mode === 'carousel'
      ? cell(
          of(mode, (r) => r.cycleMs),
          ' ms',
        )
      : '',
    cell(of(mode, (r) => r.snapshotBytes)),
    target,
    verdict,
  ]
  const table = formatTable(
    [
      'join',
      'start() to synced',
      'start() resolved',
      'first part seen',
      'last part seen',
      'carousel cycles',
      'cycle measured',
      'snapshot bytes received',
      'target',
      'met',
    ],
    [
      row(
        'carousel (`join: carousel`)',
        'carousel',
        `<= 1.2 x cycle + 50 ms = ${formatNumber(targetMedian)} ms`,
        met(median(carousel), (v) => v <= targetMedian),
      ),
      row("snapshot stream (`snapshotStream: 'http'`)", 'http', '', ''),
    ],
    ['left', 'right', 'right', 'right', 'right', 'right', 'right', 'right', 'left', 'left'],
  )
  const wire = each((j) => j.carouselBytes / j.carouselCycles)
  const measured = of('carousel', (r) => r.cycleMs)
  const pace = measured.map((m, i) => m / (cycle[i] as number))
  const first = (mode: 'carousel' | 'http') => each((j) => j[mode][0]?.ms ?? Number.NaN)
  return [
    table,
    '',
    `Times in ms after \`start()\`, the median of each round's ${s.joins} join(s), then over rounds; "last part seen" is the last time (1 ms polling) the replica's snapshot bytes grew before \`synced\`: the install (and the last part) take the rest. State: ${cell(each((j) => j.leaves))} leaves, ${cell(each((j) => j.stateBytes))} bytes as a codec snapshot; carousel cycle = state bytes / ${formatNumber(s.snapshotBytesPerSecond)} B/s = ${cell(cycle, ' ms')} (on the wire, with packet headers: ${cell(wire)} bytes per cycle); the target uses this computed cycle. "Cycle measured" is the publisher's own clock for the cycle that served the join, from its first part sent to its last (\`stats.snapshotCycleMs\`): ${cell(measured, ' ms')}, ${cell(pace, 'x')} the computed one (1.2 x measured + 50 ms = ${formatNumber(median(measured.map((c) => 1.2 * c + 50)))} ms). Load meanwhile: ${cell(each((j) => j.load.offeredDps))} deltas/s. CPU per carousel join (\`start()\` to \`synced\`): publisher process ${cell(
      of('carousel', (r) => r.senderCpuMs),
      ' ms',
    )} (its load included), replica process ${cell(
      of('carousel', (r) => r.cpuMs),
      ' ms',
    )}; per http join: ${cell(
      of('http', (r) => r.senderCpuMs),
      ' ms',
    )} and ${cell(
      of('http', (r) => r.cpuMs),
      ' ms',
    )}. The first join of each kind in a process: carousel ${cell(first('carousel'), ' ms')}, http ${cell(first('http'), ' ms')}.`,
  ].join('\n')
}

export function repairTable(rounds: readonly ReplicationRound[], s: Settings): string {
  const pick = (which: 'repair' | 'repairTuned', f: (r: RepairFigure) => number) =>
    perRound(rounds, 'ours', (r) => {
      const figure = r[which]
      return figure ? f(figure) : undefined
    })
  const both = (f: (r: RepairFigure) => number, unit = '') => [
    cell(pick('repair', f), unit),
    cell(pick('repairTuned', f), unit),
  ]
  const p99 = pick('repair', (r) => r.p99Ms)
  const resyncs = pick('repair', (r) => r.attempt.receiver.resyncs)
  const reached = (which: 'repair' | 'repairTuned') =>
    `${rounds.filter((round) => round.sessions.ours?.rows.ours?.[which]?.attempt.reached).length}/${rounds.length} rounds`
  const rows = [
    ['holes repaired', ...both((r) => r.holes), '', ''],
    ['repair p50', ...both((r) => r.p50Ms, ' ms'), '', ''],
    [
      'repair p99',
      ...both((r) => r.p99Ms, ' ms'),
      `<= ${TARGET_REPAIR_P99_MS} ms`,
      met(median(p99), (v) => v <= TARGET_REPAIR_P99_MS),
    ],
    ['repair max', ...both((r) => r.maxMs, ' ms'), '', ''],
    ['NACKs per hole', ...both((r) => r.nacksPerHole), '', ''],
    ['holes with more than one NACK', ...both((r) => r.multiNack), '', ''],
    ['datagrams dropped by the injector', ...both((r) => r.attempt.receiver.injectedDrops), '', ''],
    ['resyncs', ...both((r) => r.attempt.receiver.resyncs), '0', met(median(resyncs), (v) => v === 0)],
    ['all deltas applied', reached('repair'), reached('repairTuned'), '', ''],
  ]
  return [
    formatTable(
      ['figure (ours)', 'defaults', `nackRetryMs: ${s.lossTunedNackRetryMs}`, 'target', 'met'],
      rows,
      ['left', 'right', 'right', 'left', 'left'],
    ),
    '',
    `Load: ${formatNumber(s.lossDps)} deltas/s in turns of ${s.lossPerTick} (one datagram each) for ${s.lossMs} ms; the replica drops ${(s.lossDrop * 100).toFixed(0)}% of every datagram it receives (seeded \`lossyNetwork\`, \`on: 'receive'\`: data, retransmits, heartbeats and control alike). A "hole" is one \`grenache:replica:repair\` event: one per run of missing seqs, from when the replica saw it missing to when it applied past it. The target is checked on the defaults. Each run follows 1 s of the same load unrecorded (the publisher comes from the throughput runs: without it the first repair run of a round came out about 1.5 ms worse at p99 than the second, whatever its setting), and the two settings alternate which goes first from round to round. JSON over UDP has no repair: every lost datagram's deltas are gone; TCP does not lose.`,
  ].join('\n')
}

export function cpuTable(rounds: readonly ReplicationRound[]): string {
  const senderCpu = (r: RowResult) => {
    const a = mainAttempt(r)
    return a ? (a.senderCpuMs / a.sent) * 1000 : undefined
  }
  const receiverCpu = (r: RowResult) => {
    const a = mainAttempt(r)
    return a ? (a.receiverCpuMs / Math.max(1, a.receiver.applied)) * 1000 : undefined
  }
  const rows = ROWS.map((row) => [
    ROW_LABELS[row],
    cell(perRound(rounds, row, (r) => mainAttempt(r)?.appliedDps)),
    cell(perRound(rounds, row, senderCpu), ' s'),
    cell(perRound(rounds, row, receiverCpu), ' s'),
    row === 'json-udp' ? '' : ratio(ratios(rounds, row, 'json-udp', senderCpu)),
    row === 'json-udp' ? '' : ratio(ratios(rounds, row, 'json-udp', receiverCpu)),
    row === 'json-ws' ? '' : ratio(ratios(rounds, row, 'json-ws', senderCpu)),
    row === 'json-ws' ? '' : ratio(ratios(rounds, row, 'json-ws', receiverCpu)),
  ])
  return formatTable(
    [
      'stack',
      'at deltas/s',
      'sender CPU per 1M',
      'receiver CPU per 1M',
      'sender vs JSON/UDP',
      'receiver vs JSON/UDP',
      'sender vs JSON/WS',
      'receiver vs JSON/WS',
    ],
    rows,
  )
}
