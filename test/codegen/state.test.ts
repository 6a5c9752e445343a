/**
 * State types in codegen: what a `defineState` generates (names, docs, formatting, strict type
 * checking), what is refused and with which message, the lock entry and its breaking-change rule.
 */
import { spawn } from 'node:child_process'
import { once } from 'node:events'
import { writeFileSync } from 'node:fs'
import { join } from 'node:path'
import { fileURLToPath } from 'node:url'
import { describe, expect, it } from 'vitest'
import { describeChanges, findBreaks } from '../../codegen/compat.js'
import { CodegenError } from '../../codegen/errors.js'
import type { SchemaLock } from '../../codegen/model.js'
import { KITCHEN_SINK } from '../fixtures/kitchen-sink-state.js'
import { formatted, type SchemaProject, schemaProjects } from '../helpers/codegen.js'

const ROOT = fileURLToPath(new URL('../../', import.meta.url))

const project = schemaProjects()

/** A schema file with `body` as the export `book` (and zod and the DSL imported). */
const stateFile = (body: string, extra = '') =>
  `import { z } from 'zod'\nimport { defineService, defineState } from '@dsl'\n${extra}export const book = defineState(${body})\n`

const ORDER_BOOK = stateFile(`{
  name: 'order_book',
  version: 1,
  description: 'Resting orders',
  key: z.string().min(1).max(64),
  leaf: z.object({
    side: z.enum(['bid', 'ask']).describe('the side'),
    price: z.number().int().positive(),
    size: z.number().int().nonnegative(),
  }),
}`)

describe('generate() for a state', () => {
  it('emits the typed key, leaf, patch, delta, snapshot and the codec, with docs from the schema', async () => {
    const [gen] = await project({ 'schemas/book.schema.ts': ORDER_BOOK }).generate()
    const text = gen?.content ?? ''
    for (const line of [
      'export const OrderBookState = book',
      'export type OrderBookKey = StateKey<typeof book>',
      'export type OrderBookLeaf = StateLeaf<typeof book>',
      'export type OrderBookLeafInput = StateLeafInput<typeof book>',
      'export type OrderBookPatch = StatePatch<typeof book>',
      'export type OrderBookDelta = StateDelta<typeof book>',
      'export type OrderBookSnapshot = Snapshot<OrderBookKey, OrderBookLeaf>',
      'export const OrderBookCodec: StateCodec<OrderBookKey, OrderBookLeaf, OrderBookPatch> = {',
      ' * order_book v1: Resting orders',
      ' * - `side`: the side',
      "  feed: 'order_book@1',",
    ]) {
      expect(text).toContain(line)
    }
    expect(text).toMatch(/fingerprint: '[0-9a-f]{16}'/)
    expect(text).not.toContain('z.object')
    expect(formatted(text)).toBe(text)
  })

  it('emits formatted code that type-checks under the strict settings, for every encodable type', async () => {
    const p = project({ 'schemas/sink.schema.ts': KITCHEN_SINK })
    const files = await p.generate(true)
    const gen = files.find((f) => f.path === 'generated/sink.gen.ts')?.content ?? ''
    expect(gen).toContain('export const SinkV3Codec')
    expect(formatted(gen)).toBe(gen)
    writeFileSync(
      join(p.root, 'tsconfig.json'),
      `${JSON.stringify({ extends: '../../../tsconfig.json', include: ['generated', 'schemas', '../../../runtime/types'] })}\n`,
    )
    const tsc = spawn(
      process.execPath,
      [join(ROOT, 'node_modules/typescript/bin/tsc'), '-p', 'tsconfig.json'],
      {
        cwd: p.root,
        stdio: ['ignore', 'pipe', 'pipe'],
      },
    )
    let output = ''
    tsc.stdout?.on('data', (chunk: Buffer) => {
      output += chunk
    })
    tsc.stderr?.on('data', (chunk: Buffer) => {
      output += chunk
    })
    const [code] = await once(tsc, 'close')
    expect(output).toBe('')
    expect(code).toBe(0)
  }, 60_000)

  it('emits services and states of one file side by side', async () => {
    const [gen] = await project({
      'schemas/book.schema.ts': ORDER_BOOK.replace(
        'export const book',
        `export const quotes = defineService({ name: 'quotes', version: 1, methods: { last: { input: z.object({}), output: z.number() } } })\nexport const book`,
      ),
    }).generate()
    expect(gen?.content).toContain('export class QuotesClient {')
    expect(gen?.content).toContain('export const OrderBookCodec')
  })
})

async function rejection(p: SchemaProject): Promise<CodegenError> {
  const error = await p.load().then(
    () => undefined,
    (err: unknown) => err,
  )
  expect(error).toBeInstanceOf(CodegenError)
  return error as CodegenError
}

const leafWith = (field: string, extra = '') =>
  stateFile(
    `{ name: 'book', version: 1, key: z.string(), leaf: z.object({ ok: z.number(), ${field} }) }`,
    extra,
  )

describe('a state the layout cannot carry', () => {
  it.each([
    ['a transform', 'bad: z.string().transform((s) => s.length)', 'leaf.bad is a transform or pipe'],
    ['a lazy type', 'bad: z.lazy(() => z.string())', 'leaf.bad is a lazy (recursive) type'],
    ['any', 'bad: z.any()', 'leaf.bad is any: a layout needs a type'],
    ['unknown', 'bad: z.unknown()', 'leaf.bad is unknown'],
    ['a custom type', 'bad: z.custom<string>(() => true)', 'leaf.bad is a custom type'],
    ['a plain union', 'bad: z.union([z.string(), z.number()])', 'use z.discriminatedUnion'],
    ['a tuple', 'bad: z.tuple([z.string()])', 'leaf.bad is a tuple'],
    ['a Map', 'bad: z.map(z.string(), z.number())', 'leaf.bad is a Map: use z.record'],
    ['a Set', 'bad: z.set(z.string())', 'leaf.bad is a Set: use z.array'],
    [
      'a field name that is not an identifier',
      "'bad-name': z.string()",
      'leaf.bad-name is not a JavaScript identifier',
    ],
    ['null', 'bad: z.null()', 'leaf.bad is a null, which has no binary layout'],
    ['a loose object', 'bad: z.looseObject({ a: z.string() })', 'leaf.bad keeps unknown keys'],
    [
      'an array of empty objects',
      'bad: z.array(z.object({}))',
      'leaf.bad an array of items that encode to nothing',
    ],
    [
      'a record with number keys',
      'bad: z.record(z.number(), z.string())',
      'leaf.bad a record whose keys are not',
    ],
    [
      'a nested unsupported type',
      'deep: z.object({ list: z.array(z.object({ when: z.symbol() })) })',
      'leaf.deep.list[].when is a symbol',
    ],
    [
      'a union option that is not an object',
      "bad: z.discriminatedUnion('k', [z.object({ k: z.literal('a') }), z.object({ k: z.literal('b'), v: z.promise(z.string()) })])",
      'leaf.bad<1>.v is a promise',
    ],
  ])('refuses %s, naming the file, the export and the field path', async (_, field, message) => {
    const error = await rejection(project({ 'schemas/book.schema.ts': leafWith(field) }))
    expect(error.code).toBe('ERR_SCHEMA_INVALID')
    expect(error.message).toContain('schemas/book.schema.ts: export book (state book): ')
    expect(error.message).toContain(message)
    expect(error.message).toContain('[rule: layout]')
    expect(error.file).toBe('schemas/book.schema.ts')
    expect(error.exportName).toBe('book')
  })

  it('lists every problem of a state at once', async () => {
    const error = await rejection(
      project({ 'schemas/book.schema.ts': leafWith('a: z.any(), b: z.tuple([z.string()])') }),
    )
    expect(error.message.split('\n')).toHaveLength(2)
  })

  it.each([
    [
      'a key that is not a string or integer',
      "{ name: 'book', version: 1, key: z.boolean(), leaf: z.object({}) }",
      'key must be a zod string or integer type, not boolean [rule: key]',
    ],
    [
      'a number key that is not an integer',
      "{ name: 'book', version: 1, key: z.number(), leaf: z.object({}) }",
      'key must be a zod string or integer type, not f64',
    ],
    [
      'a leaf that is not an object',
      "{ name: 'book', version: 1, key: z.string(), leaf: z.string() }",
      'leaf must be a zod object',
    ],
    [
      'a bad name',
      "{ name: 'Order-Book', version: 1, key: z.string(), leaf: z.object({}) }",
      'name must be lower camel or snake case',
    ],
    [
      'a bad version',
      "{ name: 'book', version: 0, key: z.string(), leaf: z.object({}) }",
      'version must be a positive integer, got 0',
    ],
    [
      'a key limit past 1024',
      "{ name: 'book', version: 1, key: z.string(), leaf: z.object({}), maxKeyBytes: 2000 }",
      'maxKeyBytes must be an integer from 1 to 1024, got 2000',
    ],
    [
      'a leaf limit of 0',
      "{ name: 'book', version: 1, key: z.string(), leaf: z.object({}), maxLeafBytes: 0 }",
      'maxLeafBytes must be an integer from 1 to 1048576',
    ],
  ])('refuses %s', async (_, body, message) => {
    const error = await rejection(project({ 'schemas/book.schema.ts': stateFile(body) }))
    expect(error.code).toBe('ERR_SCHEMA_INVALID')
    expect(error.message).toContain(message)
  })

  it('refuses a state and a service that would generate the same names (one namespace)', async () => {
    const error = await rejection(
      project({
        'schemas/book.schema.ts': ORDER_BOOK,
        'schemas/svc.schema.ts': `import { z } from 'zod'\nimport { defineService } from '@dsl'\nexport const svc = defineService({ name: 'orderBook', version: 1, methods: { get: { input: z.object({}), output: z.number() } } })\n`,
      }),
    )
    expect(error.code).toBe('ERR_SCHEMA_CLASH')
    expect(error.message).toContain('generates OrderBookClient, as schemas/book.schema.ts: export book does')
  })

  it('refuses two states of the same name and version', async () => {
    const error = await rejection(
      project({
        'schemas/book.schema.ts': ORDER_BOOK,
        'schemas/copy.schema.ts': ORDER_BOOK.replace('export const book', 'export const copy'),
      }),
    )
    expect(error.code).toBe('ERR_SCHEMA_CLASH')
    expect(error.message).toContain(
      'schemas/copy.schema.ts: export copy is order_book@1, as schemas/book.schema.ts: export book does',
    )
  })
})

describe('the lock of a state', () => {
  const lockOf = async (text: string): Promise<SchemaLock> => {
    const files = await project({ 'schemas/book.schema.ts': text }).generate()
    return JSON.parse(files.find((f) => f.path.endsWith('schema.lock.json'))?.content ?? '{}') as SchemaLock
  }

  it('records the feed, the fingerprint, the limits and the layout', async () => {
    const lock = await lockOf(ORDER_BOOK)
    expect(lock.states?.['order_book@1']).toEqual({
      name: 'order_book',
      version: 1,
      file: 'schemas/book.schema.ts',
      feed: 'order_book@1',
      fingerprint: expect.stringMatching(/^[0-9a-f]{16}$/),
      maxKeyBytes: 128,
      maxLeafBytes: 4096,
      key: { type: 'string', minLength: 1, maxLength: 64 },
      leaf: {
        type: 'object',
        fields: [
          { name: 'price', of: { type: 'uint', minimum: 1 } },
          { name: 'side', of: { type: 'enum', values: ['bid', 'ask'] } },
          { name: 'size', of: { type: 'uint' } },
        ],
      },
    })
  })

  it('keeps the fingerprint when only descriptions or the field order change', async () => {
    const before = await lockOf(ORDER_BOOK)
    const after = await lockOf(
      ORDER_BOOK.replace("description: 'Resting orders'", "description: 'Orders'")
        .replace(".describe('the side')", '')
        .replace(
          'price: z.number().int().positive(),\n    size: z.number().int().nonnegative(),',
          'size: z.number().int().nonnegative(),\n    price: z.number().int().positive(),',
        ),
    )
    expect(after.states?.['order_book@1']?.fingerprint).toBe(before.states?.['order_book@1']?.fingerprint)
    expect(findBreaks(before, after)).toEqual([])
  })

  it.each([
    [
      'a field added',
      'size: z.number().int().nonnegative(),',
      'size: z.number().int().nonnegative(), note: z.string().optional(),',
      'leaf.note',
      'field added (optional string)',
    ],
    ['a field removed', 'size: z.number().int().nonnegative(),', '', 'leaf.size', 'field removed'],
    [
      'a field retyped',
      'price: z.number().int().positive(),',
      'price: z.number().positive(),',
      'leaf.price',
      'was a non-negative integer, now f64',
    ],
    [
      'an enum value added',
      "z.enum(['bid', 'ask'])",
      "z.enum(['bid', 'ask', 'mid'])",
      'leaf.side',
      'values went from ["bid", "ask"] to ["bid", "ask", "mid"]',
    ],
    [
      'a bound moved',
      'key: z.string().min(1).max(64)',
      'key: z.string().min(1).max(65)',
      'key',
      'maxLength went from 64 to 65',
    ],
    [
      'a limit moved',
      'version: 1,',
      'version: 1, maxLeafBytes: 100,',
      'maxLeafBytes',
      'maxLeafBytes went from 4096 to 100',
    ],
  ])('reports %s inside a major as a layout-changed break', async (_, from, to, where, message) => {
    const before = await lockOf(ORDER_BOOK)
    expect(ORDER_BOOK).toContain(from)
    const after = await lockOf(ORDER_BOOK.replace(from, to))
    expect(findBreaks(before, after)).toEqual([
      {
        service: 'order_book@1',
        where,
        rule: 'layout-changed',
        message: `${message}: replicas of this major cannot decode it`,
      },
    ])
  })

  it('takes a new major as a new state version, not a break', async () => {
    const before = await lockOf(ORDER_BOOK)
    const after = await lockOf(
      ORDER_BOOK.replace('version: 1,', 'version: 2,').replace("z.enum(['bid', 'ask'])", 'z.boolean()'),
    )
    expect(findBreaks(before, after)).toEqual([])
    expect(describeChanges(before, after)).toEqual({
      added: [],
      removed: [],
      addedStates: ['order_book@2'],
      removedStates: ['order_book@1'],
    })
  })
})
