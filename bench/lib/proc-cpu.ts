import { execFileSync } from 'node:child_process'
import { readFileSync } from 'node:fs'

let ticksPerSecond: number | undefined

/** The kernel's clock ticks per second (`getconf CLK_TCK`, almost always 100: 10 ms resolution). */
export function clockTicksPerSecond(): number {
  if (ticksPerSecond === undefined) {
    try {
      ticksPerSecond = Number(execFileSync('getconf', ['CLK_TCK'], { encoding: 'utf8' }).trim()) || 100
    } catch {
      ticksPerSecond = 100
    }
  }
  return ticksPerSecond
}

/**
 * CPU time (user + system) a process has used so far, in ms, from `/proc/<pid>/stat` fields 14
 * (utime) and 15 (stime). Resolution is one clock tick (10 ms): measure over several seconds.
 */
export function processCpuMs(pid: number): number {
  const stat = readFileSync(`/proc/${pid}/stat`, 'utf8')
  // The command name (field 2) is in parentheses and may contain spaces: count from after it.
  const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ')
  // fields[0] is field 3 (state), so field N is fields[N - 3].
  const utime = Number(fields[14 - 3])
  const stime = Number(fields[15 - 3])
  if (!Number.isFinite(utime) || !Number.isFinite(stime)) throw new Error(`cannot parse /proc/${pid}/stat`)
  return ((utime + stime) * 1000) / clockTicksPerSecond()
}

/** CPU ms of each process in `pids`, in order. */
export function cpuSnapshot(pids: readonly number[]): number[] {
  return pids.map(processCpuMs)
}
