/**
 * How schema loading fails, as the user reads it: the source position of a syntax or run-time
 * error (not the transpiled one), an empty schemas folder or schema file, a zod that is not the
 * app's one supported copy. Each through both loaders: from source (tsx) and from dist (the
 * generator's own TypeScript hooks, what users of the package run).
 */
import { mkdirSync, writeFileSync } from 'node:fs'
import { join } from 'node:path'
import { pathToFileURL } from 'node:url'
import { beforeAll, describe, expect, it } from 'vitest'
import type { CodegenError } from '../../codegen/errors.js'
import { loadSchemas } from '../../codegen/load/load.js'
import { SUPPORTED_ZOD } from '../../codegen/load/zod-check.js'
import { ensureBuilt, ROOT } from '../helpers/built.js'
import { type SchemaProject, schemaProjects } from '../helpers/codegen.js'

type Load = typeof loadSchemas
let fromDist: Load
const project = schemaProjects()
beforeAll(async () => {
  ensureBuilt('dist/codegen/cli.js')
  const url = pathToFileURL(join(ROOT, 'dist/codegen/load/load.js')).href
  fromDist = ((await import(url)) as { loadSchemas: Load }).loadSchemas
}, 240_000)

async function failure(load: Load, p: SchemaProject, dir = 'schemas'): Promise<CodegenError> {
  return load({ root: p.root, dir }).then(
    () => {
      throw new Error('loaded')
    },
    (err: CodegenError) => err,
  )
}

const GOOD = `import { z } from 'zod'
import { defineService } from '@dsl'
export const svc = defineService({ name: 'svc', version: 1, methods: { m: { input: z.object({}), output: z.number() } } })
`

// Types and an interface before the throw: the transpiled file has fewer lines than the source.
const THROWS = `import { z } from 'zod'

interface Unused {
  a: string
  b: number
}
type Alias = Unused | undefined
const value: Alias = undefined as Alias
export const n: number = z.number().parse(value ?? 1) + missing()
function missing(): number {
  throw new TypeError('boom from the schema')
}
`

describe.for([
  ['from source (tsx)', () => loadSchemas],
  ['from dist (TypeScript hooks)', () => fromDist],
] as const)('loadSchemas() %s', ([, loader]) => {
  it('names the file, line and column of a syntax error', async () => {
    const p = project({
      'schemas/good.schema.ts': GOOD,
      'schemas/bad.schema.ts': "import { z } from 'zod'\n\nexport const x = )\n",
    })
    const err = await failure(loader(), p)
    expect(err.code).toBe('ERR_SCHEMA_LOAD')
    expect(err.file).toBe('schemas/bad.schema.ts')
    expect(err.message).toMatch(/^schemas\/bad\.schema\.ts:3:\d+: cannot be loaded: /)
  })

  it('names the source line of a run-time error, not the transpiled one', async () => {
    const p = project({ 'schemas/bad.schema.ts': THROWS })
    const err = await failure(loader(), p)
    expect(err.code).toBe('ERR_SCHEMA_LOAD')
    expect(err.message).toMatch(
      /^schemas\/bad\.schema\.ts:11:\d+: cannot be loaded: TypeError: boom from the schema/,
    )
  })

  it('says so when the schemas folder holds no schema file', async () => {
    const p = project({ 'schemas/shared.ts': 'export const x = 1\n' })
    const err = await failure(loader(), p)
    expect(err.code).toBe('ERR_SCHEMA_EMPTY')
    expect(err.message).toBe('schemas holds no *.schema.ts file')
  })

  it('says so when a schema file exports no service or state', async () => {
    const p = project({ 'schemas/good.schema.ts': GOOD, 'schemas/none.schema.ts': 'export const x = 1\n' })
    const err = await failure(loader(), p)
    expect(err.code).toBe('ERR_SCHEMA_EMPTY')
    expect(err.file).toBe('schemas/none.schema.ts')
    expect(err.message).toMatch(/^schemas\/none\.schema\.ts exports no service or state/)
  })

  it.for([
    ['3.25.76', /the schemas use zod 3\.25\.76 .*grenache-gen supports zod \^4\.0\.0/],
    ['4.6.7', /two copies of zod: the schemas use zod 4\.6\.7 .*, grenache-gen uses zod 4\./],
  ] as const)('refuses zod %s beside the schemas with ERR_ZOD_VERSION', async ([version, message]) => {
    const p = project({ 'schemas/good.schema.ts': GOOD })
    const zod = join(p.root, 'node_modules/zod')
    mkdirSync(zod, { recursive: true })
    writeFileSync(
      join(zod, 'package.json'),
      JSON.stringify({
        name: 'zod',
        version,
        type: 'module',
        exports: { '.': './index.js', './package.json': './package.json' },
      }),
    )
    writeFileSync(join(zod, 'index.js'), 'export const z = {}\n')
    const err = await failure(loader(), p)
    expect(err.code).toBe('ERR_ZOD_VERSION')
    expect(err.message).toMatch(message)
  })
})

describe('SUPPORTED_ZOD', () => {
  it("is package.json's peer dependency range", async () => {
    const manifest = (await import('../../package.json', { with: { type: 'json' } })).default as {
      peerDependencies: Record<string, string>
    }
    expect(manifest.peerDependencies.zod).toBe(SUPPORTED_ZOD.range)
  })
})
