/**
 * The package as npm ships it, used from a project of its own: `npm pack` of this repository,
 * unpacked into a throwaway project whose node_modules holds only what package.json declares
 * (dependencies and peer dependencies, linked from this repository's node_modules, as npm would
 * install them: no network), then the packed `grenache-gen` generates code from a schema and
 * TypeScript checks a file using it with `strict` and `skipLibCheck: false`, so every published
 * .d.ts must resolve. About 20-40 s on the shared 2-core box, most of it the type check.
 */
import { execFile } from 'node:child_process'
import { existsSync, mkdirSync, mkdtempSync, readFileSync, rmSync, symlinkSync, writeFileSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { dirname, join, posix } from 'node:path'
import { promisify } from 'node:util'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { ensureBuilt, ROOT } from '../helpers/built.js'

const run = promisify(execFile)

interface Manifest {
  dependencies?: Record<string, string>
  peerDependencies?: Record<string, string>
  files?: string[]
}

const SCHEMA = `import { z } from 'zod'
import { defineService } from 'grenache-gen/schema'

export const inventory = defineService({
  name: 'inventory',
  version: 1,
  methods: {
    count: { input: z.object({}), output: z.number() },
    take: { input: z.object({ sku: z.string() }), output: z.boolean(), errors: { SOLD_OUT: 'none left' } },
  },
})
`

const USAGE = `import { Link } from 'grenache-gen'
import { InventoryClient, isInventoryError, serveInventory } from './generated/index.js'

export async function use(link: Link): Promise<number> {
  const server = serveInventory({ count: () => 1, take: ({ sku }) => sku.length > 0 }, { link, listen: [{ transport: 'ws' }] })
  await server.start()
  const client = new InventoryClient({ link, transport: 'ws' })
  const taken: boolean = await client.take({ sku: 'a' }).catch((err: unknown) => !isInventoryError(err, 'SOLD_OUT'))
  const n: number = await client.count()
  await client.close()
  await server.close()
  return n + Number(taken)
}
`

/** Two Grapes of the bundle, found through by a Link of the runtime; an error of each copy. */
const GRAPE_USE = `import { Grape } from 'grenache-gen/grape'
import { GrenacheError, isGrenacheError, Link } from 'grenache-gen'

const a = new Grape({ dhtPort: 0, apiPort: 0, dhtHost: '127.0.0.1', bootstrap: [] })
const first = await a.start()
const b = new Grape({ dhtPort: 0, apiPort: 0, dhtHost: '127.0.0.1', bootstrap: ['127.0.0.1:' + first.dhtPort] })
const second = await b.start()
const announcer = new Link({ grape: second.url })
const finder = new Link({ grape: first.url })
await announcer.announce('pack:bundle', 4321)
const found = await finder.lookup('pack:bundle')
let refused
try {
  new Grape({ apiPort: -1 })
} catch (err) {
  refused = err
}
console.log(JSON.stringify({ found, instance: refused instanceof GrenacheError, is: isGrenacheError(refused, 'ERR_INVALID_OPTION') }))
await Promise.all([announcer.close(), finder.close()])
await Promise.all([a.close(), b.close()])
`

let project = ''
let packed: string[] = []

describe('the packed package in a project of its own', { timeout: 180_000 }, () => {
  beforeAll(async () => {
    ensureBuilt('dist/codegen/cli.js')
    ensureBuilt('dist/bundle/grape.js')
    project = mkdtempSync(join(tmpdir(), 'grenache-gen-pack-'))
    const { stdout } = await run(
      'npm',
      ['pack', '--ignore-scripts', '--json', '--pack-destination', project],
      {
        cwd: ROOT,
      },
    )
    const [info] = JSON.parse(stdout) as Array<{ filename: string; files: Array<{ path: string }> }>
    if (!info) throw new Error(`npm pack printed nothing: ${stdout}`)
    packed = info.files.map((f) => f.path)
    const target = join(project, 'node_modules/grenache-gen')
    mkdirSync(target, { recursive: true })
    await run('tar', ['-xzf', join(project, info.filename), '-C', target, '--strip-components=1'])
    // What npm would install next to it: the declared dependencies and peers, nothing else.
    const manifest = JSON.parse(readFileSync(join(target, 'package.json'), 'utf8')) as Manifest
    for (const name of Object.keys({ ...manifest.dependencies, ...manifest.peerDependencies })) {
      const link = join(project, 'node_modules', name)
      mkdirSync(dirname(link), { recursive: true })
      symlinkSync(join(ROOT, 'node_modules', name), link, 'dir')
    }
    writeFileSync(
      join(project, 'package.json'),
      `${JSON.stringify({ name: 'app', private: true, type: 'module' })}\n`,
    )
    writeFileSync(
      join(project, 'tsconfig.json'),
      `${JSON.stringify({
        compilerOptions: {
          strict: true,
          skipLibCheck: false,
          module: 'NodeNext',
          moduleResolution: 'NodeNext',
          target: 'ES2022',
          noEmit: true,
          exactOptionalPropertyTypes: true,
          noUncheckedIndexedAccess: true,
        },
        include: ['schemas', 'generated', 'usage.ts'],
      })}\n`,
    )
    mkdirSync(join(project, 'schemas'))
    writeFileSync(join(project, 'schemas/inventory.schema.ts'), SCHEMA)
    writeFileSync(join(project, 'usage.ts'), USAGE)
  }, 240_000)

  afterAll(() => {
    if (project) rmSync(project, { recursive: true, force: true })
  })

  it('generates with its own grenache-gen and type-checks strictly with skipLibCheck: false', async () => {
    const cli = join(project, 'node_modules/grenache-gen/dist/codegen/cli.js')
    const generated = await run(process.execPath, [cli], { cwd: project })
    expect(generated.stdout).toContain('grenache-gen: 3 files')
    expect(readFileSync(join(project, 'generated/inventory.gen.ts'), 'utf8')).toContain(
      '// DO NOT EDIT: change the schema and run grenache-gen\n',
    )
    const tsc = join(ROOT, 'node_modules/typescript/bin/tsc')
    const checked = await run(process.execPath, [tsc, '-p', 'tsconfig.json'], { cwd: project }).then(
      () => '',
      (err: { stdout?: string }) => err.stdout ?? String(err),
    )
    expect(checked).toBe('')
  })

  it('runs the bundled Grape: the grape executable, and grenache-gen/grape next to the runtime', async () => {
    const manifest = JSON.parse(readFileSync(join(ROOT, 'package.json'), 'utf8')) as {
      bin: Record<string, string>
    }
    const bin = posix.normalize(manifest.bin.grape ?? '')
    expect(packed).toContain(bin)
    const help = await run(process.execPath, [join(project, 'node_modules/grenache-gen', bin), '--help'])
    expect(help.stdout).toMatch(/^Usage: grape --dp/)
    writeFileSync(join(project, 'grape-use.mjs'), GRAPE_USE)
    const used = await run(process.execPath, ['grape-use.mjs'], { cwd: project, timeout: 60_000 })
    expect(JSON.parse(used.stdout)).toEqual({ found: ['127.0.0.1:4321'], instance: true, is: true })
  })

  it('ships every file the README links to', () => {
    const readme = readFileSync(join(ROOT, 'README.md'), 'utf8')
    const links = [...readme.matchAll(/\]\(([^)#\s]+)(?:#[^)]*)?\)/g)]
      .map((m) => m[1] ?? '')
      .filter((href) => !/^[a-z]+:/.test(href))
    expect(links.length).toBeGreaterThan(0)
    for (const href of links) expect(packed, href).toContain(posix.normalize(href))
    expect(packed).toContain('docs/codegen.md')
  })

  it('declares zod as a peer, so the app and the generator share one copy', () => {
    const manifest = JSON.parse(readFileSync(join(ROOT, 'package.json'), 'utf8')) as Manifest
    expect(manifest.peerDependencies?.zod).toMatch(/^\^4\./)
    expect(manifest.dependencies?.zod).toBeUndefined()
    expect(existsSync(join(project, 'node_modules/grenache-gen/node_modules'))).toBe(false)
  })
})
