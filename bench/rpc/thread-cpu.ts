import { readdirSync, readFileSync } from 'node:fs'
import { processCpuMs } from '../lib/proc-cpu.js'

/**
 * CPU time of other processes at nanosecond resolution: the sum over their threads of
 * `/proc/<pid>/task/<tid>/schedstat` field 1 (time on CPU, ns). `/proc/<pid>/stat` counts in 10 ms
 * ticks, too coarse for a small-payload figure that lasts a fraction of a second; schedstat is
 * not. Threads are matched by tid, so a thread that exits inside the window does not subtract its
 * past. Falls back to `/proc/<pid>/stat` where schedstat is missing.
 */
export interface CpuSnapshot {
  /** Per process: CPU ns per tid, or undefined when only the tick count was readable. */
  threads: (Map<number, number> | undefined)[]
  /** Per process: utime + stime in ms (ticks), the fallback. */
  ticksMs: number[]
}

function threadTimes(pid: number): Map<number, number> | undefined {
  try {
    const times = new Map<number, number>()
    for (const tid of readdirSync(`/proc/${pid}/task`)) {
      try {
        const ns = Number(readFileSync(`/proc/${pid}/task/${tid}/schedstat`, 'utf8').split(' ')[0])
        if (Number.isFinite(ns)) times.set(Number(tid), ns)
      } catch {
        // The thread exited between readdir and read.
      }
    }
    return times.size > 0 ? times : undefined
  } catch {
    return undefined
  }
}

export function snapshotCpu(pids: readonly number[]): CpuSnapshot {
  return { threads: pids.map(threadTimes), ticksMs: pids.map(processCpuMs) }
}

/** CPU ms each process used between two snapshots. */
export function cpuBetween(before: CpuSnapshot, after: CpuSnapshot): number[] {
  return before.ticksMs.map((ticksBefore, i) => {
    const a = before.threads[i]
    const b = after.threads[i]
    if (!a || !b) return (after.ticksMs[i] as number) - ticksBefore
    let ns = 0
    for (const [tid, end] of b) ns += end - (a.get(tid) ?? 0)
    return ns / 1e6
  })
}
