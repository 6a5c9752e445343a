/**
 * Property tests of the generated delta validators (codegen/state/emit-check.ts): on random valid
 * and broken inputs, a generated codec's `parseDelta`/`parseKey`/`parseLeaf` decide as zod's
 * `stateParsers` does, return deep-equal output (defaults applied, unknown keys stripped, patch
 * rules), and fail with ERR_INVALID_DELTA naming every path zod names. The states are those of
 * the codec property tests, plus one of checks the generator leaves to zod.
 */
import { readFileSync } from 'node:fs'
import { join } from 'node:path'
import fc from 'fast-check'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { GrenacheError } from '../../../runtime/errors.js'
import { type AnyStateCodec, type StateDefinition, stateParsers } from '../../../runtime/state/index.js'
import { type SchemaProject, schemaProject } from '../../helpers/codegen.js'
import { loadSubjects, SUBJECT_NAMES, type Subject, type SubjectName } from '../../helpers/state-subjects.js'

const SEED = 20261206

/** Checks the layout carries but the generator does not mirror: each runs its field's zod schema. */
const REFINED = `import { z } from 'zod'
import { defineState } from '@dsl'
export const refined = defineState({
  name: 'refined',
  version: 1,
  key: z.string().regex(/^[a-z]+$/),
  leaf: z.strictObject({
    email: z.email(),
    even: z.int().refine((n) => n % 2 === 0, 'must be even'),
    step: z.number().multipleOf(0.5).optional(),
    word: z.string().trim().min(2),
    mode: z.enum(['a', 'b']).catch('a'),
    level: z.int32().prefault(5),
    soon: z.int().default(1).optional(),
    pair: z.object({ lo: z.int(), hi: z.int() }).superRefine((p, ctx) => {
      if (p.lo > p.hi) ctx.addIssue({ code: 'custom', message: 'lo above hi' })
    }),
    tags: z.array(z.string().startsWith('t')).max(3).nullish(),
    when: z.coerce.number().int().positive(),
  }),
})
`

let project: SchemaProject | undefined
let refinedProject: SchemaProject | undefined
let subjects: Record<SubjectName, Subject>
let refined: { codec: AnyStateCodec; state: StateDefinition }

beforeAll(async () => {
  ;({ project, subjects } = await loadSubjects())
  refinedProject = schemaProject({ 'schemas/refined.schema.ts': REFINED })
  await refinedProject.generate(true)
  const module = await refinedProject.import<Record<string, unknown>>('generated/refined.gen.ts')
  refined = { codec: module.RefinedCodec as AnyStateCodec, state: module.RefinedState as StateDefinition }
}, 90_000)

afterAll(() => {
  project?.remove()
  refinedProject?.remove()
})

type Outcome = { ok: true; value: unknown } | { ok: false; error: unknown }

function outcome(run: () => unknown): Outcome {
  try {
    return { ok: true, value: run() }
  } catch (error) {
    return { ok: false, error }
  }
}

/** The paths of the issues in a `stateParsers` error (`order_book v1: leaf.price: …; key: …`). */
function issuePaths(message: string): string[] {
  const body = message.slice(message.indexOf(': ') + 2)
  return body.split('; ').map((issue) => issue.slice(0, issue.indexOf(': ')))
}

/** Every object's keys in order, depth first. */
function keyOrder(value: unknown): string[][] {
  if (typeof value !== 'object' || value === null) return []
  const own = Array.isArray(value) ? [] : [Object.keys(value)]
  return [...own, ...Object.values(value).flatMap(keyOrder)]
}

/** The generated validator and zod decide alike, give equal output, and fail alike. */
function agree(generated: (v: unknown) => unknown, zod: (v: unknown) => unknown, input: unknown): boolean {
  const want = outcome(() => zod(input))
  const got = outcome(() => generated(input))
  if (want.ok) {
    if (!got.ok) expect.fail(`zod accepts what the generated validator refuses: ${String(got.error)}`)
    expect(got.value).toStrictEqual(want.value)
    // Key order too: it shows in JSON and in Object.keys, and the generated objects build theirs.
    expect(keyOrder(got.value)).toEqual(keyOrder(want.value))
    return true
  }
  if (got.ok) expect.fail(`the generated validator accepts what zod refuses: ${String(want.error)}`)
  for (const error of [want.error, got.error]) {
    expect(error).toBeInstanceOf(GrenacheError)
    expect((error as GrenacheError).code).toBe('ERR_INVALID_DELTA')
  }
  const message = (got.error as Error).message
  for (const path of issuePaths((want.error as Error).message)) {
    if (!message.includes(path)) expect.fail(`"${message}" does not name ${path}, which zod names`)
  }
  return false
}

/** Values that break a type: wrong kinds, bounds, NaN, lone surrogates, invalid dates. */
const junk = fc.oneof(
  fc.constantFrom(
    undefined,
    null,
    Number.NaN,
    Number.POSITIVE_INFINITY,
    Number.NEGATIVE_INFINITY,
    -0,
    0,
    1,
    -1,
    1.5,
    2 ** 53,
    -(2 ** 53),
    2 ** 31,
    2 ** 32,
    3.5e38,
    '',
    'x',
    'bid',
    'upsert',
    'patch',
    'a'.repeat(70),
    '😀😀',
    'a\ud800',
    true,
    0n,
    2n ** 64n,
    new Date(Number.NaN),
    new Date(0),
    [],
    {},
    [1],
    { kind: 'circle', radius: 1 },
    { kind: 'poly', points: [], closed: null },
    { x: 1, y: 2 },
    { lo: 2, hi: 1 },
  ),
  fc.string({ maxLength: 12 }),
  fc.integer(),
  fc.double(),
)

/** One change somewhere in a value: a node replaced, a key deleted, or a key added. */
const change = fc.record({ steps: fc.array(fc.nat(), { maxLength: 6 }), action: fc.nat(), value: junk })

function broken(
  value: unknown,
  changes: Array<{ steps: number[]; action: number; value: unknown }>,
): unknown {
  const root = { value: structuredClone(value) }
  for (const { steps, action, value: replacement } of changes) {
    let holder: Record<string, unknown> = root
    let key = 'value'
    for (const step of steps) {
      const node = holder[key]
      if (typeof node !== 'object' || node === null || node instanceof Date) break
      const keys = Object.keys(node)
      if (keys.length === 0 || step % 5 === 0) break
      holder = node as Record<string, unknown>
      key = keys[step % keys.length] as string
    }
    const node = holder[key]
    if (action % 3 === 0) holder[key] = replacement
    else if (action % 3 === 1) delete holder[key]
    else if (typeof node === 'object' && node !== null && !Array.isArray(node)) {
      ;(node as Record<string, unknown>)[`extra${action % 4}`] = replacement
    } else holder[key] = replacement
  }
  return root.value
}

/** Valid deltas, and the same broken by up to three changes. */
function inputs(valid: fc.Arbitrary<unknown>): fc.Arbitrary<unknown> {
  return fc.oneof(
    valid,
    fc.tuple(valid, fc.array(change, { minLength: 1, maxLength: 3 })).map(([v, c]) => broken(v, c)),
  )
}

describe.each(SUBJECT_NAMES)('the generated %s validator', (name) => {
  const parsers = () => stateParsers(stateOf(name))

  it('decides, parses and fails as zod does for deltas', () => {
    const s = subjects[name]
    const zod = parsers()
    let accepted = 0
    fc.assert(
      fc.property(inputs(s.parts.delta.values), (input) => {
        if (agree(s.codec.parseDelta, zod.parseDelta, input)) accepted++
      }),
      { seed: SEED, numRuns: 400 },
    )
    expect(accepted, 'both valid and invalid inputs ran').toBeGreaterThan(20)
    expect(accepted).toBeLessThan(400)
  })

  it('decides, parses and fails as zod does for keys and leaves', () => {
    const s = subjects[name]
    const zod = parsers()
    fc.assert(
      fc.property(inputs(s.parts.key.values), inputs(s.parts.leaf.values), (key, leaf) => {
        agree(s.codec.parseKey, zod.parseKey, key)
        agree(s.codec.parseLeaf, zod.parseLeaf, leaf)
      }),
      { seed: SEED, numRuns: 200 },
    )
  })
})

describe('the generated kitchen_sink validator', () => {
  const check = (input: unknown) =>
    agree(subjects.kitchen_sink.codec.parseDelta, stateParsers(stateOf('kitchen_sink')).parseDelta, input)

  it.each<[string, unknown, boolean]>([
    ['a patch removing an optional field', { op: 'patch', key: 1, fields: { memo: undefined } }, true],
    ['a patch removing a required field', { op: 'patch', key: 1, fields: { title: undefined } }, false],
    [
      'a patch of a defaulted field to undefined',
      { op: 'patch', key: 1, fields: { retries: undefined } },
      false,
    ],
    ['a patch of a caught field to junk', { op: 'patch', key: 1, fields: { mode: 'zzz' } }, true],
    ['a patch of an unknown field', { op: 'patch', key: 1, fields: { nope: 1 } }, false],
    ['a patch that is an array', { op: 'patch', key: 1, fields: [] }, false],
    ['an unknown op', { op: 'merge', key: 1 }, false],
    ['a delta that is not an object', 'clear', false],
    ['a clear with extra fields', { op: 'clear', key: 'whatever' }, true],
    ['a delete with a float key', { op: 'delete', key: 1.5 }, false],
  ])('agrees with zod on %s', (_, input, ok) => {
    expect(check(input)).toBe(ok)
  })
})

describe('the generated validator of checks it leaves to zod', () => {
  const valid = fc.record({
    email: fc.constantFrom('a@b.co', 'x.y@example.org'),
    even: fc.integer({ min: -50, max: 50 }).map((n) => n * 2),
    step: fc.option(
      fc.integer({ min: -8, max: 8 }).map((n) => n / 2),
      { nil: undefined },
    ),
    word: fc.constantFrom('  ab ', 'hello', 'xy'),
    mode: fc.constantFrom('a', 'b', 'c'),
    level: fc.option(fc.integer({ min: -5, max: 5 }), { nil: undefined }),
    soon: fc.option(fc.nat(9), { nil: undefined }),
    pair: fc.tuple(fc.nat(9), fc.nat(9)).map(([a, b]) => ({ lo: Math.min(a, b), hi: Math.max(a, b) })),
    tags: fc.option(fc.array(fc.constantFrom('t1', 'tag'), { maxLength: 3 })),
    when: fc.oneof(fc.integer({ min: 1, max: 99 }), fc.constantFrom('7', 7n)),
  })
  const delta = fc.oneof(
    fc.record({ op: fc.constant('upsert'), key: fc.constantFrom('abc', 'x'), leaf: valid }),
    fc.record({ op: fc.constant('patch'), key: fc.constant('k'), fields: valid.map((l) => ({ ...l })) }),
    fc.record({ op: fc.constant('delete'), key: fc.constantFrom('ok', 'Not-OK') }),
  )

  it('runs zod only for the nodes it does not mirror, each found from the key or the leaf', () => {
    const text = readFileSync(join(refinedProject?.root ?? '', 'generated/refined.gen.ts'), 'utf8')
    const found = [...text.matchAll(/zodAt\(refined\.(key|leaf), \[([^\]]*)\]\)/g)].map(
      ([, root, steps]) => `${root}:${(steps ?? '').replaceAll("'_zod', 'def', ", '').replaceAll("'", '')}`,
    )
    expect(found).toEqual([
      'key:',
      'leaf:shape, email',
      'leaf:shape, even',
      'leaf:shape, step, innerType',
      'leaf:shape, word',
      'leaf:shape, mode',
      'leaf:shape, level',
      'leaf:shape, soon',
      'leaf:shape, pair',
      'leaf:shape, tags, innerType, innerType, element',
      'leaf:shape, when',
    ])
  })

  it('leaves nothing of the order book to zod', () => {
    const text = readFileSync(new URL('../../../generated/order-book.gen.ts', import.meta.url), 'utf8')
    expect(text).toContain('parseDelta: parseOrderBookDelta,')
    expect(text).not.toContain('viaZod(')
  })

  it('decides, parses and fails as zod does', () => {
    const zod = stateParsers(refined.state)
    let accepted = 0
    fc.assert(
      fc.property(inputs(delta), (input) => {
        if (agree(refined.codec.parseDelta, zod.parseDelta, input)) accepted++
      }),
      { seed: SEED, numRuns: 400 },
    )
    expect(accepted).toBeGreaterThan(20)
  })
})

function stateOf(name: SubjectName): StateDefinition {
  const state = subjectStates[name]
  if (!state) throw new Error(`no state for ${name}`)
  return state
}

const subjectStates: Partial<Record<SubjectName, StateDefinition | undefined>> = {}

beforeAll(async () => {
  const sink = await project?.import<Record<string, StateDefinition>>('generated/kitchen-sink.gen.ts')
  const book = await project?.import<Record<string, StateDefinition>>('generated/order-book.gen.ts')
  subjectStates.kitchen_sink = sink?.KitchenSinkState
  subjectStates.catalog = sink?.CatalogV2State
  subjectStates.tally = sink?.TallyState
  subjectStates.order_book = book?.OrderBookState
})
