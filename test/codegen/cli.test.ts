/**
 * The `grenache-gen` binary as users run it: the BUILT `dist/codegen/cli.js` under plain `node`
 * (no tsx), in throwaway projects under test/.tmp/. From dist, schema files are loaded by the
 * generator's own TypeScript hooks (codegen/load/ts-hooks.ts); `generate()` in this process loads
 * them through tsx. Both must give the same bytes.
 *
 * How a schema file imports the DSL:
 * - `@dsl` (schemaProject): a relative path to the repository's runtime/schema.js, which the hooks
 *   resolve to runtime/schema.ts and transpile.
 * - `grenache-gen/schema`, as a user project writes it: the project gets its own package.json (so
 *   Node's package self-reference, which only works inside the package's own scope, does not apply)
 *   and node_modules/grenache-gen (and node_modules/zod) symlinked to this repository, as
 *   `npm link grenache-gen` would leave it. The import then resolves through the package's
 *   `exports` to dist/runtime/schema.js. A control run without the symlink fails to load.
 */
import { type ChildProcess, execFileSync, spawn } from 'node:child_process'
import { once } from 'node:events'
import {
  existsSync,
  mkdirSync,
  readdirSync,
  readFileSync,
  rmSync,
  statSync,
  symlinkSync,
  writeFileSync,
} from 'node:fs'
import { dirname, join } from 'node:path'
import { setTimeout as delay } from 'node:timers/promises'
import { fileURLToPath } from 'node:url'
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest'
import { generate } from '../../codegen/generate.js'
import { loadSchemas } from '../../codegen/load/load.js'
import { packageVersion } from '../../runtime/util/package-version.js'
import { ensureBuilt } from '../helpers/built.js'
import { type SchemaProject, schemaProject } from '../helpers/codegen.js'

const ROOT = fileURLToPath(new URL('../../', import.meta.url))
const CLI = join(ROOT, 'dist/codegen/cli.js')
const VERSION = (JSON.parse(readFileSync(join(ROOT, 'package.json'), 'utf8')) as { version: string }).version

// ---------------------------------------------------------------------------------------------
// Processes: every child is tracked by PID. `gen()` waits for its child and kills it by PID if the
// wait ends any other way (a timeout, a failure), so tests that only run the binary to completion can
// run concurrently; the long-running ones (--watch) kill theirs in afterEach; afterAll kills the rest.

interface Spawned {
  child: ChildProcess
  stdout: string
  stderr: string
  done: boolean
  closed: Promise<{ code: number | null; signal: NodeJS.Signals | null }>
}

interface Run {
  code: number | null
  signal: NodeJS.Signals | null
  stdout: string
  stderr: string
}

const spawned = new Set<Spawned>()

function kill(proc: Spawned): void {
  spawned.delete(proc)
  const pid = proc.child.pid
  if (pid !== undefined && proc.child.exitCode === null && proc.child.signalCode === null) {
    try {
      process.kill(pid, 'SIGKILL')
    } catch {
      // Gone between the check and the kill.
    }
  }
}

function killAll(): void {
  for (const proc of [...spawned]) kill(proc)
}

/** The environment of a user's shell: no test runner's NODE_OPTIONS, no git variables of ours. */
function cleanEnv(): NodeJS.ProcessEnv {
  const env: NodeJS.ProcessEnv = {}
  for (const [key, value] of Object.entries(process.env)) {
    if (key === 'NODE_OPTIONS' || key === 'NODE_DEBUG' || key.startsWith('GIT_')) continue
    env[key] = value
  }
  return env
}

/** Starts `node dist/codegen/cli.js …args` in `cwd`. */
function start(cwd: string, args: string[]): Spawned {
  const child = spawn(process.execPath, [CLI, ...args], { cwd, env: cleanEnv(), stdio: 'pipe' })
  const proc: Spawned = {
    child,
    stdout: '',
    stderr: '',
    done: false,
    closed: once(child, 'close').then(([code, signal]) => {
      proc.done = true
      spawned.delete(proc)
      return { code: code as number | null, signal: signal as NodeJS.Signals | null }
    }),
  }
  spawned.add(proc)
  child.stdout?.setEncoding('utf8').on('data', (chunk: string) => {
    proc.stdout += chunk
  })
  child.stderr?.setEncoding('utf8').on('data', (chunk: string) => {
    proc.stderr += chunk
  })
  return proc
}

/** The exit status and output of `proc`, or a rejection after a generous bound. */
async function exited(proc: Spawned, timeoutMs = 60_000): Promise<Run> {
  const result = await Promise.race([proc.closed, delay(timeoutMs, 'timeout' as const, { ref: false })])
  if (result === 'timeout') {
    throw new Error(`grenache-gen still running after ${timeoutMs} ms: ${proc.stdout}${proc.stderr}`)
  }
  return { ...result, stdout: proc.stdout, stderr: proc.stderr }
}

/** Runs the binary to completion in `project` (killed by PID if it does not end in time). */
async function gen(project: SchemaProject | string, ...args: string[]): Promise<Run> {
  const proc = start(typeof project === 'string' ? project : project.root, args)
  try {
    return await exited(proc)
  } finally {
    kill(proc)
  }
}

/** Polls `condition` every 50 ms until it holds; fails after `timeoutMs`. */
async function until(what: string, condition: () => boolean, timeoutMs = 30_000): Promise<void> {
  const deadline = Date.now() + timeoutMs
  while (!condition()) {
    if (Date.now() > deadline) throw new Error(`${what}: not after ${timeoutMs} ms`)
    await delay(50)
  }
}

/** Runs git in a throwaway repository, with a user set in that repository only. */
function git(p: SchemaProject, ...args: string[]): string {
  return execFileSync('git', args, { cwd: p.root, env: cleanEnv(), encoding: 'utf8', stdio: 'pipe' })
}

// ---------------------------------------------------------------------------------------------
// Building: dist/ must hold what codegen/ and runtime/ say now.

/** dist/ must hold what codegen/ and runtime/ say now. */
const ensureBuiltCli = (): void => ensureBuilt('dist/codegen/cli.js')

// ---------------------------------------------------------------------------------------------
// Projects.

const projects: SchemaProject[] = []
function project(files: Record<string, string>): SchemaProject {
  const p = schemaProject(files)
  projects.push(p)
  return p
}

const read = (p: SchemaProject, path: string): string => readFileSync(join(p.root, path), 'utf8')
const write = (p: SchemaProject, path: string, content: string): void => {
  mkdirSync(dirname(join(p.root, path)), { recursive: true })
  writeFileSync(join(p.root, path), content.replaceAll('@dsl', dslFrom(path)))
}
const exists = (p: SchemaProject, path: string): boolean => existsSync(join(p.root, path))
/** The `@dsl` import path from a file of a project (projects sit at test/.tmp/<id>/). */
const dslFrom = (path: string): string => `${'../'.repeat(path.split('/').length + 2)}runtime/schema.js`

/** A service with two methods and an event: the base every edit below starts from. */
const CALC = `import { z } from 'zod'
import { defineService } from '@dsl'

export const calc = defineService({
  name: 'calc',
  version: 1,
  methods: {
    divide: {
      input: z.object({ a: z.number(), b: z.number().max(1000) }),
      output: z.object({ quotient: z.number(), exact: z.boolean() }),
      errors: { DIVISION_BY_ZERO: 'b is 0' },
    },
    record: {
      input: z.object({ note: z.string() }),
      output: z.object({ id: z.number().int() }),
      idempotent: true,
    },
  },
  events: {
    recorded: { payload: z.object({ id: z.number().int() }) },
  },
})
`

const FIB = `import { z } from 'zod'
import { defineService } from '@dsl'
import { N } from './shared.js'

export const fibonacci = defineService({
  name: 'fibonacci',
  version: 1,
  methods: { fib: { input: z.object({ n: N }), output: z.number() } },
})
`
const SHARED = `import { z } from 'zod'\nexport const N = z.number().int().min(0).max(1476)\n`

/** CALC with each `[from, to]` replaced; `from` must be there, so an edit never silently does nothing. */
function edit(...edits: Array<[from: string, to: string]>): string {
  let text = CALC
  for (const [from, to] of edits) {
    if (!text.includes(from)) throw new Error(`the edit expects ${JSON.stringify(from)} in CALC`)
    text = text.replace(from, to)
  }
  return text
}

const RECORD_METHOD = `    record: {
      input: z.object({ note: z.string() }),
      output: z.object({ id: z.number().int() }),
      idempotent: true,
    },
`
const EVENTS = `  events: {
    recorded: { payload: z.object({ id: z.number().int() }) },
  },
`

/** Modification times of the files of a project, by path. */
function mtimes(p: SchemaProject, paths: string[]): Record<string, number> {
  return Object.fromEntries(paths.map((path) => [path, statSync(join(p.root, path)).mtimeMs]))
}

// Each run is two Node processes loading TypeScript: seconds apiece on a loaded 2-core box.
describe('grenache-gen (the built binary)', { timeout: 120_000 }, () => {
  beforeAll(ensureBuiltCli, 180_000)
  afterAll(() => {
    killAll()
    for (const p of projects) p.remove()
  })

  describe.concurrent('help, version and bad usage', () => {
    let empty: SchemaProject
    beforeAll(() => {
      empty = project({ 'schemas/calc.schema.ts': CALC })
    })

    it.for([['--help'], ['-h']])('%s prints the help and exits 0', async ([flag = ''], { expect }) => {
      const run = await gen(ROOT, flag)
      expect(run).toMatchObject({ code: 0, signal: null, stderr: '' })
      expect(run.stdout).toMatch(new RegExp(`^grenache-gen ${VERSION.replaceAll('.', '\\.')}: `))
      for (const text of [
        'Usage:',
        'grenache-gen check',
        '--schemas',
        '--out',
        '--runtime',
        '--against',
        '--accept-breaking',
      ]) {
        expect(run.stdout).toContain(text)
      }
    })

    it.for([['--version'], ['-V']])(
      '%s prints the package version and exits 0',
      async ([flag = ''], { expect }) => {
        const run = await gen(ROOT, flag)
        expect(run).toEqual({ code: 0, signal: null, stdout: `${VERSION}\n`, stderr: '' })
      },
    )

    it.for<[string[], string]>([
      [['--nope'], "Unknown option '--nope'"],
      [['build'], 'unknown command build'],
      [['--check', '--watch'], '--check and --watch exclude each other'],
      [['--against', 'HEAD'], '--against belongs to check'],
      [['check', '--check'], 'check takes --schemas and --against only'],
      [['check', '--watch'], 'check takes --schemas and --against only'],
      [['check', '--accept-breaking'], 'check takes --schemas and --against only'],
      [['--out', ''], '--out needs a value'],
      [['--schemas='], '--schemas needs a value'],
      [['generate', 'extra'], 'unexpected argument extra'],
    ])('%j exits 2 with ERR_USAGE and writes nothing', async ([args, message], { expect }) => {
      const run = await gen(empty, ...args)
      expect(run.code).toBe(2)
      expect(run.stderr).toMatch(/^grenache-gen: ERR_USAGE: /)
      expect(run.stderr).toContain(message)
      expect(run.stdout).toBe('')
      expect(readdirSync(empty.root)).toEqual(['schemas'])
      expect(readdirSync(join(empty.root, 'schemas'))).toEqual(['calc.schema.ts'])
    })
  })

  describe.concurrent('generate', () => {
    it('writes <out>/<stem>.gen.ts, index.ts and the lock, prints a summary; a second run writes nothing; --check passes', async ({
      expect,
    }) => {
      const p = project({
        'schemas/calc.schema.ts': CALC,
        'schemas/fib.schema.ts': FIB,
        'schemas/shared.ts': SHARED,
      })
      const files = [
        'generated/calc.gen.ts',
        'generated/fib.gen.ts',
        'generated/index.ts',
        'schemas/schema.lock.json',
      ]
      const first = await gen(p)
      expect(first).toEqual({
        code: 0,
        signal: null,
        stdout: 'grenache-gen: 4 files, 4 written or removed\n',
        stderr: '',
      })
      expect(readdirSync(join(p.root, 'generated')).sort()).toEqual(['calc.gen.ts', 'fib.gen.ts', 'index.ts'])
      expect(exists(p, 'schemas/schema.lock.json')).toBe(true)
      expect(read(p, 'generated/calc.gen.ts').split('\n').slice(0, 2)).toEqual([
        `// @generated by grenache-gen v${VERSION} from schemas/calc.schema.ts`,
        '// DO NOT EDIT: change the schema and run grenache-gen',
      ])
      expect(read(p, 'generated/calc.gen.ts')).toContain("from 'grenache-gen'")
      expect(read(p, 'generated/index.ts')).toContain("export * from './calc.gen.js'")
      expect(read(p, 'generated/index.ts')).toContain("export * from './fib.gen.js'")
      const lock = JSON.parse(read(p, 'schemas/schema.lock.json'))
      expect(Object.keys(lock.services)).toEqual(['calc@1', 'fibonacci@1'])

      const before = mtimes(p, files)
      await delay(20) // a rewrite would show in the modification times
      const second = await gen(p)
      expect(second).toEqual({
        code: 0,
        signal: null,
        stdout: 'grenache-gen: 4 files, all up to date\n',
        stderr: '',
      })
      expect(mtimes(p, files)).toEqual(before)
      // Fresh output: --check exits 0 and says nothing.
      expect(await gen(p, '--check')).toEqual({ code: 0, signal: null, stdout: '', stderr: '' })
    })

    it('gives byte for byte what generate() gives in process (TS hooks from dist = tsx from source)', async ({
      expect,
    }) => {
      const p = project({
        'api/calc.schema.ts': CALC,
        'api/fib.schema.ts': FIB,
        'api/shared.ts': SHARED,
      })
      const flags = ['--schemas', 'api', '--out', 'src/gen', '--runtime', './lib/runtime.js']
      expect(await gen(p, ...flags)).toMatchObject({ code: 0, stderr: '' })
      const expected = generate(await loadSchemas({ root: p.root, dir: 'api' }), {
        out: 'src/gen',
        runtime: './lib/runtime.js',
        version: packageVersion(),
      })
      expect(expected.map((f) => f.path)).toEqual([
        'src/gen/calc.gen.ts',
        'src/gen/fib.gen.ts',
        'src/gen/index.ts',
        'api/schema.lock.json',
      ])
      for (const file of expected) expect(read(p, file.path), file.path).toBe(file.content)
      expect(readdirSync(join(p.root, 'src/gen')).sort()).toEqual(['calc.gen.ts', 'fib.gen.ts', 'index.ts'])
      // --runtime and the schema are imported relative to the generated file.
      expect(read(p, 'src/gen/calc.gen.ts')).toContain("from '../../lib/runtime.js'")
      expect(read(p, 'src/gen/calc.gen.ts')).toContain("import { calc } from '../../api/calc.schema.js'")
      expect(await gen(p, ...flags, '--check')).toMatchObject({ code: 0, stderr: '' })
    })

    it('takes absolute --schemas and --out as the same directories given relative to the project', async ({
      expect,
    }) => {
      const p = project({ 'api/calc.schema.ts': CALC })
      const flags = [
        '--schemas',
        join(p.root, 'api'),
        '--out',
        join(p.root, 'src/gen'),
        '--runtime',
        './lib/runtime.js',
      ]
      expect(await gen(p, ...flags)).toMatchObject({ code: 0, stderr: '' })
      expect(readdirSync(join(p.root, 'src/gen')).sort()).toEqual(['calc.gen.ts', 'index.ts'])
      expect(read(p, 'api/schema.lock.json')).toContain('calc')
      // The same output as relative flags give: imports stay relative to the generated file.
      expect(read(p, 'src/gen/calc.gen.ts')).toContain("import { calc } from '../../api/calc.schema.js'")
      expect(
        await gen(p, '--schemas', 'api', '--out', 'src/gen', '--runtime', './lib/runtime.js', '--check'),
      ).toMatchObject({ code: 0, stderr: '' })
      expect(await gen(p, ...flags, '--check')).toMatchObject({ code: 0, stderr: '' })
    })

    const USER = CALC.replace("from '@dsl'", "from 'grenache-gen/schema'")
    const userProject = (): SchemaProject =>
      project({
        'package.json': `${JSON.stringify({ name: 'user-project', private: true, type: 'module' })}\n`,
        'schemas/calc.schema.ts': USER,
      })

    it("cannot load 'grenache-gen/schema' in a project of its own without the package installed", async ({
      expect,
    }) => {
      const p = userProject()
      const run = await gen(p)
      expect(run.code).toBe(1)
      expect(run.stderr).toContain('ERR_SCHEMA_LOAD: schemas/calc.schema.ts: cannot be loaded')
      expect(run.stderr).toContain("Cannot find package 'grenache-gen'")
      expect(exists(p, 'generated')).toBe(false)
    })

    it("loads 'grenache-gen/schema' with node_modules/grenache-gen linked to this package", async ({
      expect,
    }) => {
      const p = userProject()
      mkdirSync(join(p.root, 'node_modules'))
      symlinkSync(ROOT, join(p.root, 'node_modules/grenache-gen'), 'dir')
      symlinkSync(join(ROOT, 'node_modules/zod'), join(p.root, 'node_modules/zod'), 'dir')
      const run = await gen(p)
      expect(run).toEqual({
        code: 0,
        signal: null,
        stdout: 'grenache-gen: 3 files, 3 written or removed\n',
        stderr: '',
      })
      const content = read(p, 'generated/calc.gen.ts')
      expect(content).toContain("from 'grenache-gen'")
      expect(content).toContain('export class CalcClient {')
      // The same service as through the relative DSL import: the same lock.
      const relative = project({ 'schemas/calc.schema.ts': CALC })
      expect(await gen(relative)).toMatchObject({ code: 0 })
      expect(read(p, 'schemas/schema.lock.json')).toBe(read(relative, 'schemas/schema.lock.json'))
    })
  })

  describe.concurrent('--check', () => {
    async function generated(): Promise<SchemaProject> {
      const p = project({
        'schemas/calc.schema.ts': CALC,
        'schemas/fib.schema.ts': FIB,
        'schemas/shared.ts': SHARED,
      })
      const run = await gen(p)
      if (run.code !== 0) throw new Error(`generate failed: ${run.stderr}`)
      return p
    }

    it('exits 1 listing the stale files after a schema changed, and writes nothing', async ({ expect }) => {
      const p = await generated()
      write(
        p,
        'schemas/calc.schema.ts',
        edit([RECORD_METHOD, `${RECORD_METHOD}    total: { input: z.object({}), output: z.number() },\n`]),
      )
      const before = read(p, 'generated/calc.gen.ts')
      const lock = read(p, 'schemas/schema.lock.json')
      const run = await gen(p, '--check')
      expect(run).toEqual({
        code: 1,
        signal: null,
        stdout: '',
        stderr:
          'grenache-gen: ERR_STALE: the generated files are stale (run grenache-gen):\n' +
          '  generated/calc.gen.ts\n' +
          '  schemas/schema.lock.json\n',
      })
      expect(read(p, 'generated/calc.gen.ts')).toBe(before)
      expect(read(p, 'schemas/schema.lock.json')).toBe(lock)
      // generate brings it back in line.
      expect((await gen(p)).stdout).toBe('grenache-gen: 4 files, 2 written or removed\n')
      expect(read(p, 'generated/calc.gen.ts')).toContain('total(')
      expect((await gen(p, '--check')).code).toBe(0)
    })

    it('refuses to move the lock over a breaking change (check still fails after it), until --accept-breaking', async ({
      expect,
    }) => {
      const p = await generated()
      const lock = read(p, 'schemas/schema.lock.json')
      const code = read(p, 'generated/calc.gen.ts')
      write(p, 'schemas/calc.schema.ts', edit(['.max(1000)', '.max(100)']))
      const breaks =
        '  calc@1 methods.divide.input: input accepts less: maximum went from 1000 to 100 (at properties.b.maximum) [input-narrowed]\n'
      for (const args of [[], [], ['--check']]) {
        const run = await gen(p, ...args)
        expect(run.code).toBe(1)
        expect(run.stdout).toBe('')
        expect(run.stderr).toMatch(
          /^grenache-gen: ERR_BREAKING_CHANGE: breaking changes without a new major version, /,
        )
        expect(run.stderr).toContain('--accept-breaking')
        expect(run.stderr.endsWith(breaks)).toBe(true)
        expect(read(p, 'schemas/schema.lock.json')).toBe(lock)
        expect(read(p, 'generated/calc.gen.ts')).toBe(code)
      }
      expect((await gen(p, 'check')).stderr).toContain(breaks)
      expect(await gen(p, '--accept-breaking')).toMatchObject({
        code: 0,
        stdout: 'grenache-gen: 4 files, 1 written or removed\n',
      })
      expect(await gen(p, 'check')).toMatchObject({ code: 0, stdout: 'grenache-gen: no breaking change\n' })
    })

    it('exits 1 listing a deleted .gen.ts', async ({ expect }) => {
      const p = await generated()
      rmSync(join(p.root, 'generated/fib.gen.ts'))
      const run = await gen(p, '--check')
      expect(run.code).toBe(1)
      expect(run.stderr).toBe(
        'grenache-gen: ERR_STALE: the generated files are stale (run grenache-gen):\n' +
          '  generated/fib.gen.ts\n',
      )
      expect(exists(p, 'generated/fib.gen.ts')).toBe(false)
      expect((await gen(p)).stdout).toBe('grenache-gen: 4 files, 1 written or removed\n')
      expect(exists(p, 'generated/fib.gen.ts')).toBe(true)
    })

    it('lists a .gen.ts left over from a deleted schema; generate removes it, never a file without the header', async ({
      expect,
    }) => {
      const p = await generated()
      rmSync(join(p.root, 'schemas/fib.schema.ts'))
      const handWritten = '// hand-written, not generated\nexport const x = 1\n'
      write(p, 'generated/hand.gen.ts', handWritten)
      const run = await gen(p, '--check')
      expect(run.code).toBe(1)
      expect(run.stderr).toBe(
        'grenache-gen: ERR_STALE: the generated files are stale (run grenache-gen):\n' +
          '  generated/index.ts\n' +
          '  schemas/schema.lock.json\n' +
          '  generated/fib.gen.ts (no longer generated)\n',
      )
      expect(exists(p, 'generated/fib.gen.ts')).toBe(true)

      const fix = await gen(p)
      expect(fix).toMatchObject({
        code: 0,
        stdout: 'grenache-gen: 3 files, 3 written or removed\n',
        stderr: '',
      })
      expect(readdirSync(join(p.root, 'generated')).sort()).toEqual([
        'calc.gen.ts',
        'hand.gen.ts',
        'index.ts',
      ])
      expect(read(p, 'generated/hand.gen.ts')).toBe(handWritten)
      expect(read(p, 'generated/index.ts')).not.toContain('fib.gen.js')
      expect(await gen(p, '--check')).toMatchObject({ code: 0, stderr: '' })
    })
  })

  describe.concurrent('an invalid schema', () => {
    const bad = (body: string) =>
      `import { z } from 'zod'\nimport { defineService } from '@dsl'\nexport const broken = defineService(${body})\n`
    const method = '{ input: z.object({ n: z.number() }), output: z.number() }'

    it.for([
      [
        'a version 0',
        bad(`{ name: 'svc', version: 0, methods: { m: ${method} } }`),
        'ERR_SCHEMA_INVALID: schemas/bad.schema.ts: export broken (service svc): version must be a positive integer, got 0 [rule: version]',
      ],
      [
        'a Date input',
        bad(
          `{ name: 'svc', version: 1, methods: { m: { input: z.object({ at: z.date() }), output: z.number() } } }`,
        ),
        'ERR_SCHEMA_INVALID: schemas/bad.schema.ts: export broken (service svc): methods.m.input.at travels as JSON, which cannot carry z.date()',
      ],
      [
        'an error code of ours',
        bad(`{ name: 'svc', version: 1, methods: { m: { ...${method}, errors: { ERR_X: 'x' } } } }`),
        'ERR_SCHEMA_INVALID: schemas/bad.schema.ts: export broken (service svc): methods.m.errors.ERR_X must be UPPER_SNAKE and not start with ERR_ (ours) [rule: error-code]',
      ],
      [
        'a syntax error',
        'export const broken = defineService({',
        'ERR_SCHEMA_LOAD: schemas/bad.schema.ts:1:',
      ],
    ])(
      '%s exits 1 naming the file (the export and the rule), and writes nothing',
      async ([, source = '', message = ''], { expect }) => {
        const p = project({ 'schemas/calc.schema.ts': CALC, 'schemas/bad.schema.ts': source })
        const run = await gen(p)
        expect(run.code).toBe(1)
        expect(run.stdout).toBe('')
        expect(run.stderr).toContain(`grenache-gen: ${message}`)
        if (message.startsWith('ERR_SCHEMA_INVALID')) {
          expect(run.stderr).toMatch(/\[rule: [a-z-]+\]\n$/)
          expect(run.stderr).not.toMatch(/\n\s+at /) // a message, not a stack trace
        }
        expect(exists(p, 'generated')).toBe(false)
        expect(exists(p, 'schemas/schema.lock.json')).toBe(false)
      },
    )

    it('two majors of one service in one schema file: both generated, or refused naming the file (no crash)', async ({
      expect,
    }) => {
      const p = project({
        'schemas/calc.schema.ts': `${CALC}
export const calcV2 = defineService({
  name: 'calc',
  version: 2,
  methods: { divide: { input: z.object({ a: z.number(), b: z.number() }), output: z.number() } },
})
`,
      })
      const run = await gen(p)
      // A crash shows as a stack trace; a refusal is a CodegenError naming the schema file and export.
      expect(run.stderr).not.toMatch(/\n\s+at /)
      if (run.code === 0) {
        expect(Object.keys(JSON.parse(read(p, 'schemas/schema.lock.json')).services)).toEqual([
          'calc@1',
          'calc@2',
        ])
      } else {
        expect(run.code).toBe(1)
        expect(run.stderr).toMatch(/^grenache-gen: ERR_SCHEMA_CLASH: schemas\/calc\.schema\.ts: export calc/)
      }
    })
  })

  describe('check', () => {
    let baseLock = ''

    beforeAll(async () => {
      const p = project({ 'schemas/calc.schema.ts': CALC })
      const run = await gen(p)
      if (run.code !== 0) throw new Error(`generate failed: ${run.stderr}`)
      baseLock = read(p, 'schemas/schema.lock.json')
    }, 60_000)

    /** A project whose lock is CALC's and whose schemas are `files`. */
    const locked = (files: Record<string, string>) =>
      project({ ...files, 'schemas/schema.lock.json': baseLock })

    describe.concurrent('compatible changes', () => {
      it('exits 0 with no change', async ({ expect }) => {
        const run = await gen(locked({ 'schemas/calc.schema.ts': CALC }), 'check')
        expect(run).toEqual({
          code: 0,
          signal: null,
          stdout: 'grenache-gen: no breaking change\n',
          stderr: '',
        })
      })

      it.for<[string, Record<string, string>, string[]]>([
        [
          'a new method',
          {
            'schemas/calc.schema.ts': edit([
              RECORD_METHOD,
              `${RECORD_METHOD}    total: { input: z.object({}), output: z.number() },\n`,
            ]),
          },
          [],
        ],
        [
          'an optional input field',
          {
            'schemas/calc.schema.ts': edit([
              '{ note: z.string() }',
              '{ note: z.string(), tags: z.array(z.string()).optional() }',
            ]),
          },
          [],
        ],
        [
          'a new output field',
          {
            'schemas/calc.schema.ts': edit([
              'exact: z.boolean() }',
              'exact: z.boolean(), remainder: z.number() }',
            ]),
          },
          [],
        ],
        [
          'a declared error and descriptions',
          {
            'schemas/calc.schema.ts': edit(
              [
                'idempotent: true,',
                "idempotent: true,\n      errors: { NOT_FOUND: 'no such note' },\n      description: 'Keeps a note',",
              ],
              ['version: 1,', "version: 1,\n  description: 'A calculator',"],
            ),
          },
          [],
        ],
        [
          'a new event',
          {
            'schemas/calc.schema.ts': edit([
              '    recorded:',
              '    reset: { payload: z.object({}) },\n    recorded:',
            ]),
          },
          [],
        ],
        [
          'a new major version alongside',
          {
            'schemas/calc.schema.ts': CALC,
            'schemas/calc-v2.schema.ts': `import { z } from 'zod'
import { defineService } from '@dsl'
export const calcV2 = defineService({
  name: 'calc',
  version: 2,
  methods: { divide: { input: z.object({ a: z.string() }), output: z.string() } },
})
`,
          },
          ['grenache-gen: new service version calc@2'],
        ],
        [
          'a major bump in place (v1 retired)',
          { 'schemas/calc.schema.ts': edit(['version: 1,', 'version: 2,'], ['.max(1000)', '.max(10)']) },
          [
            'grenache-gen: new service version calc@2',
            'grenache-gen: service version calc@1 is gone (its workers and clients must be gone too)',
          ],
        ],
      ])('exits 0 for %s', async ([, files = {}, notes = []], { expect }) => {
        const run = await gen(locked(files), 'check')
        expect(run).toEqual({
          code: 0,
          signal: null,
          stdout: [...notes, 'grenache-gen: no breaking change', ''].join('\n'),
          stderr: '',
        })
      })
    })

    describe.concurrent('breaking changes', () => {
      it.for<[string, string, string[]]>([
        [
          'a method removed',
          edit([RECORD_METHOD, '']),
          ['calc@1 methods.record: method `record` was removed: old clients still call it [method-removed]'],
        ],
        [
          'a new required input field',
          edit(['{ note: z.string() }', '{ note: z.string(), by: z.string() }']),
          [
            'calc@1 methods.record.input: input accepts less: field `by` became required (at required) [input-narrowed]',
          ],
        ],
        [
          'a tighter bound',
          edit(['.max(1000)', '.max(100)']),
          [
            'calc@1 methods.divide.input: input accepts less: maximum went from 1000 to 100 (at properties.b.maximum) [input-narrowed]',
          ],
        ],
        [
          'z.object becoming strict',
          edit(['z.object({ note: z.string() })', 'z.strictObject({ note: z.string() })']),
          [
            'calc@1 methods.record.input: input accepts less: undeclared fields are no longer accepted (at additionalProperties) [input-narrowed]',
          ],
        ],
        [
          'an output field made optional',
          edit(['exact: z.boolean() }', 'exact: z.boolean().optional() }']),
          [
            'calc@1 methods.divide.output: output may return what old clients do not expect: field `exact` became optional (at required) [output-widened]',
          ],
        ],
        [
          'a wider output type',
          edit(['output: z.object({ id: z.number().int() })', 'output: z.object({ id: z.number() })']),
          [
            'calc@1 methods.record.output: output may return what old clients do not expect: type went from integer to number (at properties.id.type) [output-widened]',
          ],
        ],
        [
          'an event payload field added',
          edit([
            'payload: z.object({ id: z.number().int() })',
            'payload: z.object({ id: z.number().int(), at: z.number().optional() })',
          ]),
          [
            'calc@1 events.recorded.payload: payload changed: field `at` was added (at properties.at) [event-changed]',
          ],
        ],
        [
          'an event removed',
          edit([EVENTS, '']),
          [
            'calc@1 events.recorded: event `recorded` was removed: old subscribers still wait for it [event-removed]',
          ],
        ],
        [
          'idempotent turned on',
          edit([
            "errors: { DIVISION_BY_ZERO: 'b is 0' },",
            "errors: { DIVISION_BY_ZERO: 'b is 0' },\n      idempotent: true,",
          ]),
          [
            'calc@1 methods.divide.idempotent: `idempotent` turned on: new clients may retry a call on an old worker, which may not be safe to run twice [idempotent-added]',
          ],
        ],
        [
          'a key pinned',
          edit(['version: 1,', "version: 1,\n  key: 'calc_worker',"]),
          [
            'calc@1 key: the discovery key went from `calc@1` to `calc_worker`: old clients look it up under the old one [key-changed]',
          ],
        ],
        [
          'two breaks at once',
          edit([RECORD_METHOD, ''], ['.max(1000)', '.max(100)']),
          [
            'calc@1 methods.divide.input: input accepts less: maximum went from 1000 to 100 (at properties.b.maximum) [input-narrowed]',
            'calc@1 methods.record: method `record` was removed: old clients still call it [method-removed]',
          ],
        ],
      ])('exits 1 for %s, listing each break', async ([, schema = '', breaks = []], { expect }) => {
        const run = await gen(locked({ 'schemas/calc.schema.ts': schema }), 'check')
        expect(run).toEqual({
          code: 1,
          signal: null,
          stdout: '',
          stderr: `grenache-gen: ERR_BREAKING_CHANGE: breaking changes without a new major version:\n${breaks.map((b) => `  ${b}\n`).join('')}`,
        })
      })
    })

    describe.concurrent('a lock it cannot use', () => {
      it.for<[string, string | undefined, string]>([
        ['missing', undefined, 'schemas/schema.lock.json is missing: run grenache-gen once to write it'],
        ['not JSON', '{ "lockVersion": 1,', 'schemas/schema.lock.json is not JSON: '],
        [
          'another version',
          '{ "lockVersion": 2, "services": {} }\n',
          'schemas/schema.lock.json is not a grenache-gen lock (lockVersion 1 with services)',
        ],
      ])('exits 1 with ERR_LOCK_INVALID when the lock is %s', async ([, lock, message = ''], { expect }) => {
        const files: Record<string, string> = { 'schemas/calc.schema.ts': CALC }
        if (lock !== undefined) files['schemas/schema.lock.json'] = lock
        const run = await gen(project(files), 'check')
        expect(run.code).toBe(1)
        expect(run.stdout).toBe('')
        expect(run.stderr).toMatch(/^grenache-gen: ERR_LOCK_INVALID: /)
        expect(run.stderr).toContain(message)
      })
    })

    it('--against <ref> compares with the lock committed at that git ref', async () => {
      const p = project({ 'schemas/calc.schema.ts': CALC })
      expect(await gen(p)).toMatchObject({ code: 0 })
      git(p, 'init', '-q')
      git(p, 'config', 'user.name', 'grenache-gen test')
      git(p, 'config', 'user.email', 'grenache-gen-test@example.invalid')
      git(p, 'config', 'commit.gpgsign', 'false')
      git(p, 'add', '-A')
      git(p, 'commit', '-q', '-m', 'the released schemas')
      // A break, and the lock moved over it on purpose: the lock file no longer shows it, HEAD does.
      write(p, 'schemas/calc.schema.ts', edit(['.max(1000)', '.max(100)']))
      expect(await gen(p, '--accept-breaking')).toMatchObject({
        code: 0,
        stdout: 'grenache-gen: 3 files, 1 written or removed\n',
      })
      expect(await gen(p, 'check')).toMatchObject({ code: 0, stdout: 'grenache-gen: no breaking change\n' })
      expect(await gen(p, 'check', '--against', 'HEAD')).toEqual({
        code: 1,
        signal: null,
        stdout: '',
        stderr:
          'grenache-gen: ERR_BREAKING_CHANGE: breaking changes without a new major version:\n' +
          '  calc@1 methods.divide.input: input accepts less: maximum went from 1000 to 100 (at properties.b.maximum) [input-narrowed]\n',
      })
      const unknown = await gen(p, 'check', '--against', 'no-such-ref')
      expect(unknown.code).toBe(1)
      expect(unknown.stderr).toMatch(
        /^grenache-gen: ERR_LOCK_INVALID: cannot read schemas\/schema\.lock\.json at no-such-ref: /,
      )
    })
  })

  describe('--watch', () => {
    afterEach(killAll)

    it('regenerates after a schema file changes, survives a broken one, and exits 0 on SIGTERM', async () => {
      const p = project({ 'schemas/calc.schema.ts': CALC })
      const proc = start(p.root, ['--watch'])
      await until('the first generation', () => proc.stdout.includes('3 written or removed'))
      expect(proc.stdout).toContain('grenache-gen: watching schemas (Ctrl-C to stop)\n')
      const first = read(p, 'generated/calc.gen.ts')
      expect(first).not.toContain('total(')

      write(
        p,
        'schemas/calc.schema.ts',
        edit([RECORD_METHOD, `${RECORD_METHOD}    total: { input: z.object({}), output: z.number() },\n`]),
      )
      await until('calc.gen.ts regenerated', () => read(p, 'generated/calc.gen.ts').includes('total('))
      expect(JSON.parse(read(p, 'schemas/schema.lock.json')).services['calc@1'].methods).toHaveProperty(
        'total',
      )

      write(p, 'schemas/calc.schema.ts', edit(['version: 1,', 'version: 0,']))
      await until('the broken schema reported', () => proc.stderr.includes('ERR_SCHEMA_INVALID'))
      expect(proc.stderr).toContain('schemas/calc.schema.ts: export calc (service calc): version must be')
      expect(proc.done).toBe(false)
      expect(read(p, 'generated/calc.gen.ts')).toContain('total(')

      // Removing the method again is a break: refused on this save too, the lock keeps `total`.
      write(p, 'schemas/calc.schema.ts', CALC)
      await until('the break refused', () => proc.stderr.includes('ERR_BREAKING_CHANGE'))
      expect(proc.stderr).toContain('calc@1 methods.total: method `total` was removed')
      expect(proc.done).toBe(false)
      expect(read(p, 'generated/calc.gen.ts')).toContain('total(')
      expect(JSON.parse(read(p, 'schemas/schema.lock.json')).services['calc@1'].methods).toHaveProperty(
        'total',
      )

      proc.child.kill('SIGTERM')
      const run = await exited(proc, 30_000)
      expect(run.code).toBe(0)
      expect(run.signal).toBe(null)
    })
  })
})
