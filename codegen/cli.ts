#!/usr/bin/env node
/**
 * `grenache-gen`: the only part of codegen that touches argv, files and the exit code.
 *   grenache-gen [--schemas schemas] [--out generated] [--runtime grenache-gen] [--check | --watch]
 *                [--accept-breaking]
 *   grenache-gen check [--schemas schemas] [--against <git-ref>]
 * Exit codes: 0 done, 1 schema errors / stale output / breaking changes, 2 bad usage.
 */
import { execFileSync } from 'node:child_process'
import { existsSync, mkdirSync, readdirSync, readFileSync, rmSync, watch, writeFileSync } from 'node:fs'
import { dirname, join, posix, relative, resolve, sep } from 'node:path'
import { parseArgs } from 'node:util'
import { packageVersion } from '../runtime/util/package-version.js'
import { regenerateCommand } from './command.js'
import { describeChanges, findBreaks, formatBreaks } from './compat.js'
import { CodegenError } from './errors.js'
import type { OutputFile } from './generate.js'
import { loadSchemas } from './load/load.js'
import { createLock, parseLock } from './lock.js'

const VERSION = packageVersion()

const HELP = `grenache-gen ${VERSION}: typed Grenache services from schema files

Usage:
  grenache-gen [options]            generate <out>/*.gen.ts, <out>/index.ts and <schemas>/schema.lock.json
  grenache-gen check [options]      fail on a breaking change without a new major version

Options:
  --schemas <dir>     the schema files (*.schema.ts), default schemas
  --out <dir>         where generated files go, default generated
  --runtime <module>  what generated code imports the runtime from, default grenache-gen
                      (a path starting with ./ is relative to the project root)
  --check             write nothing; exit 1 listing the files that are stale
  --watch             regenerate whenever a schema changes
  --accept-breaking   write the lock over breaking changes (refused otherwise: bump the major
                      version instead, unless no old client or worker of it remains)
  --against <ref>     (check) compare with the lock at a git ref instead of the lock file
  -h, --help          this help
  -V, --version       the version

Exit codes: 0 done, 1 invalid schemas, stale output or breaking changes, 2 bad usage.
`

interface Options {
  command: 'generate' | 'check'
  schemas: string
  out: string
  runtime: string
  check: boolean
  watch: boolean
  acceptBreaking: boolean
  against: string | undefined
}

const FLAGS = {
  schemas: { type: 'string' },
  out: { type: 'string' },
  runtime: { type: 'string' },
  check: { type: 'boolean' },
  watch: { type: 'boolean' },
  'accept-breaking': { type: 'boolean' },
  against: { type: 'string' },
  help: { type: 'boolean', short: 'h' },
  version: { type: 'boolean', short: 'V' },
} as const

const root = process.cwd()
main(process.argv.slice(2)).then(
  (code) => {
    process.exitCode = code
  },
  (err: unknown) => {
    report(err)
    process.exitCode = err instanceof CodegenError && err.code === 'ERR_USAGE' ? 2 : 1
  },
)

async function main(argv: string[]): Promise<number> {
  const options = parse(argv)
  if (options === 'help' || options === 'version') {
    process.stdout.write(options === 'help' ? HELP : `${VERSION}\n`)
    return 0
  }
  if (options.command === 'check') return checkCompatibility(options)
  if (options.watch) return watchSchemas(options)
  return runGenerate(options)
}

function parse(argv: string[]): Options | 'help' | 'version' {
  let parsed: ReturnType<typeof parseArgs<{ options: typeof FLAGS; allowPositionals: true; strict: true }>>
  try {
    parsed = parseArgs({ args: argv, options: FLAGS, allowPositionals: true, strict: true })
  } catch (err) {
    throw new CodegenError('ERR_USAGE', (err as Error).message)
  }
  const { values, positionals } = parsed
  if (values.help) return 'help'
  if (values.version) return 'version'
  const [command = 'generate', ...rest] = positionals
  if (command !== 'generate' && command !== 'check')
    throw new CodegenError('ERR_USAGE', `unknown command ${command}`)
  if (rest.length > 0) throw new CodegenError('ERR_USAGE', `unexpected argument ${rest[0]}`)
  if (values.check && values.watch)
    throw new CodegenError('ERR_USAGE', '--check and --watch exclude each other')
  if (command === 'check' && (values.check || values.watch || values['accept-breaking'])) {
    throw new CodegenError('ERR_USAGE', 'check takes --schemas and --against only')
  }
  if (command === 'generate' && values.against)
    throw new CodegenError('ERR_USAGE', '--against belongs to check')
  for (const name of ['schemas', 'out', 'runtime', 'against'] as const) {
    if (values[name] === '') throw new CodegenError('ERR_USAGE', `--${name} needs a value`)
  }
  return {
    command,
    schemas: projectPath(values.schemas ?? 'schemas'),
    out: projectPath(values.out ?? 'generated'),
    runtime: values.runtime ?? 'grenache-gen',
    check: values.check ?? false,
    watch: values.watch ?? false,
    acceptBreaking: values['accept-breaking'] ?? false,
    against: values.against,
  }
}

/**
 * A directory given on the command line, as a POSIX path relative to the project root: every path
 * below (the loader's, the lock's, the generated files', their imports) is relative to the root,
 * so an absolute `--schemas /srv/app/schemas` means the same as `--schemas schemas` run there.
 */
function projectPath(value: string): string {
  const path = relative(root, resolve(root, value))
  return path === '' ? '.' : posix.normalize(path.split(sep).join('/'))
}

async function outputs(options: Options): Promise<OutputFile[]> {
  // The loader process starts first; the generator (and TypeScript under it) loads meanwhile.
  const loading = loadSchemas({ root, dir: options.schemas })
  const { generate } = await import('./generate.js')
  // The lock on disk is the baseline generation may not move over a break (a first run has none).
  const lockPath = posix.join(options.schemas, 'schema.lock.json')
  const lock = existsSync(join(root, lockPath)) ? parseLock(readLock(lockPath), lockPath) : undefined
  return generate(await loading, {
    out: options.out,
    runtime: options.runtime,
    version: VERSION,
    ...(lock ? { lock } : {}),
    acceptBreaking: options.acceptBreaking,
  })
}

async function runGenerate(options: Options): Promise<number> {
  const files = await outputs(options)
  const stale = staleFiles(files, options.out)
  if (options.check) {
    if (stale.changed.length === 0 && stale.extra.length === 0) return 0
    throw new CodegenError(
      'ERR_STALE',
      `the generated files are stale (run ${regenerateCommand(options)}):\n${[...stale.changed.map((f) => `  ${f}`), ...stale.extra.map((f) => `  ${f} (no longer generated)`)].join('\n')}`,
    )
  }
  for (const file of files.filter((f) => stale.changed.includes(f.path))) {
    mkdirSync(join(root, dirname(file.path)), { recursive: true })
    writeFileSync(join(root, file.path), file.content)
  }
  for (const path of stale.extra) rmSync(join(root, path))
  const changed = stale.changed.length + stale.extra.length
  process.stdout.write(
    `grenache-gen: ${files.length} files, ${changed === 0 ? 'all up to date' : `${changed} written or removed`}\n`,
  )
  return 0
}

/** Files whose content differs, and generated files in `out` nobody generates any more. */
function staleFiles(files: OutputFile[], out: string): { changed: string[]; extra: string[] } {
  const changed = files
    .filter(
      (file) =>
        !existsSync(join(root, file.path)) || readFileSync(join(root, file.path), 'utf8') !== file.content,
    )
    .map((file) => file.path)
  const wanted = new Set(files.map((file) => file.path))
  const dir = join(root, out)
  const extra = existsSync(dir)
    ? readdirSync(dir)
        .filter((name) => name.endsWith('.gen.ts'))
        .map((name) => posix.join(out, name))
        .filter(
          (path) =>
            !wanted.has(path) &&
            readFileSync(join(root, path), 'utf8').startsWith('// @generated by grenache-gen'),
        )
    : []
  return { changed, extra }
}

async function watchSchemas(options: Options): Promise<number> {
  let timer: NodeJS.Timeout | undefined
  let running = Promise.resolve()
  const run = (): void => {
    running = running.then(() =>
      runGenerate(options).then(
        () => undefined,
        (err: unknown) => report(err),
      ),
    )
  }
  run()
  const watcher = watch(join(root, options.schemas), () => {
    clearTimeout(timer)
    timer = setTimeout(run, 100)
  })
  process.stdout.write(`grenache-gen: watching ${options.schemas} (Ctrl-C to stop)\n`)
  await new Promise<void>((resolve) => {
    for (const signal of ['SIGINT', 'SIGTERM'] as const) process.once(signal, () => resolve())
  })
  watcher.close()
  clearTimeout(timer)
  await running
  return 0
}

async function checkCompatibility(options: Options): Promise<number> {
  const lockPath = posix.join(options.schemas, 'schema.lock.json')
  const text = options.against ? gitShow(options.against, lockPath) : readLock(lockPath)
  const before = parseLock(text, options.against ? `${lockPath} at ${options.against}` : lockPath)
  const after = createLock(await loadSchemas({ root, dir: options.schemas }), before)
  const breaks = findBreaks(before, after)
  const { added, removed, addedStates, removedStates } = describeChanges(before, after)
  for (const key of added) process.stdout.write(`grenache-gen: new service version ${key}\n`)
  for (const key of removed)
    process.stdout.write(
      `grenache-gen: service version ${key} is gone (its workers and clients must be gone too)\n`,
    )
  for (const key of addedStates) process.stdout.write(`grenache-gen: new state version ${key}\n`)
  for (const key of removedStates)
    process.stdout.write(
      `grenache-gen: state version ${key} is gone (its publishers and replicas must be gone too)\n`,
    )
  if (breaks.length === 0) {
    process.stdout.write('grenache-gen: no breaking change\n')
    return 0
  }
  throw new CodegenError(
    'ERR_BREAKING_CHANGE',
    `breaking changes without a new major version:\n${formatBreaks(breaks)}`,
  )
}

function readLock(path: string): string {
  try {
    return readFileSync(join(root, path), 'utf8')
  } catch {
    throw new CodegenError('ERR_LOCK_INVALID', `${path} is missing: run grenache-gen once to write it`)
  }
}

function gitShow(ref: string, path: string): string {
  try {
    return execFileSync('git', ['show', `${ref}:${path}`], {
      cwd: root,
      encoding: 'utf8',
      stdio: ['ignore', 'pipe', 'pipe'],
    })
  } catch (err) {
    throw new CodegenError(
      'ERR_LOCK_INVALID',
      `cannot read ${path} at ${ref}: ${(err as { stderr?: string }).stderr?.trim() || (err as Error).message}`,
    )
  }
}

function report(err: unknown): void {
  if (err instanceof CodegenError) process.stderr.write(`grenache-gen: ${err.code}: ${err.message}\n`)
  else process.stderr.write(`grenache-gen: ${(err as Error)?.stack ?? String(err)}\n`)
}
