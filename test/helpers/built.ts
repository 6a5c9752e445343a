import { execFileSync } from 'node:child_process'
import { existsSync, mkdirSync, readdirSync, rmSync, statSync } from 'node:fs'
import { join } from 'node:path'
import { fileURLToPath } from 'node:url'

export const ROOT = fileURLToPath(new URL('../../', import.meta.url))
const LOCK = join(ROOT, 'dist.build-lock')
/** A lock older than this was left by a run that died: take it over. */
const STALE_LOCK_MS = 180_000

function newest(dir: string): number {
  return Math.max(
    ...readdirSync(join(ROOT, dir), { recursive: true, encoding: 'utf8' }).map(
      (file) => statSync(join(ROOT, dir, file)).mtimeMs,
    ),
  )
}

function fresh(binary: string): boolean {
  const path = join(ROOT, binary)
  return existsSync(path) && statSync(path).mtimeMs >= Math.max(newest('codegen'), newest('runtime'))
}

function sleep(ms: number): void {
  Atomics.wait(new Int32Array(new SharedArrayBuffer(4)), 0, 0, ms)
}

/**
 * Builds dist/ when `binary` (a path under the repo) is missing or older than a source of
 * runtime/ or codegen/, so a test file of built binaries also runs alone. Test files run in
 * parallel: one builds under a lock directory, the others wait for it (`npm test` builds first,
 * so there this only checks).
 */
export function ensureBuilt(binary: string): void {
  for (const deadline = Date.now() + 240_000; !fresh(binary); sleep(200)) {
    if (Date.now() > deadline) throw new Error(`dist/ was not built within 240 s (${LOCK})`)
    try {
      mkdirSync(LOCK)
    } catch {
      const since = statSync(LOCK, { throwIfNoEntry: false })?.mtimeMs ?? Date.now()
      if (Date.now() - since > STALE_LOCK_MS) {
        rmSync(LOCK, { recursive: true, force: true })
      }
      continue
    }
    try {
      if (fresh(binary)) return
      // package.json's build, whatever its steps are (tsc, then the Grape bundle).
      execFileSync('npm', ['run', 'build'], { cwd: ROOT, stdio: 'pipe' })
    } catch (err) {
      const { stdout = '', stderr = '' } = err as { stdout?: Buffer | string; stderr?: Buffer | string }
      throw new Error(`npm run build failed:\n${stdout}${stderr}`, { cause: err })
    } finally {
      rmSync(LOCK, { recursive: true, force: true })
    }
  }
}
