/**
 * The codec suite's report: delta throughput and size against JSON (medians over rounds, ratios
 * per round then median [min–max], targets shown and never enforced), the allocation section
 * (allocation-report.ts), and snapshots.
 */
import { formatNumber, type Summary, summarize } from '../lib/stats.js'
import { formatTable } from '../lib/table.js'
import { allocationSection } from './allocation-report.js'
import {
  type CodecRound,
  type DeltaPhase,
  type DeltasResult,
  type Settings,
  type SnapshotFigureName,
  type SnapshotResult,
  TARGETS,
} from './protocol.js'

type Getter<T> = (value: T) => number | undefined

function across<T>(values: (T | undefined)[], pick: Getter<T>): Summary {
  return summarize(values.map((value) => (value === undefined ? Number.NaN : (pick(value) ?? Number.NaN))))
}

/** Median with the spread over rounds: `7.31 M (±3%)`. */
function cell(summary: Summary, format: (value: number) => string = formatNumber): string {
  if (summary.n === 0) return 'n/a'
  const value = format(summary.median)
  return summary.n > 1 ? `${value} (±${(summary.spread * 100).toFixed(0)}%)` : value
}

function ratioText(value: number): string {
  return value >= 10 ? value.toFixed(1) : value >= 0.1 ? value.toFixed(2) : value.toPrecision(2)
}

/** A ratio computed per round: `10.6x [10.2–11.0]`. */
function ratioCell(summary: Summary): string {
  if (summary.n === 0) return 'n/a'
  const ratio = `${ratioText(summary.median)}x`
  return summary.n > 1 ? `${ratio} [${ratioText(summary.min)}–${ratioText(summary.max)}]` : ratio
}

function perRound<T>(rounds: readonly CodecRound[], get: (round: CodecRound) => T | undefined) {
  return rounds.map(get)
}

const millions = (value: number) => `${(value / 1e6).toFixed(2)} M`
const yes = (met: boolean) => (met ? 'yes' : 'NO')

/** `numerator / denominator`, each from the same round, then summarised over the rounds. */
function perRoundRatio(
  rounds: readonly CodecRound[],
  numerator: (round: CodecRound) => number | undefined,
  denominator: (round: CodecRound) => number | undefined,
): Summary {
  return summarize(
    rounds.map((round) => (numerator(round) ?? Number.NaN) / (denominator(round) ?? Number.NaN)),
  )
}

/** `pick` of one approach's result in a round. */
function sideOf<T>(get: (round: CodecRound) => T | undefined, pick: (value: T) => number | undefined) {
  return (round: CodecRound) => {
    const value = get(round)
    return value === undefined ? undefined : pick(value)
  }
}

const oursDeltas = (round: CodecRound) => round.deltas.ours
const jsonDeltas = (round: CodecRound) => round.deltas.json

/** The rows of both delta tables: [label, ours phase, JSON phase]. */
const DELTA_ROWS: [string, DeltaPhase, DeltaPhase][] = [
  ['encode + decode', 'roundTrip', 'roundTrip'],
  ['encode only', 'encode', 'encode'],
  ['decode only', 'decode', 'decode'],
  ['encode + decode; ours: `new ByteReader` per delta', 'roundTripVariant', 'roundTrip'],
  ['encode + decode; JSON: one reused buffer', 'roundTrip', 'roundTripVariant'],
  ['validate + encode; ours: generated `parseDelta`, JSON: zod', 'validateEncode', 'validateEncode'],
  ['validate + encode; ours: zod `stateParsers`', 'zodValidateEncode', 'validateEncode'],
]

function deltaTable(rounds: readonly CodecRound[]): string {
  const ours = perRound(rounds, (round) => round.deltas.ours)
  const json = perRound(rounds, (round) => round.deltas.json)
  const rateOf = (name: DeltaPhase) => (result: DeltasResult) => result.phases[name]?.perSecond
  const nsOf = (name: DeltaPhase) => (result: DeltasResult) => result.phases[name]?.nsPerOp
  const rows = DELTA_ROWS.map(([label, a, b], i) => {
    const ratio = perRoundRatio(rounds, sideOf(oursDeltas, rateOf(a)), sideOf(jsonDeltas, rateOf(b)))
    const rate = across(ours, rateOf(a))
    const met =
      i === 0 && rate.n > 0
        ? `${yes(rate.median >= TARGETS.roundTripPerSecond)}; ${yes(ratio.median >= TARGETS.roundTripOverJson)}`
        : ''
    return [
      label,
      cell(rate, millions),
      cell(across(ours, nsOf(a))),
      cell(across(json, rateOf(b)), millions),
      cell(across(json, nsOf(b))),
      ratioCell(ratio),
      i === 0 ? `≥ ${TARGETS.roundTripPerSecond / 1e6} M/s; ≥ ${TARGETS.roundTripOverJson}x JSON` : '',
      met,
    ]
  })
  return formatTable(
    [
      'wall clock',
      'ours deltas/s',
      'ours ns/delta',
      'JSON deltas/s',
      'JSON ns/delta',
      'ours/JSON',
      'target',
      'met',
    ],
    rows,
    ['left', 'right', 'right', 'right', 'right', 'right', 'left', 'left'],
  )
}

function deltaCpuTable(rounds: readonly CodecRound[]): string {
  const ours = perRound(rounds, (round) => round.deltas.ours)
  const json = perRound(rounds, (round) => round.deltas.json)
  const cpuOf = (name: DeltaPhase) => (result: DeltasResult) => result.phases[name]?.cpuNsPerOp
  const perCpuSecond = (name: DeltaPhase) => (result: DeltasResult) => {
    const ns = result.phases[name]?.cpuNsPerOp
    return ns === undefined ? undefined : 1e9 / ns
  }
  const rows = DELTA_ROWS.map(([label, a, b], i) => {
    const ratio = perRoundRatio(
      rounds,
      sideOf(oursDeltas, perCpuSecond(a)),
      sideOf(jsonDeltas, perCpuSecond(b)),
    )
    const rate = across(ours, perCpuSecond(a))
    const met =
      i === 0 && rate.n > 0
        ? `${yes(rate.median >= TARGETS.roundTripPerSecond)}; ${yes(ratio.median >= TARGETS.roundTripOverJson)}`
        : ''
    return [
      label,
      cell(across(ours, cpuOf(a))),
      cell(rate, millions),
      cell(across(json, cpuOf(b))),
      cell(across(json, perCpuSecond(b)), millions),
      ratioCell(ratio),
      i === 0
        ? `≥ ${TARGETS.roundTripPerSecond / 1e6} M per CPU-s; ≥ ${TARGETS.roundTripOverJson}x JSON`
        : '',
      met,
    ]
  })
  return formatTable(
    [
      'CPU time',
      'ours CPU ns/delta',
      'ours per CPU-s',
      'JSON CPU ns/delta',
      'JSON per CPU-s',
      'ours/JSON',
      'target',
      'met',
    ],
    rows,
    ['left', 'right', 'right', 'right', 'right', 'right', 'left', 'left'],
  )
}

function bytesTable(rounds: readonly CodecRound[]): string {
  const ours = perRound(rounds, (round) => round.deltas.ours)
  const json = perRound(rounds, (round) => round.deltas.json)
  const row = (label: string, pick: Getter<DeltasResult>, target = '', met?: (ratio: number) => boolean) => {
    const ratio = perRoundRatio(rounds, sideOf(jsonDeltas, pick), sideOf(oursDeltas, pick))
    return [
      label,
      cell(across(ours, pick)),
      cell(across(json, pick)),
      ratioCell(ratio),
      target,
      met && ratio.n > 0 ? yes(met(ratio.median)) : '',
    ]
  }
  const share = (result: DeltasResult | undefined, op: 'upsert' | 'patch' | 'delete') =>
    result ? `${(result.mix[op] * 100).toFixed(1)}%` : '?'
  const mix = ours.find((result) => result !== undefined)
  return formatTable(
    ['bytes per delta', 'ours', 'JSON', 'JSON/ours', 'target', 'met'],
    [
      row(
        'mean over the workload',
        (result) => result.bytesPerDelta,
        `JSON/ours ≥ ${TARGETS.jsonBytesOverOurs} (ours ≤ 1/${TARGETS.jsonBytesOverOurs} of JSON)`,
        (ratio) => ratio >= TARGETS.jsonBytesOverOurs,
      ),
      row(`upsert (${share(mix, 'upsert')})`, (result) => result.bytesByOp.upsert),
      row(`patch of size (${share(mix, 'patch')})`, (result) => result.bytesByOp.patch),
      row(`delete (${share(mix, 'delete')})`, (result) => result.bytesByOp.delete),
    ],
    ['left', 'right', 'right', 'right', 'left', 'left'],
  )
}

function snapshotTable(rounds: readonly CodecRound[]): string {
  const ours = perRound(rounds, (round) => round.snapshot.ours)
  const json = perRound(rounds, (round) => round.snapshot.json)
  const oursSnapshot = (round: CodecRound) => round.snapshot.ours
  const jsonSnapshot = (round: CodecRound) => round.snapshot.json
  const jsonOverOurs = (jsonPick: Get, oursPick: Get) =>
    ratioCell(perRoundRatio(rounds, sideOf(jsonSnapshot, jsonPick), sideOf(oursSnapshot, oursPick)))
  type Get = Getter<SnapshotResult>
  const wall =
    (name: SnapshotFigureName): Get =>
    (r) =>
      r.figures[name]?.wallMs
  const cpu =
    (name: SnapshotFigureName): Get =>
    (r) =>
      r.figures[name]?.cpuMs
  const sum =
    (pick: (name: SnapshotFigureName) => Get): Get =>
    (r) => {
      const encode = pick('encode')(r)
      const decode = pick('decode')(r)
      return encode === undefined || decode === undefined ? undefined : encode + decode
    }
  const timeRow = (label: string, oursWall: Get, oursCpu: Get, jsonWall: Get, jsonCpu: Get) => [
    label,
    cell(across(ours, oursWall)),
    cell(across(ours, oursCpu)),
    cell(across(json, jsonWall)),
    cell(across(json, jsonCpu)),
    jsonOverOurs(jsonWall, oursWall),
    jsonOverOurs(jsonCpu, oursCpu),
  ]
  const sizeRow = (label: string, pick: Get) => [
    label,
    cell(across(ours, pick)),
    '',
    cell(across(json, pick)),
    '',
    jsonOverOurs(pick, pick),
    '',
  ]
  return formatTable(
    [
      'snapshot of the book',
      'ours ms',
      'ours CPU ms',
      'JSON ms',
      'JSON CPU ms',
      'JSON/ours',
      'JSON/ours CPU',
    ],
    [
      timeRow(
        'encode (ours: growable writer from 64 KiB)',
        wall('encode'),
        cpu('encode'),
        wall('encode'),
        cpu('encode'),
      ),
      timeRow(
        'encode (ours: one reused buffer sized by the limits)',
        wall('encodePresized'),
        cpu('encodePresized'),
        wall('encode'),
        cpu('encode'),
      ),
      timeRow('decode', wall('decode'), cpu('decode'), wall('decode'), cpu('decode')),
      timeRow('encode + decode (growable)', sum(wall), sum(cpu), sum(wall), sum(cpu)),
      sizeRow('bytes', (r) => r.bytes),
      sizeRow('bytes per leaf', (r) => r.bytes / r.leaves),
    ],
  )
}

export function buildReport(rounds: readonly CodecRound[], settings: Settings, profiles: string[]): string {
  const n = rounds.length
  const failures = rounds.flatMap((round) =>
    Object.entries(round.failed).map(([job, why]) => `- round ${round.round}, ${job}: ${why.split('\n')[0]}`),
  )
  const sections = [
    `## Codec: generated order_book codec against JSON (${n} round(s), medians over rounds)`,
    '',
    `Every job runs in a fresh process (\`node --import tsx\`, the TypeScript source), one per approach per round; ours first in odd rounds, JSON first in even ones. Workload: ${formatNumber(settings.deltas)} pre-generated deltas (seeded), ${formatNumber(settings.liveIds)} order ids, prices 10 000 ± 2 000 ticks, sizes 1–99; cycled. Each figure: ${settings.warmupMs} ms of untimed passes, then whole passes for at least ${formatNumber(settings.windowMs)} ms. Every delta was checked to decode back equal before timing.`,
    '',
    '### Deltas',
    '',
    deltaTable(rounds),
    '',
    deltaCpuTable(rounds),
    '',
    'ours: `encodeDelta` into one `ByteWriter` over a buffer of `maxDeltaBytes` (reset per delta), `decodeDelta` from one `ByteReader` over the same bytes (its `pos`/`end` set per delta); decode only reads every delta back to back from one frame. JSON: `Buffer.from(JSON.stringify(delta))` then `JSON.parse(bytes.toString())`; decode only parses each delta’s slice of one frame. ours/JSON is deltas/s (wall clock, then per CPU-second), per round. CPU time is `process.cpuUsage()` over the window (every thread of the process, GC helpers included): on a busy machine it changes less than the wall clock, which counts the time the process waited for a core. Rows 4 and 5 change one side only, against the other side’s first row. The validate rows run `parseDelta` before encoding, as a publisher with `validate: true` does: ours with the generated validator, then with zod’s `stateParsers` (the reference); the JSON side validates with zod.',
    '',
    bytesTable(rounds),
    '',
    ...allocationSection(rounds, settings),
    '### Snapshot',
    '',
    snapshotTable(rounds),
    '',
    `${formatNumber(settings.snapshotLeaves)} random resting orders in a \`Map\` (ids \`o-100000\`…\`o-999999\`); ${settings.snapshotWarmups} untimed then ${settings.snapshotReps} timed repetitions per figure, median. ours: \`encodeSnapshot(seq, map, writer)\`, \`decodeSnapshot(new ByteReader(bytes))\`. JSON: \`Buffer.from(JSON.stringify({ seq, entries: [...map] }))\`, \`JSON.parse(bytes.toString())\`. JSON/ours > 1 means ours is faster or smaller.`,
  ]
  if (profiles.length > 0) {
    sections.push('', '### Profiles (round 1, measured windows)', '', ...profiles)
  }
  if (failures.length > 0) sections.push('', '### Notes', '', ...failures)
  return sections.join('\n')
}
