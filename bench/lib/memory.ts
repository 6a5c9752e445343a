/**
 * Memory and handles of a bench process, as its own `process.memoryUsage()` and
 * `process.getActiveResourcesInfo()` see them; every child answers `memory` and `handles` calls
 * with these (bench/lib/child-runtime.ts).
 */

const MB = 1024 * 1024

/** One process's memory, in MB. */
export interface MemorySample {
  rssMb: number
  heapUsedMb: number
  heapTotalMb: number
  externalMb: number
  /** A full GC ran just before (`--expose-gc`): `heapUsedMb` is what is retained. */
  afterGc: boolean
}

export function sampleMemory(gc = false): MemorySample {
  const collect = (globalThis as { gc?: () => void }).gc
  if (gc && collect) collect()
  const usage = process.memoryUsage()
  return {
    rssMb: usage.rss / MB,
    heapUsedMb: usage.heapUsed / MB,
    heapTotalMb: usage.heapTotal / MB,
    externalMb: usage.external / MB,
    afterGc: gc && collect !== undefined,
  }
}

/** Active handles and requests by type (`TCPSocketWrap`, `Timeout`, …). */
export function handleCounts(): Record<string, number> {
  const counts: Record<string, number> = {}
  for (const type of process.getActiveResourcesInfo()) counts[type] = (counts[type] ?? 0) + 1
  return counts
}

/**
 * The least-squares slope of `values` over `minutes` (same length), per minute; NaN with fewer
 * than two points or no spread in time.
 */
export function slopePerMinute(minutes: readonly number[], values: readonly number[]): number {
  const n = Math.min(minutes.length, values.length)
  if (n < 2) return Number.NaN
  let sx = 0
  let sy = 0
  for (let i = 0; i < n; i++) {
    sx += minutes[i] as number
    sy += values[i] as number
  }
  const mx = sx / n
  const my = sy / n
  let sxy = 0
  let sxx = 0
  for (let i = 0; i < n; i++) {
    const dx = (minutes[i] as number) - mx
    sxy += dx * ((values[i] as number) - my)
    sxx += dx * dx
  }
  return sxx === 0 ? Number.NaN : sxy / sxx
}
