/** The value at quantile `q` (0..1) of `values`, linearly interpolated; NaN when empty. */
export function percentile(values: readonly number[], q: number): number {
  if (values.length === 0) return Number.NaN
  const sorted = Float64Array.from(values).sort()
  const position = (sorted.length - 1) * q
  const low = Math.floor(position)
  const high = Math.ceil(position)
  const lowValue = sorted[low] as number
  return lowValue + ((sorted[high] as number) - lowValue) * (position - low)
}

export function median(values: readonly number[]): number {
  return percentile(values, 0.5)
}

/** Median, min, max and spread ((max − min) / median) of per-round values. */
export interface Summary {
  median: number
  min: number
  max: number
  spread: number
  n: number
}

export function summarize(values: readonly number[]): Summary {
  const finite = values.filter(Number.isFinite)
  if (finite.length === 0)
    return { median: Number.NaN, min: Number.NaN, max: Number.NaN, spread: Number.NaN, n: 0 }
  const mid = median(finite)
  const min = Math.min(...finite)
  const max = Math.max(...finite)
  return { median: mid, min, max, spread: mid === 0 ? 0 : (max - min) / mid, n: finite.length }
}

/** A number for a table: thousands separated by thin spaces above 1000, else 3 significant digits. */
export function formatNumber(value: number): string {
  if (!Number.isFinite(value)) return 'n/a'
  if (Number.isInteger(value) && Math.abs(value) < 1000) return String(value)
  const abs = Math.abs(value)
  if (abs >= 1000) return Math.round(value).toLocaleString('en-US').replaceAll(',', ' ')
  if (abs >= 100) return value.toFixed(0)
  if (abs >= 10) return value.toFixed(1)
  if (abs >= 1) return value.toFixed(2)
  return value.toPrecision(2)
}
