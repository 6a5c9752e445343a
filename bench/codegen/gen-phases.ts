/**
 * The phase probe of the generator timing: does what `grenache-gen` (dist/codegen/cli.js,
 * `runGenerate`) does, with the built modules, and times each step:
 *   load     `loadSchemas()`: the loader child process (node, the built hooks transpiling every
 *            schema file, zod → JSON Schema), wall time, and its CPU (cutime of this process);
 *   generate `generate()`: ts-morph emit + format of every file and the lock, in this process;
 *   write    compare each output with the file on disk and write the changed ones (`check`: compare only).
 * Prints one JSON line (`PhaseResult`). Run by bench/codegen/generator.ts as
 *   node --import tsx bench/codegen/gen-phases.ts '<PhaseConfig JSON>'
 * (tsx slows module loading, which is why the import of the CLI's modules is timed apart, in plain node.)
 */
import { existsSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs'
import { dirname, join, resolve, sep } from 'node:path'
import { performance } from 'node:perf_hooks'
import { pathToFileURL } from 'node:url'
import { ROOT } from '../lib/children.js'
import { waitedChildrenCpuMs } from './processes.js'

type LoadModule = typeof import('../../codegen/load/load.js')
type GenerateModule = typeof import('../../codegen/generate.js')
type VersionModule = typeof import('../../runtime/util/package-version.js')

export interface PhaseConfig {
  /** The schemas directory, relative to the repository root. */
  schemas: string
  out: string
  runtime: string
  /** Compare only, write nothing (`--check`). */
  check: boolean
  /** Writing is refused outside this directory (relative to the root). */
  writeUnder?: string
}

export interface PhaseResult {
  services: number
  files: number
  changed: number
  loadMs: number
  loadCpuMs: number
  generateMs: number
  generateCpuMs: number
  writeMs: number
}

const config = JSON.parse(process.argv[2] ?? '{}') as PhaseConfig
const dist = pathToFileURL(join(ROOT, 'dist')).href
const { loadSchemas } = (await import(`${dist}/codegen/load/load.js`)) as LoadModule
const { generate } = (await import(`${dist}/codegen/generate.js`)) as GenerateModule
const { packageVersion } = (await import(`${dist}/runtime/util/package-version.js`)) as VersionModule

const loadCpuBefore = waitedChildrenCpuMs()
let at = performance.now()
const model = await loadSchemas({ root: ROOT, dir: config.schemas })
const loadMs = performance.now() - at
const loadCpuMs = waitedChildrenCpuMs() - loadCpuBefore

const cpuBefore = process.cpuUsage()
at = performance.now()
const files = generate(model, { out: config.out, runtime: config.runtime, version: packageVersion() })
const generateMs = performance.now() - at
const cpu = process.cpuUsage(cpuBefore)

at = performance.now()
let changed = 0
const allowed = config.writeUnder ? resolve(ROOT, config.writeUnder) + sep : undefined
for (const file of files) {
  const path = join(ROOT, file.path)
  if (existsSync(path) && readFileSync(path, 'utf8') === file.content) continue
  changed++
  if (config.check) continue
  if (!allowed || !resolve(path).startsWith(allowed)) throw new Error(`refusing to write ${file.path}`)
  mkdirSync(dirname(path), { recursive: true })
  writeFileSync(path, file.content)
}
const writeMs = performance.now() - at

const result: PhaseResult = {
  services: model.files.reduce((total, file) => total + file.services.length, 0),
  files: files.length,
  changed,
  loadMs,
  loadCpuMs,
  generateMs,
  generateCpuMs: (cpu.user + cpu.system) / 1000,
  writeMs,
}
process.stdout.write(`${JSON.stringify(result)}\n`)
