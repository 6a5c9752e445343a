/**
 * The codec suite's allocation section: every round's GC counts and young-generation bytes of the
 * encoder's and the decoder's loops (not medians: the claim is "none in any round"), and the
 * bytes allocated per encode that they prove.
 */
import { formatNumber } from '../lib/stats.js'
import { formatTable } from '../lib/table.js'
import type { AllocResult, CodecRound, Settings } from './protocol.js'

function allocTable(rounds: readonly CodecRound[]): string {
  const each = (results: (AllocResult | undefined)[], pick: (result: AllocResult) => string) =>
    results.map((result) => (result ? pick(result) : 'n/a')).join(' / ')
  const bytes = (value: number | null) =>
    value === null ? 'GC ran' : Math.abs(value) < 0.01 ? value.toFixed(4) : formatNumber(value)
  const windows: [string, 'encode' | 'decode', 'long' | 'short'][] = [
    ['`encodeDelta` into one writer', 'encode', 'long'],
    ['`decodeDelta` from one frame', 'decode', 'long'],
    ['`decodeDelta` from one frame, short window', 'decode', 'short'],
  ]
  const rows = windows.map(([label, loop, which]) => {
    const results = rounds.map((round) => round.alloc[loop])
    const window = (result: AllocResult) => result[which]
    return [
      label,
      each(results, (result) => formatNumber(window(result).ops)),
      each(results, (result) => formatNumber(window(result).ms)),
      each(results, (result) => String(window(result).minorGcs)),
      each(results, (result) => String(window(result).majorGcs)),
      each(results, (result) => formatNumber(window(result).youngGrowthBytes)),
      each(results, (result) => formatNumber(window(result).otherGrowthBytes)),
      each(results, (result) => bytes(window(result).bytesPerOp)),
    ]
  })
  return formatTable(
    ['loop', 'ops', 'ms', 'scavenges', 'other GCs', 'young growth B', 'other spaces B', 'B/op'],
    rows,
  )
}

function allocSummary(rounds: readonly CodecRound[]): string[] {
  const lines: string[] = []
  const encode = rounds.map((round) => round.alloc.encode).filter((result) => result !== undefined)
  const decode = rounds.map((round) => round.alloc.decode).filter((result) => result !== undefined)
  if (encode.length > 0) {
    const gcs = encode.reduce((total, result) => total + result.long.minorGcs + result.long.majorGcs, 0)
    const ops = encode[0]?.long.ops ?? Number.NaN
    const perOp = encode.map((result) => result.long.bytesPerOp)
    const worst = perOp.some((value) => value === null)
      ? null
      : Math.max(...perOp.map((value) => Math.abs(value ?? 0)))
    const free = Math.max(...encode.map((result) => result.long.youngFreeBytes))
    const other = Math.max(...encode.map((result) => result.long.otherGrowthBytes))
    lines.push(
      `- **bytes allocated per encode ≈ ${worst === null ? 'n/a (a GC ran)' : worst.toFixed(5)}** (largest magnitude over ${encode.length} round(s): young-generation growth over ${formatNumber(ops)} encodes less the ${formatNumber(encode[0]?.baselineBytes ?? 0)} B the readings take; per round ${perOp.map((value) => bytes5(value)).join(' / ')}), with **${gcs} GC(s)** of any kind in those windows.`,
    )
    if (gcs === 0) {
      lines.push(
        `- independently of the readings: each window started with at most ${formatNumber(free / 1024)} KiB free in the young generation and saw no scavenge, so ${formatNumber(ops)} encodes allocated less than that there: **< ${(free / ops).toFixed(3)} B per encode**. The other spaces grew by at most ${formatNumber(other)} B in those windows (${(other / ops).toFixed(4)} B per encode even if all of it were the loop's).`,
      )
    }
  }
  if (decode.length > 0) {
    const gcs = decode.map((result) => result.long.minorGcs).join(' / ')
    const perOp = decode.map((result) => bytes5(result.short.bytesPerOp)).join(' / ')
    lines.push(
      `- the same method on \`decodeDelta\` (it builds the delta, its leaf or fields, and the key string): ${gcs} scavenges over ${formatNumber(decode[0]?.long.ops ?? 0)} decodes, and **${perOp} B per decode** in a short window without GC: the method sees allocation where there is some.`,
    )
  }
  return lines
}

function bytes5(value: number | null): string {
  return value === null ? 'n/a' : Math.abs(value) < 1 ? value.toFixed(5) : formatNumber(value)
}

/** The section's lines, from its heading on. */
export function allocationSection(rounds: readonly CodecRound[], settings: Settings): string[] {
  return [
    '### Allocation of the encoder',
    '',
    allocTable(rounds),
    '',
    `Values per round (r1 / r2 / …). Fresh process with \`--expose-gc --max-semi-space-size=1 --min-semi-space-size=1\` (a 1 MiB semi-space, so that a scavenge comes after at most 1 MiB of allocation); ${formatNumber(settings.allocWarmupOps)} untimed ops first; each window starts after \`gc()\`, runs without yielding, and counts the \`PerformanceObserver\` 'gc' entries that start inside it; young growth is the used bytes of \`new_space\` + \`new_large_object_space\` (\`v8.getHeapSpaceStatistics()\`) after − before, where the loop's objects go; other spaces (old, code) grow from the optimising compiler's background work whatever the loop does. B/op = (young growth − that of a 0-op window) / ops, shown only for windows without GC, where growth is allocation; the short window is halved from ${formatNumber(settings.allocShortOps)} ops until it sees no GC.`,
    '',
    ...allocSummary(rounds),
    '',
  ]
}
