/**
 * The loader process: imports every `*.schema.ts` of a directory and prints the model (or the
 * problems) as one JSON line on stdout. Run by `loadSchemas`, never by hand:
 *   node [--import tsx] load-child.js <root> <schemas dir>
 */
import { readdirSync } from 'node:fs'
import { register } from 'node:module'
import { join, relative, resolve, sep } from 'node:path'
import { pathToFileURL } from 'node:url'
import type { SchemaModel } from '../model.js'
import { buildFileModel, checkAcrossFiles, type Problem } from './build-model.js'
import { loadErrorMessage } from './load-error.js'
import { zodProblem } from './zod-check.js'

const [root = process.cwd(), dir = 'schemas'] = process.argv.slice(2)

// Stack traces through the inline source maps of transpiled schemas: errors name source lines.
process.setSourceMapsEnabled(true)
// Our hooks read the schemas' TypeScript, also under tsx (from source), so both give the same
// model: JSDoc on fields becomes descriptions, syntax errors name the source position.
register(new URL(`./ts-hooks.${import.meta.url.endsWith('.ts') ? 'ts' : 'js'}`, import.meta.url))

const problems: Problem[] = []
const absolute = resolve(root, dir)
const model: SchemaModel = { dir: toPosix(relative(root, absolute)), files: [] }
let names: string[] = []
const zod = zodProblem(absolute)
if (zod) problems.push(zod)
else
  try {
    names = readdirSync(absolute)
      .filter((name) => name.endsWith('.schema.ts'))
      .sort()
  } catch (err) {
    problems.push({
      code: 'ERR_SCHEMA_LOAD',
      message: `cannot read the schemas directory ${dir}: ${(err as Error).message}`,
    })
  }
if (problems.length === 0 && names.length === 0) {
  problems.push({ code: 'ERR_SCHEMA_EMPTY', message: `${dir} holds no *.schema.ts file` })
}
// Imported all at once (their transpiling overlaps), then modelled in name order.
const imported = await Promise.allSettled(
  names.map((name) => import(pathToFileURL(join(absolute, name)).href) as Promise<Record<string, unknown>>),
)
names.forEach((name, i) => {
  const file = toPosix(relative(root, join(absolute, name)))
  const result = imported[i] as PromiseSettledResult<Record<string, unknown>>
  if (result.status === 'fulfilled') {
    const built = buildFileModel(file, name.slice(0, -'.schema.ts'.length), result.value, problems)
    const counted = problems.some((p) => p.file === file)
    if (!counted && built.services.length === 0 && built.states.length === 0) {
      problems.push({
        code: 'ERR_SCHEMA_EMPTY',
        file,
        message: `${file} exports no service or state (export what defineService or defineState returns)`,
      })
    }
    model.files.push(built)
  } else {
    problems.push({ code: 'ERR_SCHEMA_LOAD', file, message: loadErrorMessage(file, result.reason, root) })
  }
})
checkAcrossFiles(model, problems)
process.stdout.write(
  `${JSON.stringify(problems.length > 0 ? { ok: false, problems } : { ok: true, model })}\n`,
)

function toPosix(path: string): string {
  return path.split(sep).join('/')
}
