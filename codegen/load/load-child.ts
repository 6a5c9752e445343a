/**
 * The loader process: imports every `*.schema.ts` of a directory and prints the model (or the
 * problems) as one JSON line on stdout. Run by `loadSchemas`, never by hand:
 *   node [--import tsx] load-child.js <root> <schemas dir>
 */
import { readdirSync } from 'node:fs'
import { register } from 'node:module'
import { join, relative, sep } from 'node:path'
import { pathToFileURL } from 'node:url'
import type { SchemaModel } from '../model.js'
import { buildFileModel, checkAcrossFiles, type Problem } from './build-model.js'

const [root = process.cwd(), dir = 'schemas'] = process.argv.slice(2)

// From compiled JS, nothing reads TypeScript yet: our hooks do. From source, tsx already does.
if (!import.meta.url.endsWith('.ts')) register(new URL('./ts-hooks.js', import.meta.url))

const problems: Problem[] = []
const absolute = join(root, dir)
const model: SchemaModel = { dir: toPosix(relative(root, absolute)), files: [] }
let names: string[] = []
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
// Imported all at once (their transpiling overlaps), then modelled in name order.
const imported = await Promise.allSettled(
  names.map((name) => import(pathToFileURL(join(absolute, name)).href) as Promise<Record<string, unknown>>),
)
names.forEach((name, i) => {
  const file = toPosix(relative(root, join(absolute, name)))
  const result = imported[i] as PromiseSettledResult<Record<string, unknown>>
  if (result.status === 'fulfilled') {
    model.files.push(buildFileModel(file, name.slice(0, -'.schema.ts'.length), result.value, problems))
  } else {
    const err = result.reason as Error | undefined
    problems.push({
      code: 'ERR_SCHEMA_LOAD',
      file,
      message: `${file}: cannot be loaded: ${err?.stack ?? err}`,
    })
  }
})
checkAcrossFiles(model, problems)
process.stdout.write(
  `${JSON.stringify(problems.length > 0 ? { ok: false, problems } : { ok: true, model })}\n`,
)

function toPosix(path: string): string {
  return path.split(sep).join('/')
}
