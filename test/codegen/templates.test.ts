/**
 * What the service templates promise a user of the package: the command that regenerates a file,
 * English in the docs, and methods without input that are called without an argument.
 */
import { execFile } from 'node:child_process'
import { writeFileSync } from 'node:fs'
import { join } from 'node:path'
import { promisify } from 'node:util'
import { describe, expect, it } from 'vitest'
import { regenerateCommand } from '../../codegen/command.js'
import { generate } from '../../codegen/generate.js'
import { loadSchemas } from '../../codegen/load/load.js'
import { formatted, schemaProjects } from '../helpers/codegen.js'
import { StaticDiscovery } from '../helpers/static-discovery.js'

const ROOT = join(import.meta.dirname, '../..')

const project = schemaProjects()

const INVENTORY = `import { z } from 'zod'
import { defineService } from '@dsl'

export const inventory = defineService({
  name: 'inventory',
  version: 1,
  methods: {
    count: { input: z.object({}), output: z.number() },
    list: { input: z.object({ limit: z.number().int().optional() }), output: z.array(z.string()) },
    take: {
      input: z.object({
        /**
         * The stock keeping unit.
         * @example 'A-1'
         */
        sku: z.string(),
        qty: z.number().int().optional().describe('How many; 1 when left out.'),
      }),
      output: z.boolean(),
    },
  },
  events: {
    taken: { payload: z.object({ /** What was taken. */ sku: z.string() }) },
  },
})
`

describe('the generated header', () => {
  it('names the grenache-gen command that regenerates the file, with the options used', async () => {
    const p = project({ 'api/inventory.schema.ts': INVENTORY })
    const model = await loadSchemas({ root: p.root, dir: 'api' })
    const plain = generate(model, { out: 'generated', version: '1.0.0' })
    const custom = generate(model, { out: 'src/gen', runtime: './lib/rt.js', version: '1.0.0' })
    expect(plain[0]?.content.split('\n')[1]).toBe(
      '// DO NOT EDIT: change the schema and run grenache-gen --schemas api',
    )
    expect(custom[0]?.content.split('\n')[1]).toBe(
      '// DO NOT EDIT: change the schema and run grenache-gen --schemas api --out src/gen --runtime ./lib/rt.js',
    )
    expect(custom[1]?.content.split('\n')[1]).toBe(
      '// DO NOT EDIT: change the schemas and run grenache-gen --schemas api --out src/gen --runtime ./lib/rt.js',
    )
    for (const file of [...plain, ...custom]) expect(file.content).not.toContain('npm run')
  })

  it('leaves the defaults out and quotes what a shell would split', () => {
    expect(regenerateCommand({ schemas: 'schemas', out: 'generated' })).toBe('grenache-gen')
    expect(regenerateCommand({ schemas: 'schemas', out: 'generated', runtime: 'grenache-gen' })).toBe(
      'grenache-gen',
    )
    expect(regenerateCommand({ schemas: 'my schemas', out: "it's", runtime: '@me/rt' })).toBe(
      `grenache-gen --schemas 'my schemas' --out 'it'\\''s' --runtime @me/rt`,
    )
  })
})

describe('the generated docs', () => {
  it.for([
    ['inventory', 'An inventory v1 worker'],
    ['order_book', 'An order_book v1 worker'],
    ['fibonacci', 'A fibonacci v1 worker'],
    ['user', 'A user v1 worker'],
    ['unicorn', 'A unicorn v1 worker'],
    ['umbrella', 'An umbrella v1 worker'],
  ])('say "%s" with the right article', async ([name = '', phrase = '']) => {
    const files = await project({
      'schemas/s.schema.ts': INVENTORY.replace("name: 'inventory'", `name: '${name}'`),
    }).generate()
    expect(files[0]?.content).toContain(`/** ${phrase}: one function per method. */`)
  })
})

describe('field docs', () => {
  it('carries JSDoc comments and .describe() texts of fields to the generated types and the lock', async () => {
    const files = await project({ 'schemas/inventory.schema.ts': INVENTORY }).generate()
    const [gen, , lock] = files
    expect(gen?.content).toContain(`export type InventoryTakeInput = MethodInput<typeof inventory, 'take'> & {
  /**
   * The stock keeping unit.
   */
  sku?: unknown
  /**
   * How many; 1 when left out.
   */
  qty?: unknown
}`)
    expect(gen?.content).toContain(
      "export type InventoryTakeOutput = MethodOutput<typeof inventory, 'take'>\n",
    )
    expect(gen?.content).toContain(`  taken: EventPayload<typeof inventory, 'taken'> & {
    /**
     * What was taken.
     */
    sku?: unknown
  }`)
    // As the templates promise for all generated code: what TypeScript's formatter would write.
    expect(formatted(gen?.content ?? '')).toBe(gen?.content)
    const locked = JSON.parse(lock?.content ?? '{}').services['inventory@1'].methods.take.input.properties
    expect(locked.sku.description).toBe('The stock keeping unit.')
    expect(locked.qty.description).toBe('How many; 1 when left out.')
  })
})

describe('a method without input', () => {
  it('is called with no argument: the client sends {} and the worker gets it', async () => {
    const p = project({ 'schemas/inventory.schema.ts': INVENTORY })
    await p.generate(true)
    type Generated = {
      InventoryClient: new (
        options: object,
      ) => {
        count(input?: object): Promise<number>
        list(input?: object): Promise<string[]>
        map: { count(input?: object): Promise<Array<{ ok: boolean; value?: unknown }>> }
        close(): Promise<void>
      }
      serveInventory(worker: object, options: object): { start(): Promise<unknown>; close(): Promise<void> }
    }
    const generated = await p.import<Generated>('generated/index.ts')
    const seen: unknown[] = []
    const link = new StaticDiscovery()
    const server = generated.serveInventory(
      {
        count: (input: unknown) => {
          seen.push(input)
          return 3
        },
        list: ({ limit = 2 }: { limit?: number }) => ['a', 'b', 'c'].slice(0, limit),
        take: () => true,
      },
      { link, listen: [{ transport: 'memory' }] },
    )
    await server.start()
    const client = new generated.InventoryClient({ link, transport: 'memory' })
    try {
      await expect(client.count()).resolves.toBe(3)
      await expect(client.list()).resolves.toEqual(['a', 'b'])
      await expect(client.list({ limit: 1 })).resolves.toEqual(['a'])
      expect(await client.map.count()).toEqual([{ worker: expect.any(String), ok: true, value: 3 }])
      expect(seen).toEqual([{}, {}])
    } finally {
      await client.close()
      await server.close()
    }
  })

  it('type-checks without an argument; a method with a required field still needs one', async () => {
    const p = project({ 'schemas/inventory.schema.ts': INVENTORY })
    await p.generate(true)
    writeFileSync(
      join(p.root, 'usage.ts'),
      `import { InventoryClient } from './generated/index.js'
export async function use(client: InventoryClient): Promise<number> {
  const n: number = await client.count()
  const names: string[] = await client.list(undefined, { timeoutMs: 100 })
  await client.map.count()
  // @ts-expect-error take needs its sku
  await client.take()
  // @ts-expect-error the documented sku is still required and still a string
  await client.take({ qty: 1 })
  // @ts-expect-error and still a string
  await client.take({ sku: 1 })
  return n + names.length + Number(await client.take({ sku: 'a' }))
}
`,
    )
    writeFileSync(
      join(p.root, 'tsconfig.json'),
      `${JSON.stringify({ extends: '../../../tsconfig.json', include: ['generated', 'schemas', 'usage.ts', '../../../runtime/types'] })}\n`,
    )
    const tsc = join(ROOT, 'node_modules/typescript/bin/tsc')
    const run = await promisify(execFile)(process.execPath, [tsc, '-p', 'tsconfig.json', '--noEmit'], {
      cwd: p.root,
    }).then(
      () => ({ ok: true, output: '' }),
      (err: { stdout?: string }) => ({ ok: false, output: err.stdout ?? String(err) }),
    )
    expect(run.output).toBe('')
    expect(run.ok).toBe(true)
  }, 180_000)
})
