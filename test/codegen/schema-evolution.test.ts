/**
 * Schema evolution that cannot be bypassed by accident (issue 14): generation refuses to move the
 * lock over a break, removed fields stay in the lock, refinements are "cannot tell", and types JSON
 * cannot carry are refused by field path. Models are built in process from real zod services, the
 * way the loader builds them.
 */
import { describe, expect, it } from 'vitest'
import { z } from 'zod'
import { findBreaks } from '../../codegen/compat.js'
import { CodegenError } from '../../codegen/errors.js'
import { generate } from '../../codegen/generate.js'
import { buildFileModel, type Problem } from '../../codegen/load/build-model.js'
import { createLock, parseLock } from '../../codegen/lock.js'
import type { SchemaLock, SchemaModel } from '../../codegen/model.js'
import { checkService, defineService } from '../../runtime/schema.js'

/** The model of one schema file exporting a service `svc` whose one method `m` has this input and output. */
function model(input: z.ZodType, output: z.ZodType = z.number(), version = 1): SchemaModel {
  const problems: Problem[] = []
  const svc = defineService({ name: 'svc', version, methods: { m: { input, output } } })
  const file = buildFileModel('schemas/svc.schema.ts', 'svc', { svc }, problems)
  expect(problems).toEqual([])
  return { dir: 'schemas', files: [file] }
}

const options = { out: 'generated', runtime: './runtime/index.js', version: '0.0.0-test' }

/** Generates over `lock` and returns the lock written (what the CLI would write next to the schemas). */
function next(m: SchemaModel, lock?: SchemaLock, acceptBreaking = false): SchemaLock {
  const files = generate(m, { ...options, ...(lock ? { lock } : {}), acceptBreaking })
  const written = files.find((f) => f.path === 'schemas/schema.lock.json')
  if (!written) throw new Error('no lock generated')
  return parseLock(written.content, 'schemas/schema.lock.json')
}

/** The error `run` throws. */
function thrown(run: () => unknown): CodegenError {
  try {
    run()
  } catch (err) {
    if (err instanceof CodegenError) return err
    throw err
  }
  throw new Error('expected a CodegenError')
}

describe('generate() over the lock on disk', () => {
  const v1 = model(z.object({ n: z.number().max(1000) }))
  const lock = next(v1)

  it('refuses a breaking change with ERR_BREAKING_CHANGE listing each break, and generates nothing', () => {
    const narrowed = model(z.object({ n: z.number().max(1000), by: z.string() }))
    const err = thrown(() => generate(narrowed, { ...options, lock }))
    expect(err.code).toBe('ERR_BREAKING_CHANGE')
    expect(err.message).toContain('schemas/schema.lock.json and the generated files were left as they are')
    expect(err.message).toContain('--accept-breaking')
    expect(err.message.split('\n').slice(1)).toEqual([
      '  svc@1 methods.m.input: input accepts less: field `by` became required (at required) [input-narrowed]',
    ])
  })

  it('moves the lock over a break with acceptBreaking, and then check compares with the new baseline', () => {
    const narrowed = model(z.object({ n: z.number().max(10) }))
    const moved = next(narrowed, lock, true)
    expect(moved.services['svc@1']?.methods.m?.input).toMatchObject({ properties: { n: { maximum: 10 } } })
    expect(findBreaks(moved, createLock(narrowed, moved))).toEqual([])
  })

  it('takes a major version bump as the normal way through a break', () => {
    const v2 = model(z.object({ n: z.number().max(10) }), z.number(), 2)
    expect(Object.keys(next(v2, lock).services)).toEqual(['svc@2'])
  })

  it('lets compatible changes through, and keeps the lock that check reads meaningful after many runs', () => {
    let current = lock
    current = next(model(z.object({ n: z.number().max(1000), note: z.string().optional() })), current)
    current = next(model(z.object({ n: z.number().max(2000), note: z.string().optional() })), current)
    // The break against the first lock is still refused after two generations moved the lock.
    const err = thrown(() => next(model(z.object({ n: z.number().max(5) })), current))
    expect(err.code).toBe('ERR_BREAKING_CHANGE')
  })
})

describe('removed fields (reserved in the lock)', () => {
  const withNote = model(z.object({ n: z.number(), note: z.string().optional() }))
  const without = model(z.object({ n: z.number() }))

  it('keeps a removed field with its last schema in the lock', () => {
    const lock = next(without, next(withNote))
    expect(lock.services['svc@1']?.removed).toEqual({
      'methods.m.input': { '/properties/note': { type: 'string' } },
    })
  })

  it('refuses the field back with another type (old clients still send a string)', () => {
    const lock = next(without, next(withNote))
    const err = thrown(() => next(model(z.object({ n: z.number(), note: z.number().optional() })), lock))
    expect(err.code).toBe('ERR_BREAKING_CHANGE')
    expect(err.message).toContain(
      'svc@1 methods.m.input.properties.note: field `note` was removed in an earlier version',
    )
    expect(err.message).toContain('[removed-field-reused]')
  })

  it('accepts the field back with the same shape, and drops it from the removed list', () => {
    const lock = next(without, next(withNote))
    const back = next(withNote, lock)
    expect(back.services['svc@1']?.removed).toBeUndefined()
  })

  it('remembers a nested input field and an output field over later generations', () => {
    const items = (item: z.ZodRawShape) => z.object({ items: z.array(z.object({ id: z.number(), ...item })) })
    let lock = next(
      model(
        items({ when: z.string().optional() }),
        z.object({ total: z.number(), unit: z.string().optional() }),
      ),
    )
    lock = next(model(items({}), z.object({ total: z.number() })), lock)
    lock = next(model(items({ note: z.string().optional() }), z.object({ total: z.number() })), lock)
    expect(lock.services['svc@1']?.removed).toEqual({
      'methods.m.input': { '/properties/items/items/properties/when': { type: 'string' } },
      'methods.m.output': { '/properties/unit': { type: 'string' } },
    })
    const again = model(
      items({ when: z.number().optional() }),
      z.object({ total: z.number(), unit: z.number() }),
    )
    expect(findBreaks(lock, createLock(again, lock)).map((b) => [b.where, b.rule])).toEqual([
      ['methods.m.input.properties.items.items.properties.when', 'removed-field-reused'],
      ['methods.m.output.properties.unit', 'removed-field-reused'],
    ])
  })
})

describe('checks JSON Schema cannot describe', () => {
  const lockOf = (input: z.ZodType) => createLock(model(input))

  it.for<[string, z.ZodType, z.ZodType]>([
    ['.refine()', z.object({ n: z.number() }), z.object({ n: z.number().refine((n) => n % 2 === 0) })],
    [
      '.superRefine()',
      z.object({ n: z.number() }),
      z.object({ n: z.number() }).superRefine((v, ctx) => {
        if (v.n > 3) ctx.addIssue({ code: 'custom', message: 'too big' })
      }),
    ],
    ['a transform', z.object({ s: z.string() }), z.object({ s: z.string().transform((s) => s.trim()) })],
  ])('%s added to an input is "cannot tell", a break', ([, plain, refined]) => {
    const breaks = findBreaks(lockOf(plain), lockOf(refined))
    expect(breaks.map((b) => b.rule)).toEqual(['input-narrowed'])
    expect(breaks[0]?.message).toContain(
      'cannot tell: a `.refine()`, `.superRefine()` or transform was added or changed',
    )
  })

  it('sees a changed refinement, and an unchanged one as no change', () => {
    const even = lockOf(z.object({ n: z.number().refine((n) => n % 2 === 0) }))
    const odd = lockOf(z.object({ n: z.number().refine((n) => n % 2 === 1) }))
    expect(findBreaks(even, odd).map((b) => b.rule)).toEqual(['input-narrowed'])
    expect(findBreaks(even, lockOf(z.object({ n: z.number().refine((n) => n % 2 === 0) })))).toEqual([])
  })

  it('takes a refinement added to an output as compatible (it returns less)', () => {
    const before = createLock(model(z.object({}), z.number()))
    const after = createLock(
      model(
        z.object({}),
        z.number().refine((n) => n > 0),
      ),
    )
    expect(findBreaks(before, after)).toEqual([])
  })
})

describe('types JSON cannot carry', () => {
  const service = (input: z.ZodType, output: z.ZodType = z.number()) =>
    defineService({ name: 'svc', version: 1, methods: { m: { input, output } } })

  it.for<[string, z.ZodType, string]>([
    [
      'z.promise()',
      z.object({ items: z.array(z.object({ when: z.promise(z.string()) })) }),
      'methods.m.input.items[].when',
    ],
    ['z.file()', z.object({ doc: z.file() }), 'methods.m.input.doc'],
    ['z.bigint()', z.object({ pair: z.tuple([z.string(), z.bigint()]) }), 'methods.m.input.pair[1]'],
    [
      'z.map()',
      z.object({ byId: z.record(z.string(), z.map(z.string(), z.number())) }),
      'methods.m.input.byId{}',
    ],
    ['z.set()', z.object({ tags: z.set(z.string()).optional() }), 'methods.m.input.tags'],
    ['z.date()', z.object({ at: z.date().nullable() }), 'methods.m.input.at'],
    ['z.symbol()', z.object({ s: z.symbol() }), 'methods.m.input.s'],
    ['z.function()', z.object({ f: z.function() }), 'methods.m.input.f'],
    ['z.nan()', z.union([z.number(), z.nan()]), 'methods.m.input'],
    ['z.undefined()', z.object({ u: z.undefined() }), 'methods.m.input.u'],
    [
      'z.custom()',
      z.object({ 'odd key': z.custom<string>((v) => typeof v === 'string') }),
      'methods.m.input["odd key"]',
    ],
  ])('refuses %s naming the field path', ([name, input, path]) => {
    const problems = checkService(service(input))
    expect(problems).toHaveLength(1)
    expect(problems[0]).toMatchObject({ rule: 'json', path })
    expect(problems[0]?.message).toContain(`cannot carry ${name}`)
  })

  it('refuses a z.promise() output and event payload by path too', () => {
    const problems = checkService(
      defineService({
        name: 'svc',
        version: 1,
        methods: { m: { input: z.object({}), output: z.object({ later: z.promise(z.number()) }) } },
        events: { e: { payload: z.object({ list: z.array(z.file()) }) } },
      }),
    )
    expect(problems.map((p) => p.path)).toEqual(['methods.m.output.later', 'events.e.payload.list[]'])
  })
})

describe('removed methods and events (reserved in the lock)', () => {
  /** A service `svc` with these methods (input → output) and events. */
  function service(
    methods: Record<string, [z.ZodType, z.ZodType]>,
    events: Record<string, z.ZodType> = {},
  ): SchemaModel {
    const problems: Problem[] = []
    const svc = defineService({
      name: 'svc',
      version: 1,
      methods: Object.fromEntries(
        Object.entries(methods).map(([k, [input, output]]) => [k, { input, output }]),
      ),
      events: Object.fromEntries(Object.entries(events).map(([k, payload]) => [k, { payload }])),
    })
    const file = buildFileModel('schemas/svc.schema.ts', 'svc', { svc }, problems)
    expect(problems).toEqual([])
    return { dir: 'schemas', files: [file] }
  }
  const keep: [z.ZodType, z.ZodType] = [z.object({ n: z.number() }), z.number()]
  const fib: [z.ZodType, z.ZodType] = [z.object({ n: z.number() }), z.number()]
  const v1 = service({ keep, fib }, { tick: z.object({ at: z.number() }) })
  // Removing a method or an event is a break: the team accepted it (no old client calls fib).
  const removed = next(service({ keep }), next(v1), true)

  it('keeps a removed method’s input and output, and a removed event’s payload, whole in the lock', () => {
    expect(removed.services['svc@1']?.removed).toEqual({
      'methods.fib.input': { '': v1Schema('methods', 'fib', 'input') },
      'methods.fib.output': { '': v1Schema('methods', 'fib', 'output') },
      'events.tick.payload': { '': v1Schema('events', 'tick', 'payload') },
    })
    // And over a generation that does not touch them.
    const later = next(
      service({ keep: [z.object({ n: z.number(), by: z.number().optional() }), z.number()] }),
      removed,
    )
    expect(later.services['svc@1']?.removed).toEqual(removed.services['svc@1']?.removed)
  })

  it('refuses the method back with another input, and the event with another payload', () => {
    const err = thrown(() =>
      next(
        service(
          { keep, fib: [z.object({ n: z.string() }), z.number()] },
          { tick: z.object({ at: z.string() }) },
        ),
        removed,
      ),
    )
    expect(err.code).toBe('ERR_BREAKING_CHANGE')
    expect(err.message).toContain(
      'svc@1 methods.fib.input: method `fib` was removed in an earlier version and is back with another input, which old clients may still send',
    )
    expect(err.message).toContain(
      'svc@1 events.tick.payload: event `tick` was removed in an earlier version and is back with another payload, which old peers still read',
    )
  })

  it('accepts them back with their old shapes, and then drops them from the removed list', () => {
    const back = next(v1, removed)
    expect(back.services['svc@1']?.removed).toBeUndefined()
  })

  function v1Schema(kind: 'methods' | 'events', name: string, side: 'input' | 'output' | 'payload'): unknown {
    const svc = next(v1).services['svc@1']
    if (!svc) throw new Error('no svc@1')
    return kind === 'methods' ? svc.methods[name]?.[side as 'input' | 'output'] : svc.events[name]?.payload
  }
})
