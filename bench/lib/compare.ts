import { formatNumber, type Summary, summarize } from './stats.js'
import { formatTable } from './table.js'

/** The figures one side measured in one round, by metric key. */
export interface Figures {
  values: Record<string, number>
  /** Keys whose value is a cap that was hit (the real value is at least this). */
  capped?: string[]
}

/** A goal for a figure, checked on medians; shown, never enforced (the bench asserts nothing). */
export interface Target {
  /** How the goal reads in the table, e.g. `ours/ref >= 3`. */
  text: string
  met(ours: number, reference: number, ratio: number): boolean
}

export interface MetricSpec {
  key: string
  label: string
  /** A unit suffix for the values, e.g. `ms`. */
  unit?: string
  target?: Target
}

/** One round of both sides. */
export interface RoundFigures {
  a: Figures
  b: Figures
}

/**
 * A table of `a` against `b`: the median of each figure over the rounds (with the spread when
 * there are several rounds), the ratio a/b computed per round and then its median [min–max], and
 * whether the target is met on the medians.
 */
export function comparisonTable(
  labels: { a: string; b: string },
  specs: readonly MetricSpec[],
  rounds: readonly RoundFigures[],
): string {
  const rows = specs.map((spec) => {
    const a = summarize(rounds.map((round) => figureOf(round.a, spec.key)))
    const b = summarize(rounds.map((round) => figureOf(round.b, spec.key)))
    const ratios = summarize(
      rounds
        .map((round) => figureOf(round.a, spec.key) / figureOf(round.b, spec.key))
        .filter(Number.isFinite),
    )
    const aCapped = rounds.some((round) => round.a.capped?.includes(spec.key))
    const bCapped = rounds.some((round) => round.b.capped?.includes(spec.key))
    let met = ''
    if (spec.target && Number.isFinite(a.median)) {
      met = spec.target.met(a.median, b.median, ratios.median) ? 'yes' : 'NO'
    }
    return [
      spec.label,
      cell(a, spec.unit, aCapped),
      cell(b, spec.unit, bCapped),
      ratioCell(ratios, aCapped || bCapped),
      spec.target?.text ?? '',
      met,
    ]
  })
  return formatTable(['figure', labels.a, labels.b, `${labels.a}/${labels.b}`, 'target', 'met'], rows, [
    'left',
    'right',
    'right',
    'right',
    'left',
    'left',
  ])
}

function figureOf(figures: Figures, key: string): number {
  return figures.values[key] ?? Number.NaN
}

function cell(summary: Summary, unit: string | undefined, capped: boolean): string {
  if (summary.n === 0) return 'n/a'
  const value = `${capped ? '>= ' : ''}${formatNumber(summary.median)}${unit ? ` ${unit}` : ''}`
  return summary.n > 1 ? `${value} (±${(summary.spread * 100).toFixed(0)}%)` : value
}

function ratioCell(summary: Summary, capped: boolean): string {
  if (summary.n === 0) return 'n/a'
  const ratio = `${capped ? '~' : ''}${ratioText(summary.median)}x`
  return summary.n > 1 ? `${ratio} [${ratioText(summary.min)}–${ratioText(summary.max)}]` : ratio
}

function ratioText(value: number): string {
  return value >= 10 ? value.toFixed(1) : value >= 0.1 ? value.toFixed(2) : value.toPrecision(2)
}
