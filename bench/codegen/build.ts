import { join } from 'node:path'
import { ROOT } from '../lib/children.js'
import { staleSources as staleCompiled } from '../lib/ours-from.js'
import { runTracked, tail } from './processes.js'
import type { CodeFrom } from './protocol.js'

/**
 * What the codegen suite runs from dist/: the whole runtime (the generated client imports
 * `runtime/index.js`, which imports every part) and the generator (`dist/codegen/cli.js` and its
 * loader). The same rule as the RPC and DHT suites (bench/lib/ours-from.ts), over a wider set of sources: dist/
 * is current when every `.ts` has a compiled `.js` at least as new.
 */
const SOURCES = ['runtime', 'codegen']
const BUILD_TIMEOUT_MS = 240_000

const staleSources = (): string[] => staleCompiled(ROOT, SOURCES)

function list(paths: string[]): string {
  return `${paths.slice(0, 3).join(', ')}${paths.length > 3 ? `, … (${paths.length} files)` : ''}`
}

export interface BuildDecision {
  /** Where the typed-layer children load our runtime from. */
  from: CodeFrom
  /** Whether dist/codegen/cli.js is current (the generator timing needs it). */
  cliCurrent: boolean
  /** One line for the report header. */
  why: string
}

/**
 * Builds dist/ (`tsc -p tsconfig.build.json`, what `npm run build` runs) when it is older than a
 * source, then decides. A failed or incomplete build falls back to the TypeScript source for the
 * typed layer (through tsx, as the RPC suite does, and said in the header); the generator timing
 * then runs a stale CLI, also said.
 */
export async function ensureBuilt(log: (line: string) => void): Promise<BuildDecision> {
  const before = staleSources()
  if (before.length === 0) return { from: 'dist', cliCurrent: true, why: 'dist/ is current' }
  log(`dist/ is older than ${list(before)}: building (tsc -p tsconfig.build.json)`)
  const tsc = join(ROOT, 'node_modules', 'typescript', 'bin', 'tsc')
  const result = await runTracked(process.execPath, [tsc, '-p', 'tsconfig.build.json'], {
    name: 'build',
    timeoutMs: BUILD_TIMEOUT_MS,
  })
  const built = `built by the bench in ${(result.wallMs / 1000).toFixed(1)} s`
  const after = staleSources()
  if (after.length === 0) {
    const warning = result.code === 0 ? '' : ` (tsc exited ${result.code} with type errors but emitted)`
    return { from: 'dist', cliCurrent: true, why: `dist/ was stale (${list(before)}), ${built}${warning}` }
  }
  const failure = result.timedOut
    ? 'timed out'
    : `exited ${result.code}: ${tail(result.stdout + result.stderr, 5)}`
  log(`the build ${failure}`)
  // The CLI imports codegen/ and, from the runtime, the DSL and util/.
  const cliCurrent = !after.some(
    (path) => path.startsWith('codegen/') || path === 'runtime/schema.ts' || path.startsWith('runtime/util/'),
  )
  return {
    from: 'source',
    cliCurrent,
    why: `dist/ is stale and the build ${failure}; still older than ${list(after)}: the typed layer runs from runtime/*.ts through tsx${cliCurrent ? '' : ', and dist/codegen/cli.js is STALE'}`,
  }
}
