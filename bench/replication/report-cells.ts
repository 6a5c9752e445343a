/** Per-round values of the replication results, and their table cells (medians, spreads, ratios). */
import { formatNumber, summarize } from '../lib/stats.js'
import type { Attempt, ReplicationRound, RowId, RowResult } from './model.js'
import type { Stack } from './protocol.js'

export function stackOf(row: RowId): Stack {
  return row === 'ours-novalidate' ? 'ours' : row
}

export function rowOf(round: ReplicationRound, row: RowId): RowResult | undefined {
  return round.sessions[stackOf(row)]?.rows[row]
}

/** The attempt CPU and bytes are read from: the best one that kept up, else flat out. */
export function mainAttempt(result: RowResult | undefined): Attempt | undefined {
  return result?.throughput?.best ?? result?.throughput?.flat
}

/** Median (±spread) of per-round values; `n/a` when there are none. */
export function cell(values: readonly number[], unit = '', format = formatNumber): string {
  const summary = summarize(values)
  if (summary.n === 0) return 'n/a'
  const text = `${format(summary.median)}${unit}`
  return summary.n > 1 ? `${text} (±${(summary.spread * 100).toFixed(0)}%)` : text
}

/** Median [min–max] of per-round ratios. */
export function ratio(values: readonly number[]): string {
  const summary = summarize(values)
  if (summary.n === 0) return 'n/a'
  const text = (v: number) => (v >= 10 ? v.toFixed(1) : v >= 0.1 ? v.toFixed(2) : v.toPrecision(2))
  return summary.n > 1
    ? `${text(summary.median)}x [${text(summary.min)}–${text(summary.max)}]`
    : `${text(summary.median)}x`
}

export function perRound(
  rounds: readonly ReplicationRound[],
  row: RowId,
  pick: (r: RowResult) => number | undefined,
) {
  return rounds.map((round) => {
    const result = rowOf(round, row)
    return result ? (pick(result) ?? Number.NaN) : Number.NaN
  })
}

export function ratios(
  rounds: readonly ReplicationRound[],
  a: RowId,
  b: RowId,
  pick: (r: RowResult) => number | undefined,
): number[] {
  const x = perRound(rounds, a, pick)
  const y = perRound(rounds, b, pick)
  return x.map((value, i) => value / (y[i] as number)).filter(Number.isFinite)
}

export function met(value: number, ok: (v: number) => boolean): string {
  return Number.isFinite(value) ? (ok(value) ? 'yes' : 'NO') : ''
}

export function median(values: readonly number[]): number {
  return summarize(values).median
}
