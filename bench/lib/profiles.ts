import { readdirSync, renameSync, rmSync } from 'node:fs'
import { join } from 'node:path'

/** Node flags that profile a child's threads into `<target>.d/` (tsx's loader thread writes one too). */
export function cpuProfileArgs(target: string | undefined, intervalUs: number): string[] {
  return target ? ['--cpu-prof', `--cpu-prof-dir=${target}.d`, `--cpu-prof-interval=${intervalUs}`] : []
}

/**
 * Moves the main thread's profile (`CPU.<date>.<time>.<pid>.0.<seq>.cpuprofile`, thread 0) of
 * process `pid` from `<target>.d/` to `target`, and removes the directory with the loader thread's
 * profile. Returns false when nothing was written (the process was killed).
 */
export function collectMainThreadProfile(target: string, pid: number): boolean {
  const dir = `${target}.d`
  let found = false
  try {
    const main = readdirSync(dir).find((file) => file.includes(`.${pid}.0.`) && file.endsWith('.cpuprofile'))
    if (main) {
      renameSync(join(dir, main), target)
      found = true
    }
  } catch {
    // No directory: the process never started profiling or was killed.
  }
  rmSync(dir, { recursive: true, force: true })
  return found
}
