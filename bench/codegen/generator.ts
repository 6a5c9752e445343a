/**
 * Generator timing: the built `grenache-gen` (`node dist/codegen/cli.js`), end to end (its loader
 * child included), on the repository's schemas (`--check`: nothing written) and on a throwaway
 * project of generated services (bench/results/codegen-<pid>/, gitignored, inside the repository so
 * that `zod` and `runtime/schema.ts` resolve): a fresh generate into an empty out dir, and `--check`
 * on the up-to-date output. Then the split of one run into phases (gen-phases.ts), node's own
 * startup, and the import of the CLI's modules. One process at a time, each tracked in its own
 * process group (processes.ts); the project is removed at the end (and on exit).
 */
import { existsSync, mkdirSync, readdirSync, renameSync, rmSync, writeFileSync } from 'node:fs'
import { join, posix } from 'node:path'
import { pathToFileURL } from 'node:url'
import { ROOT } from '../lib/children.js'
import { formatProfileSummary, summarizeProfile } from '../lib/cpu-profile.js'
import { median } from '../lib/stats.js'
import type { SuiteContext } from '../lib/suite.js'
import { schemaFiles } from './fixtures.js'
import type { PhaseConfig, PhaseResult } from './gen-phases.js'
import { type RunResult, runTracked, tail } from './processes.js'
import type { GeneratorSettings } from './protocol.js'

/** The 50-service fresh generate must take less than this, end to end. */
export const GENERATOR_TARGET_MS = 3000

const CLI = join(ROOT, 'dist', 'codegen', 'cli.js')
const LOADER = join(ROOT, 'dist', 'codegen', 'load', 'load-child.js')
/** What generated code imports the runtime from (as `npm run generate` does). */
const RUNTIME = './runtime/index.js'
const PROFILE_INTERVAL_US = 250

export type ScenarioId = 'repoCheck' | 'bigFresh' | 'bigCheck'

export interface TimedRun {
  wallMs: number
  /** CLI + loader child CPU, ms (10 ms ticks). */
  cpuMs: number
}

export interface GeneratorResults {
  /** Why nothing was measured. */
  unavailable?: string
  /** The throwaway project, relative to the root. */
  project: string
  services: number
  /** Files the fresh generate writes (services + index + lock). */
  files: number
  runs: Record<ScenarioId, TimedRun[]>
  /** `node -e 0`, wall ms. */
  nodeBootMs: number[]
  /** `import()` of the CLI's modules in plain node, ms. */
  importMs: number[]
  repoPhases: PhaseResult[]
  bigPhases: PhaseResult[]
  notes: string[]
  /** Profile summaries (--profile, or when the target is missed). */
  profiles?: string[]
}

/** A failed run: its exit and the end of its output. */
class RunFailed extends Error {}

function describe(result: RunResult): string {
  const how = result.timedOut ? 'timed out' : `exited ${result.signal ?? result.code}`
  return `${how}: ${tail(`${result.stdout}\n${result.stderr}`, 8)}`
}

async function node(name: string, args: string[], timeoutMs: number): Promise<RunResult> {
  return runTracked(process.execPath, args, { name, timeoutMs })
}

/** The import of every module cli.js imports, in plain node (no tsx hooks), ms. */
function importSnippet(): string {
  const dist = pathToFileURL(join(ROOT, 'dist')).href
  return [
    'const begin = performance.now()',
    `await import(${JSON.stringify(`${dist}/codegen/index.js`)})`,
    `await import(${JSON.stringify(`${dist}/runtime/util/package-version.js`)})`,
    'process.stdout.write(String(performance.now() - begin))',
  ].join('\n')
}

/** Removes throwaway projects of earlier runs whose process is gone (a run killed with SIGKILL). */
function removeOrphans(): void {
  const results = join(ROOT, 'bench', 'results')
  for (const name of existsSync(results) ? readdirSync(results) : []) {
    const pid = /^codegen-(\d+)$/.exec(name)?.[1]
    if (pid === undefined || Number(pid) === process.pid) continue
    try {
      process.kill(Number(pid), 0)
    } catch (err) {
      // ESRCH: no such process (EPERM would be a live process of another user).
      if ((err as NodeJS.ErrnoException).code === 'ESRCH')
        rmSync(join(results, name), { recursive: true, force: true })
    }
  }
}

export async function runGenerator(
  context: SuiteContext,
  settings: GeneratorSettings,
  cliCurrent: boolean,
): Promise<GeneratorResults> {
  const project = posix.join('bench', 'results', `codegen-${process.pid}`)
  const schemas = posix.join(project, 'schemas')
  const out = posix.join(project, 'generated')
  const results: GeneratorResults = {
    project,
    services: settings.services,
    files: settings.services + 2,
    runs: { repoCheck: [], bigFresh: [], bigCheck: [] },
    nodeBootMs: [],
    importMs: [],
    repoPhases: [],
    bigPhases: [],
    notes: [],
  }
  if (!existsSync(CLI)) {
    results.unavailable = 'dist/codegen/cli.js is missing (npm run build)'
    return results
  }
  if (!cliCurrent) results.notes.push('dist/codegen/cli.js is older than its source: a STALE build was timed')

  removeOrphans()
  const absolute = join(ROOT, project)
  const cleanup = () => rmSync(absolute, { recursive: true, force: true })
  process.on('exit', cleanup)
  try {
    mkdirSync(join(ROOT, schemas), { recursive: true })
    for (const [name, text] of schemaFiles(settings.services, schemas)) {
      writeFileSync(join(ROOT, schemas, name), text)
    }
    const cleanOut = () => {
      rmSync(join(ROOT, out), { recursive: true, force: true })
      rmSync(join(ROOT, schemas, 'schema.lock.json'), { force: true })
    }
    const t = settings.runTimeoutMs
    const cli = async (scenario: ScenarioId, args: string[]): Promise<TimedRun> => {
      const result = await node(`grenache-gen ${scenario}`, [CLI, ...args], t)
      const staleRepo = scenario === 'repoCheck' && result.code === 1 && result.stderr.includes('ERR_STALE')
      if (result.code !== 0 && !staleRepo)
        throw new RunFailed(`grenache-gen ${args.join(' ')} ${describe(result)}`)
      if (staleRepo && !results.notes.some((note) => note.includes('ERR_STALE'))) {
        results.notes.push(
          "the repository's generated/ is stale (grenache-gen --check: ERR_STALE); its timing is still a full load + generate + compare",
        )
      }
      if (scenario === 'bigFresh') {
        const written = readdirSync(join(ROOT, out)).filter((name) => name.endsWith('.gen.ts')).length
        if (written !== settings.services || !result.stdout.includes(`${results.files} files`)) {
          throw new RunFailed(`grenache-gen wrote ${written} .gen.ts files: ${result.stdout.trim()}`)
        }
      }
      return { wallMs: result.wallMs, cpuMs: result.cpuMs }
    }
    const big = ['--schemas', schemas, '--out', out, '--runtime', RUNTIME]
    const repo = ['--check', '--runtime', RUNTIME]
    const phases = async (config: PhaseConfig): Promise<PhaseResult> => {
      const result = await node(
        'gen-phases',
        ['--import', 'tsx', 'bench/codegen/gen-phases.ts', JSON.stringify(config)],
        t,
      )
      if (result.code !== 0) throw new RunFailed(`gen-phases ${describe(result)}`)
      return JSON.parse(result.stdout.trim().split('\n').pop() ?? '{}') as PhaseResult
    }

    // Untimed: checks the project generates, and warms the page cache.
    cleanOut()
    await cli('bigFresh', big)
    for (let run = 1; run <= settings.runs; run++) {
      context.log(`generator run ${run}/${settings.runs}`)
      cleanOut()
      results.runs.bigFresh.push(await cli('bigFresh', big))
      results.runs.bigCheck.push(await cli('bigCheck', [...big, '--check']))
      cleanOut()
      const split = await phases({ schemas, out, runtime: RUNTIME, check: false, writeUnder: project })
      if (split.services !== settings.services || split.changed !== results.files) {
        throw new RunFailed(`gen-phases: ${split.services} services, ${split.changed} files written`)
      }
      results.bigPhases.push(split)
      results.runs.repoCheck.push(await cli('repoCheck', repo))
      results.repoPhases.push(
        await phases({ schemas: 'schemas', out: 'generated', runtime: RUNTIME, check: true }),
      )
      const boot = await node('node -e 0', ['-e', '0'], t)
      if (boot.code === 0) results.nodeBootMs.push(boot.wallMs)
      const imported = await node('import', ['--input-type=module', '-e', importSnippet()], t)
      if (imported.code !== 0) throw new RunFailed(`import of the CLI's modules ${describe(imported)}`)
      results.importMs.push(Number(imported.stdout))
    }
    const fresh = median(results.runs.bigFresh.map((run) => run.wallMs))
    if (context.profile || fresh >= GENERATOR_TARGET_MS) {
      cleanOut()
      results.profiles = await profile(context, big, schemas, t)
    }
  } catch (err) {
    if (!(err instanceof RunFailed)) throw err
    results.notes.push(`FAILED: ${err.message}`)
    context.log(`generator: FAILED: ${err.message}`)
  } finally {
    cleanup()
    process.off('exit', cleanup)
  }
  return results
}

/**
 * One fresh generate of the big project under `node --cpu-prof`, and its loader child run the way
 * `loadSchemas` runs it (`node dist/codegen/load/load-child.js <root> <dir>`), also profiled (Node
 * refuses --cpu-prof in NODE_OPTIONS, so the CLI cannot pass it on). The loader's module hooks run
 * on a thread of their own, which writes its own profile: TypeScript's transpile happens there.
 */
async function profile(
  context: SuiteContext,
  big: string[],
  schemas: string,
  timeoutMs: number,
): Promise<string[]> {
  const dir = join(context.resultsDir, 'profiles')
  mkdirSync(dir, { recursive: true })
  const flags = (name: string) => [
    '--cpu-prof',
    `--cpu-prof-dir=${join(dir, `${name}.d`)}`,
    `--cpu-prof-interval=${PROFILE_INTERVAL_US}`,
  ]
  const summaries: string[] = []
  const runs: Array<[string, string[], string]> = [
    ['codegen-cli', [...flags('codegen-cli'), CLI, ...big], 'grenache-gen (CLI process, 50 services, fresh)'],
    ['codegen-loader', [...flags('codegen-loader'), LOADER, ROOT, schemas], 'loader child'],
  ]
  for (const [name, args, title] of runs) {
    rmSync(join(dir, `${name}.d`), { recursive: true, force: true })
    const result = await node(`${name} (profiled)`, args, timeoutMs)
    if (result.code !== 0) {
      summaries.push(`- ${title}: profiled run ${describe(result)}`)
      continue
    }
    for (const [thread, path] of collectProfiles(join(dir, `${name}.d`), join(dir, name))) {
      summaries.push(
        formatProfileSummary(
          `${title}, ${thread} (${posix.relative(ROOT, path)})`,
          summarizeProfile(path, undefined, 15),
        ),
      )
    }
  }
  return summaries
}

/** Moves each thread's profile out of `from` to `<to>[-thread<n>].cpuprofile`; the main thread first. */
function collectProfiles(from: string, to: string): Array<[string, string]> {
  const found: Array<[string, string]> = []
  try {
    // CPU.<date>.<time>.<pid>.<thread>.<seq>.cpuprofile
    const files = readdirSync(from)
      .filter((file) => file.endsWith('.cpuprofile'))
      .map((file) => ({ file, thread: Number(file.split('.').at(-3)) }))
      .sort((a, b) => a.thread - b.thread)
    for (const { file, thread } of files) {
      const target = thread === 0 ? `${to}.cpuprofile` : `${to}-thread${thread}.cpuprofile`
      renameSync(join(from, file), target)
      found.push([thread === 0 ? 'main thread' : `thread ${thread} (module hooks)`, target])
    }
  } catch {
    // Nothing written.
  }
  rmSync(from, { recursive: true, force: true })
  return found
}
