import { describe, expect, it } from 'vitest'
import { z } from 'zod'
import { type BreakRule, describeChanges, findBreaks, isSubschema } from '../../codegen/compat.js'
import type { JsonSchema, LockedService, SchemaLock } from '../../codegen/model.js'
import { wireJsonSchema } from '../../runtime/schema.js'

interface MethodSpec {
  input: z.ZodType
  output: z.ZodType
  idempotent?: boolean
  errors?: string[]
}

interface ServiceSpec {
  key?: string
  wire?: 'action' | 'bare'
  methods: Record<string, MethodSpec>
  events?: Record<string, z.ZodType>
}

/** A locked service built the way the generator builds one: real zod schemas through wireJsonSchema. */
function locked(spec: ServiceSpec, name = 'svc', version = 1): LockedService {
  return {
    name,
    version,
    key: spec.key ?? `${name}@${version}`,
    file: `schemas/${name}.schema.ts`,
    ...(spec.wire ? { wire: spec.wire } : {}),
    fingerprint: 'sha256:test',
    methods: Object.fromEntries(
      Object.entries(spec.methods).map(([method, m]) => [
        method,
        {
          idempotent: m.idempotent ?? false,
          errors: m.errors ?? [],
          input: wireJsonSchema(m.input, 'input'),
          output: wireJsonSchema(m.output, 'output'),
        },
      ]),
    ),
    events: Object.fromEntries(
      Object.entries(spec.events ?? {}).map(([event, payload]) => [
        event,
        { payload: wireJsonSchema(payload, 'output') },
      ]),
    ),
  }
}

function lockOf(...services: Array<[key: string, service: LockedService]>): SchemaLock {
  return { lockVersion: 1, services: Object.fromEntries(services) }
}

/** The rules broken going from one version of service `svc@1` to the next. */
function rulesBroken(before: ServiceSpec, after: ServiceSpec): BreakRule[] {
  return findBreaks(lockOf(['svc@1', locked(before)]), lockOf(['svc@1', locked(after)])).map((b) => b.rule)
}

/** A service with one method `m`. */
const io = (input: z.ZodType, output: z.ZodType = z.number()): ServiceSpec => ({
  methods: { m: { input, output } },
})
/** A service whose method `m` returns `output` (the input stays `{}`). */
const returns = (output: z.ZodType): ServiceSpec => io(z.object({}), output)
/** A service with one event `tick`. */
const emits = (payload: z.ZodType): ServiceSpec => ({
  methods: { m: { input: z.object({}), output: z.number() } },
  events: { tick: payload },
})

type Tree = { value: number; children: Tree[] }
const Tree: z.ZodType<Tree> = z.lazy(() => z.object({ value: z.number(), children: z.array(Tree) }))
type SmallTree = { value: number; children: SmallTree[] }
const SmallTree: z.ZodType<SmallTree> = z.lazy(() =>
  z.object({ value: z.number().max(10), children: z.array(SmallTree) }),
)

const edits: Array<{ change: string; before: ServiceSpec; after: ServiceSpec; breaks?: BreakRule }> = [
  // Inputs: the new worker must accept everything old clients send.
  {
    change: 'adding an optional input field',
    before: io(z.object({ n: z.number() })),
    after: io(z.object({ n: z.number(), verbose: z.boolean().optional() })),
  },
  {
    change: 'adding a required input field',
    before: io(z.object({ n: z.number() })),
    after: io(z.object({ n: z.number(), verbose: z.boolean() })),
    breaks: 'input-narrowed',
  },
  {
    change: 'making an optional input field required',
    before: io(z.object({ n: z.number().optional() })),
    after: io(z.object({ n: z.number() })),
    breaks: 'input-narrowed',
  },
  {
    change: 'removing an input field from an object that strips unknown fields',
    before: io(z.object({ n: z.number(), legacy: z.string() })),
    after: io(z.object({ n: z.number() })),
  },
  {
    change: 'removing an input field from a strict object (old clients still send it and are refused)',
    before: io(z.strictObject({ n: z.number(), legacy: z.string() })),
    after: io(z.strictObject({ n: z.number() })),
    breaks: 'input-narrowed',
  },
  {
    change: 'turning a strict input object into a stripping one',
    before: io(z.strictObject({ n: z.number() })),
    after: io(z.object({ n: z.number() })),
  },
  {
    change: 'turning a stripping input object into a strict one',
    before: io(z.object({ n: z.number() })),
    after: io(z.strictObject({ n: z.number() })),
    breaks: 'input-narrowed',
  },
  {
    change: 'widening an input number range',
    before: io(z.object({ n: z.number().int().min(0).max(100) })),
    after: io(z.object({ n: z.number().int().min(0).max(1476) })),
  },
  {
    change: 'narrowing an input number range',
    before: io(z.object({ n: z.number().int().min(0).max(1476) })),
    after: io(z.object({ n: z.number().int().min(0).max(100) })),
    breaks: 'input-narrowed',
  },
  { change: 'turning an input integer into a number', before: io(z.int()), after: io(z.number()) },
  {
    change: 'turning an input number into an integer',
    before: io(z.number()),
    after: io(z.int()),
    breaks: 'input-narrowed',
  },
  {
    change: 'widening an input string to string | number',
    before: io(z.string()),
    after: io(z.union([z.string(), z.number()])),
  },
  {
    change: 'adding an input enum value',
    before: io(z.enum(['asc', 'desc'])),
    after: io(z.enum(['asc', 'desc', 'random'])),
  },
  {
    change: 'removing an input enum value',
    before: io(z.enum(['asc', 'desc', 'random'])),
    after: io(z.enum(['asc', 'desc'])),
    breaks: 'input-narrowed',
  },
  { change: 'making an input nullable', before: io(z.string()), after: io(z.string().nullable()) },
  {
    change: 'making an input object nullable',
    before: io(z.object({ n: z.number() })),
    after: io(z.object({ n: z.number() }).nullable()),
  },
  {
    change: 'tightening maxItems of an input array',
    before: io(z.array(z.string()).max(10)),
    after: io(z.array(z.string()).max(5)),
    breaks: 'input-narrowed',
  },
  {
    change: 'loosening minItems of an input array',
    before: io(z.array(z.string()).min(2)),
    after: io(z.array(z.string()).min(1)),
  },
  {
    change: 'changing an input tuple element from number to string',
    before: io(z.tuple([z.string(), z.number()])),
    after: io(z.tuple([z.string(), z.string()])),
    breaks: 'input-narrowed',
  },
  {
    change: 'dropping the last element of an input tuple',
    before: io(z.tuple([z.string(), z.number()])),
    after: io(z.tuple([z.string()])),
    breaks: 'input-narrowed',
  },
  {
    change: 'making the last element of an input tuple optional',
    before: io(z.tuple([z.string(), z.number()])),
    after: io(z.tuple([z.string(), z.number().optional()])),
  },
  {
    change: 'widening the value type of an input record',
    before: io(z.record(z.string(), z.number())),
    after: io(z.record(z.string(), z.union([z.number(), z.string()]))),
  },
  {
    change: 'narrowing the value type of an input record',
    before: io(z.record(z.string(), z.union([z.number(), z.string()]))),
    after: io(z.record(z.string(), z.number())),
    breaks: 'input-narrowed',
  },
  {
    change: 'changing an input literal',
    before: io(z.object({ kind: z.literal('a') })),
    after: io(z.object({ kind: z.literal('b') })),
    breaks: 'input-narrowed',
  },
  {
    change: 'adding a value to an input literal',
    before: io(z.object({ kind: z.literal('a') })),
    after: io(z.object({ kind: z.literal(['a', 'b']) })),
  },
  {
    change: 'replacing an input literal union with the enum of the same values',
    before: io(z.union([z.literal('a'), z.literal('b')])),
    after: io(z.enum(['a', 'b'])),
  },
  {
    change: 'adding a default to an input field',
    before: io(z.object({ n: z.number() })),
    after: io(z.object({ n: z.number().default(10) })),
  },
  {
    change: 'changing a description',
    before: io(z.object({ n: z.number().describe('how many') }).describe('the request')),
    after: io(z.object({ n: z.number().describe('how many, at most 10') }).describe('a request')),
  },
  {
    change: 'requiring an email where any string was accepted',
    before: io(z.object({ to: z.string() })),
    after: io(z.object({ to: z.email() })),
    breaks: 'input-narrowed',
  },
  {
    change: 'replacing an input regex with the startsWith zod checks by the same regex',
    before: io(z.string().regex(/^a.*/)),
    after: io(z.string().startsWith('a')),
  },
  {
    change: 'dropping the email format of an input field',
    before: io(z.object({ to: z.email() })),
    after: io(z.object({ to: z.string() })),
  },
  {
    change: 'adding a branch to an input discriminated union',
    before: io(z.discriminatedUnion('type', [z.object({ type: z.literal('a'), a: z.number() })])),
    after: io(
      z.discriminatedUnion('type', [
        z.object({ type: z.literal('a'), a: z.number() }),
        z.object({ type: z.literal('b'), b: z.string() }),
      ]),
    ),
  },
  {
    change: 'narrowing a field in one branch of an input discriminated union',
    before: io(
      z.discriminatedUnion('type', [
        z.object({ type: z.literal('a'), a: z.number() }),
        z.object({ type: z.literal('b'), b: z.string() }),
      ]),
    ),
    after: io(
      z.discriminatedUnion('type', [
        z.object({ type: z.literal('a'), a: z.number() }),
        z.object({ type: z.literal('b'), b: z.string().max(3) }),
      ]),
    ),
    breaks: 'input-narrowed',
  },
  { change: 'keeping a recursive z.lazy input unchanged', before: io(Tree), after: io(Tree) },
  {
    change: 'narrowing a field deep inside a recursive z.lazy input',
    before: io(Tree),
    after: io(SmallTree),
    breaks: 'input-narrowed',
  },
  { change: 'widening a field deep inside a recursive z.lazy input', before: io(SmallTree), after: io(Tree) },

  // Outputs: old clients must understand everything the new worker returns.
  {
    change: 'adding an output field',
    before: returns(z.object({ n: z.number() })),
    after: returns(z.object({ n: z.number(), at: z.string() })),
  },
  {
    change: 'removing an output field',
    before: returns(z.object({ n: z.number(), at: z.string() })),
    after: returns(z.object({ n: z.number() })),
    breaks: 'output-widened',
  },
  {
    change: 'removing an optional output field',
    before: returns(z.object({ n: z.number(), at: z.string().optional() })),
    after: returns(z.object({ n: z.number() })),
  },
  {
    change: 'making an output field optional',
    before: returns(z.object({ n: z.number() })),
    after: returns(z.object({ n: z.number().optional() })),
    breaks: 'output-widened',
  },
  {
    change: 'making an optional output field required',
    before: returns(z.object({ n: z.number().optional() })),
    after: returns(z.object({ n: z.number() })),
  },
  {
    change: 'turning an output integer into a number',
    before: returns(z.int()),
    after: returns(z.number()),
    breaks: 'output-widened',
  },
  {
    change: 'turning an output number into an integer',
    before: returns(z.number()),
    after: returns(z.int()),
  },
  {
    change: 'widening an output string to string | number',
    before: returns(z.string()),
    after: returns(z.union([z.string(), z.number()])),
    breaks: 'output-widened',
  },
  {
    change: 'adding an output enum value',
    before: returns(z.enum(['ok', 'failed'])),
    after: returns(z.enum(['ok', 'failed', 'pending'])),
    breaks: 'output-widened',
  },
  {
    change: 'removing an output enum value',
    before: returns(z.enum(['ok', 'failed', 'pending'])),
    after: returns(z.enum(['ok', 'failed'])),
  },
  {
    change: 'making an output nullable',
    before: returns(z.object({ n: z.number() })),
    after: returns(z.object({ n: z.number() }).nullable()),
    breaks: 'output-widened',
  },
  {
    change: 'making an output field nullable',
    before: returns(z.object({ n: z.number() })),
    after: returns(z.object({ n: z.number().nullable() })),
    breaks: 'output-widened',
  },
  {
    change: 'widening the value type of an output record',
    before: returns(z.record(z.string(), z.number())),
    after: returns(z.record(z.string(), z.union([z.number(), z.string()]))),
    breaks: 'output-widened',
  },
  {
    change: 'narrowing an output number range',
    before: returns(z.number().min(0).max(1000)),
    after: returns(z.number().min(1).max(100)),
  },
  {
    change: 'loosening an output string length',
    before: returns(z.string().max(10)),
    after: returns(z.string().max(20)),
    breaks: 'output-widened',
  },
  {
    change: 'narrowing an output literal to one of its values',
    before: returns(z.literal(['a', 'b'])),
    after: returns(z.literal('a')),
  },
  {
    change: 'adding a branch to an output discriminated union',
    before: returns(z.discriminatedUnion('type', [z.object({ type: z.literal('a'), a: z.number() })])),
    after: returns(
      z.discriminatedUnion('type', [
        z.object({ type: z.literal('a'), a: z.number() }),
        z.object({ type: z.literal('b'), b: z.string() }),
      ]),
    ),
    breaks: 'output-widened',
  },
  {
    change: 'adding a default to an output field that was optional',
    before: returns(z.object({ n: z.number().optional() })),
    after: returns(z.object({ n: z.number().default(0) })),
  },

  // Events: both publishers and subscribers read the payload.
  {
    change: 'adding a required event payload field',
    before: emits(z.object({ n: z.number() })),
    after: emits(z.object({ n: z.number(), at: z.string() })),
    breaks: 'event-changed',
  },
  {
    change: 'adding an optional event payload field',
    before: emits(z.object({ n: z.number() })),
    after: emits(z.object({ n: z.number(), at: z.string().optional() })),
    breaks: 'event-changed',
  },
  {
    change: 'widening an event payload field',
    before: emits(z.object({ n: z.int() })),
    after: emits(z.object({ n: z.number() })),
    breaks: 'event-changed',
  },
  {
    change: 'changing an event payload description',
    before: emits(z.object({ n: z.number() }).describe('a tick')),
    after: emits(z.object({ n: z.number() }).describe('one tick')),
  },
  {
    change: 'removing an event',
    before: emits(z.object({ n: z.number() })),
    after: io(z.object({})),
    breaks: 'event-removed',
  },
  { change: 'adding an event', before: io(z.object({})), after: emits(z.object({ n: z.number() })) },

  // Methods.
  {
    change: 'removing a method',
    before: {
      methods: {
        a: { input: z.object({}), output: z.number() },
        b: { input: z.object({}), output: z.number() },
      },
    },
    after: { methods: { a: { input: z.object({}), output: z.number() } } },
    breaks: 'method-removed',
  },
  {
    change: 'adding a method',
    before: { methods: { a: { input: z.object({}), output: z.number() } } },
    after: {
      methods: {
        a: { input: z.object({}), output: z.number() },
        b: { input: z.string(), output: z.string() },
      },
    },
  },
  {
    change: 'turning idempotent on',
    before: { methods: { m: { input: z.object({}), output: z.number() } } },
    after: { methods: { m: { input: z.object({}), output: z.number(), idempotent: true } } },
    breaks: 'idempotent-added',
  },
  {
    change: 'moving from the { action, args } envelope to bare payloads',
    before: { methods: { m: { input: z.object({}), output: z.number() } } },
    after: { wire: 'bare', methods: { m: { input: z.object({}), output: z.number() } } },
    breaks: 'wire-changed',
  },
  {
    change: 'writing the default wire explicitly (a lock from before wire existed)',
    before: { methods: { m: { input: z.object({}), output: z.number() } } },
    after: { wire: 'action', methods: { m: { input: z.object({}), output: z.number() } } },
  },
  {
    change: 'turning idempotent off',
    before: { methods: { m: { input: z.object({}), output: z.number(), idempotent: true } } },
    after: { methods: { m: { input: z.object({}), output: z.number() } } },
  },
  {
    change: 'declaring a new error code',
    before: { methods: { m: { input: z.object({}), output: z.number(), errors: ['TOO_SLOW'] } } },
    after: { methods: { m: { input: z.object({}), output: z.number(), errors: ['TOO_SLOW', 'TOO_BIG'] } } },
  },
  {
    change: 'dropping a declared error code',
    before: { methods: { m: { input: z.object({}), output: z.number(), errors: ['TOO_SLOW'] } } },
    after: { methods: { m: { input: z.object({}), output: z.number() } } },
  },
  {
    change: 'pinning a legacy key',
    before: io(z.object({})),
    after: { ...io(z.object({})), key: 'svc_worker' },
    breaks: 'key-changed',
  },
]

describe('findBreaks()', () => {
  for (const { change, before, after, breaks } of edits) {
    describe(change, () => {
      it(breaks ? `breaks the rule ${breaks}` : 'is compatible', () => {
        expect(rulesBroken(before, after)).toEqual(breaks ? [breaks] : [])
      })
    })
  }

  it('says what changed and where, in words', () => {
    const [narrowed] = findBreaks(
      lockOf(['fibonacci@1', locked(io(z.object({ n: z.number().int().min(0).max(1476) })), 'fibonacci')]),
      lockOf(['fibonacci@1', locked(io(z.object({ n: z.number().int().min(0).max(100) })), 'fibonacci')]),
    )
    expect(narrowed).toEqual({
      service: 'fibonacci@1',
      where: 'methods.m.input',
      rule: 'input-narrowed',
      message: 'input accepts less: maximum went from 1476 to 100 (at properties.n.maximum)',
    })
  })

  it('words output changes from the old clients’ side', () => {
    const messages = (before: z.ZodType, after: z.ZodType) =>
      findBreaks(lockOf(['svc@1', locked(returns(before))]), lockOf(['svc@1', locked(returns(after))])).map(
        (b) => b.message,
      )
    expect(messages(z.int(), z.number())).toEqual([
      'output may return what old clients do not expect: type went from integer to number (at type)',
    ])
    expect(messages(z.object({ n: z.number() }), z.object({ n: z.number().optional() }))).toEqual([
      'output may return what old clients do not expect: field `n` became optional (at required)',
    ])
    expect(messages(z.object({ n: z.number(), at: z.string() }), z.object({ n: z.number() }))).toEqual([
      'output may return what old clients do not expect: field `at` was removed (at required)',
    ])
    expect(messages(z.enum(['ok']), z.enum(['ok', 'pending']))).toEqual([
      'output may return what old clients do not expect: value "pending" is now allowed (at enum)',
    ])
    expect(messages(z.string(), z.string().nullable())).toEqual([
      'output may return what old clients do not expect: type `null` is now allowed (at type)',
    ])
    const a = z.object({ type: z.literal('a'), a: z.number() })
    const b = z.object({ type: z.literal('b'), b: z.string() })
    expect(messages(z.discriminatedUnion('type', [a]), z.discriminatedUnion('type', [a, b]))).toEqual([
      'output may return what old clients do not expect: this union branch is new (at oneOf.1)',
    ])
    expect(messages(a, z.discriminatedUnion('type', [a, b]))).toEqual([
      'output may return what old clients do not expect: value "b" is now allowed (at oneOf.1.properties.type.const)',
    ])
  })

  it('names the field a new required input adds', () => {
    const [added] = findBreaks(
      lockOf(['svc@1', locked(io(z.object({ n: z.number() })))]),
      lockOf(['svc@1', locked(io(z.object({ n: z.number(), x: z.string() })))]),
    )
    expect(added?.message).toBe('input accepts less: field `x` became required (at required)')
  })

  it('reports every break of every shared service, sorted by service and place', () => {
    const v1 = (n: number) =>
      locked({
        methods: {
          b: { input: z.object({ n: z.number().max(n) }), output: z.number() },
          a: { input: z.object({}), output: z.number().max(n) },
        },
        events: { tick: z.object({ n: z.number().max(n) }) },
      })
    const before = lockOf(['zeta@1', v1(10)], ['alpha@1', v1(10)])
    const after = lockOf(['alpha@1', v1(5)], ['zeta@1', { ...v1(20), methods: {} }])
    expect(findBreaks(before, after).map((b) => [b.service, b.where, b.rule])).toEqual([
      ['alpha@1', 'events.tick.payload', 'event-changed'],
      ['alpha@1', 'methods.b.input', 'input-narrowed'],
      ['zeta@1', 'events.tick.payload', 'event-changed'],
      ['zeta@1', 'methods.a', 'method-removed'],
      ['zeta@1', 'methods.b', 'method-removed'],
    ])
  })

  it('does not count a service version present in only one lock as a break', () => {
    const service = locked(io(z.object({ n: z.number() })))
    const before = lockOf(['svc@1', service], ['old@1', service])
    const after = lockOf(['svc@1', service], ['svc@2', locked(io(z.string()), 'svc', 2)])
    expect(findBreaks(before, after)).toEqual([])
  })
})

describe('describeChanges()', () => {
  it('lists the service versions added and removed, sorted', () => {
    const service = locked(io(z.object({})))
    const before = lockOf(['svc@1', service], ['old@1', service], ['gone@3', service])
    const after = lockOf(['svc@2', service], ['svc@1', service], ['new@1', service])
    expect(describeChanges(before, after)).toEqual({
      added: ['new@1', 'svc@2'],
      removed: ['gone@3', 'old@1'],
      addedStates: [],
      removedStates: [],
    })
  })
})

describe('isSubschema()', () => {
  const ok = { ok: true }
  const sub = (a: JsonSchema, b: JsonSchema) => isSubschema(a, b)

  describe('types', () => {
    it('accepts integer where number is accepted, and not the other way', () => {
      expect(sub({ type: 'integer' }, { type: 'number' })).toEqual(ok)
      expect(sub({ type: 'number' }, { type: 'integer' })).toEqual({
        ok: false,
        path: 'type',
        reason: 'type went from number to integer',
      })
    })

    it('checks each type of a type list', () => {
      expect(sub({ type: ['string', 'null'] }, { type: ['null', 'string', 'number'] })).toEqual(ok)
      expect(sub({ type: ['string', 'number'] }, { type: 'string' })).toEqual({
        ok: false,
        path: 'type',
        reason: 'type `number` no longer accepted',
      })
    })

    it('words reasons from the old side when a is the new schema', () => {
      expect(isSubschema({ type: ['string', 'null'] }, { type: 'string' }, { aIs: 'after' })).toEqual({
        ok: false,
        path: 'type',
        reason: 'type `null` is now allowed',
      })
      expect(
        isSubschema({ type: 'string', maxLength: 20 }, { type: 'string', maxLength: 10 }, { aIs: 'after' }),
      ).toEqual({ ok: false, path: 'maxLength', reason: 'maxLength went from 10 to 20' })
    })
  })

  describe('{} and { not: {} }', () => {
    it('proves anything is within {}', () => {
      expect(sub({ type: 'object', properties: { a: { type: 'string' } } }, {})).toEqual(ok)
      expect(sub({}, {})).toEqual(ok)
      expect(sub({ type: 'string' }, true as unknown as JsonSchema)).toEqual(ok)
    })

    it('refuses {} within anything narrower', () => {
      expect(sub({}, { type: 'string' }).ok).toBe(false)
    })

    it('proves { not: {} } is within anything, and nothing else is within it', () => {
      expect(sub({ not: {} }, { type: 'string', maxLength: 0 })).toEqual(ok)
      expect(sub({ type: 'string' }, { not: {} })).toEqual({
        ok: false,
        path: 'not',
        reason: 'type `string` no longer accepted',
      })
    })
  })

  describe('anyOf and oneOf', () => {
    const union = { anyOf: [{ type: 'string' }, { type: 'number', maximum: 10 }] }

    it('proves a union within b when every branch is', () => {
      expect(sub(union, { type: ['string', 'number'] })).toEqual(ok)
      expect(sub(union, { type: 'string' })).toEqual({
        ok: false,
        path: 'anyOf.1.type',
        reason: 'type `number` no longer accepted',
      })
    })

    it('proves a within a union when one branch holds it', () => {
      expect(sub({ type: 'number', minimum: 0, maximum: 5 }, union)).toEqual(ok)
      expect(sub({ type: 'number', maximum: 20 }, union)).toEqual({
        ok: false,
        path: 'maximum',
        reason: 'maximum went from 20 to 10',
      })
    })

    it('splits a type list across the branches of a union', () => {
      expect(sub({ type: ['string', 'number'], maximum: 3 }, union)).toEqual(ok)
    })

    it('proves oneOf when the other branches cannot match (a discriminator)', () => {
      const tagged = (tag: string, extra: JsonSchema) => ({
        type: 'object',
        properties: { tag: { type: 'string', const: tag }, ...extra },
        required: ['tag'],
      })
      const b = { oneOf: [tagged('a', { a: { type: 'number' } }), tagged('b', { b: { type: 'string' } })] }
      expect(sub(tagged('a', { a: { type: 'integer' } }), b)).toEqual(ok)
      expect(
        sub({ oneOf: [{ type: 'string' }] }, { oneOf: [{ type: 'string' }, { type: 'number' }] }),
      ).toEqual(ok)
    })

    it('does not prove oneOf when two branches may match the same value', () => {
      expect(
        sub({ type: 'integer' }, { oneOf: [{ type: 'integer' }, { type: 'number', minimum: 0 }] }),
      ).toEqual({
        ok: false,
        path: 'oneOf',
        reason: 'cannot prove compatible: a value may match more than one branch of `oneOf`',
      })
    })

    it('validates listed values against unions one by one', () => {
      expect(sub({ enum: ['a', 1] }, { anyOf: [{ type: 'string' }, { type: 'integer' }] })).toEqual(ok)
      expect(sub({ enum: ['a', 1.5] }, { anyOf: [{ type: 'string' }, { type: 'integer' }] })).toEqual({
        ok: false,
        path: '',
        reason: 'value 1.5 no longer accepted',
      })
    })
  })

  describe('$ref and $defs', () => {
    const named = (max: number) => ({
      type: 'object',
      properties: { p: { $ref: '#/$defs/Point' } },
      $defs: {
        Point: { type: 'object', properties: { x: { type: 'number', maximum: max } }, required: ['x'] },
      },
    })

    it('resolves local references on both sides', () => {
      expect(sub(named(5), named(10))).toEqual(ok)
      expect(sub(named(10), named(5))).toEqual({
        ok: false,
        path: 'properties.p.properties.x.maximum',
        reason: 'maximum went from 10 to 5',
      })
    })

    it('terminates on recursive schemas and compares them structurally', () => {
      const list = (item: JsonSchema) => ({
        type: 'object',
        properties: { item, next: { anyOf: [{ $ref: '#' }, { type: 'null' }] } },
        required: ['item'],
      })
      expect(sub(list({ type: 'integer' }), list({ type: 'number' }))).toEqual(ok)
      expect(sub(list({ type: 'number' }), list({ type: 'integer' })).ok).toBe(false)
    })

    it('does not prove anything through a reference it cannot resolve', () => {
      expect(sub({ type: 'string' }, { $ref: 'https://example.com/schema.json' })).toEqual({
        ok: false,
        path: '$ref',
        reason: 'cannot prove compatible: reference "https://example.com/schema.json" cannot be followed',
      })
    })
  })

  describe('unknown keywords', () => {
    it('proves b when a states the same unknown keyword', () => {
      expect(sub({ type: 'string', 'x-unit': 'ms' }, { type: 'string', 'x-unit': 'ms' })).toEqual(ok)
      expect(
        sub({ type: 'array', contains: { const: 1 } }, { type: 'array', contains: { const: 1 } }),
      ).toEqual(ok)
    })

    it('does not prove b when an unknown keyword of b changed or is new', () => {
      expect(sub({ type: 'string', 'x-unit': 'ms' }, { type: 'string', 'x-unit': 's' })).toEqual({
        ok: false,
        path: 'x-unit',
        reason: 'cannot prove compatible: keyword `x-unit` changed',
      })
      expect(sub({ type: 'array' }, { type: 'array', contains: { const: 1 } })).toEqual({
        ok: false,
        path: 'contains',
        reason: 'cannot prove compatible: keyword `contains` changed',
      })
    })

    it('ignores an unknown keyword that only a states, since it can only narrow a', () => {
      expect(sub({ type: 'string', 'x-unit': 'ms' }, { type: 'string' })).toEqual(ok)
    })

    it('ignores annotations', () => {
      expect(
        sub(
          { type: 'string', description: 'x', title: 'X', default: 'a', examples: ['b'] },
          { type: 'string', description: 'y', deprecated: true },
        ),
      ).toEqual(ok)
    })
  })

  describe('numbers', () => {
    it('compares exclusive and inclusive bounds exactly', () => {
      expect(sub({ type: 'number', exclusiveMinimum: 0 }, { type: 'number', minimum: 0 })).toEqual(ok)
      expect(sub({ type: 'number', minimum: 0 }, { type: 'number', exclusiveMinimum: 0 })).toEqual({
        ok: false,
        path: 'exclusiveMinimum',
        reason: 'lower bound went from >= 0 to > 0',
      })
      expect(sub({ type: 'integer', exclusiveMinimum: 0 }, { type: 'integer', minimum: 1 })).toEqual(ok)
    })

    it('reads multipleOf as divisibility', () => {
      expect(sub({ type: 'number', multipleOf: 4 }, { type: 'number', multipleOf: 2 })).toEqual(ok)
      expect(sub({ type: 'integer' }, { type: 'number', multipleOf: 1 })).toEqual(ok)
      expect(sub({ type: 'number', multipleOf: 2 }, { type: 'number', multipleOf: 4 })).toEqual({
        ok: false,
        path: 'multipleOf',
        reason: 'multipleOf went from 2 to 4',
      })
    })
  })

  describe('strings', () => {
    it('proves a pattern or format only when a has the same one', () => {
      expect(sub({ type: 'string', pattern: '^a' }, { type: 'string', pattern: '^a' })).toEqual(ok)
      expect(sub({ type: 'string', pattern: '^a' }, { type: 'string' })).toEqual(ok)
      expect(sub({ type: 'string', pattern: '^ab' }, { type: 'string', pattern: '^a' })).toEqual({
        ok: false,
        path: 'pattern',
        reason: 'pattern went from "^ab" to "^a"',
      })
      expect(sub({ type: 'string' }, { type: 'string', format: 'email' })).toEqual({
        ok: false,
        path: 'format',
        reason: 'format "email" was added',
      })
    })

    it('checks listed values against a pattern', () => {
      expect(sub({ enum: ['ab', 'ac'] }, { type: 'string', pattern: '^a' })).toEqual(ok)
      expect(sub({ const: 'b' }, { type: 'string', pattern: '^a' }).ok).toBe(false)
    })
  })

  describe('objects', () => {
    it('reads additionalProperties false, a schema, or nothing', () => {
      const closed = { type: 'object', properties: { a: { type: 'string' } }, additionalProperties: false }
      const open = { type: 'object', properties: { a: { type: 'string' } } }
      expect(sub(closed, open)).toEqual(ok)
      expect(sub(open, closed)).toEqual({
        ok: false,
        path: 'additionalProperties',
        reason: 'undeclared fields are no longer accepted',
      })
      expect(
        sub(
          { ...open, additionalProperties: { type: 'integer' } },
          { ...open, additionalProperties: { type: 'number' } },
        ),
      ).toEqual(ok)
    })

    it('assumes a field unknown to a is not sent only when asked to', () => {
      const a = { type: 'object', properties: { n: { type: 'number' } } }
      const b = { type: 'object', properties: { n: { type: 'number' }, x: { type: 'string' } } }
      expect(sub(a, b)).toEqual({
        ok: false,
        path: 'properties.x',
        reason: 'field `x` was undeclared (any value) and is now constrained',
      })
      expect(isSubschema(a, b, { undeclaredUnsent: true })).toEqual(ok)
    })

    it('lets b drop undeclared fields only when asked to', () => {
      const a = { type: 'object', properties: { n: { type: 'number' }, x: {} }, additionalProperties: false }
      const b = { type: 'object', properties: { n: { type: 'number' } }, additionalProperties: false }
      expect(sub(a, b).ok).toBe(false)
      expect(isSubschema(a, b, { undeclaredIgnored: true })).toEqual(ok)
    })

    it('checks field names against propertyNames', () => {
      const record = (names: JsonSchema) => ({
        type: 'object',
        propertyNames: names,
        additionalProperties: {},
      })
      expect(
        sub(record({ type: 'string', enum: ['a'] }), record({ type: 'string', enum: ['a', 'b'] })),
      ).toEqual(ok)
      expect(sub(record({ type: 'string' }), record({ type: 'string', enum: ['a', 'b'] })).ok).toBe(false)
    })
  })

  describe('arrays', () => {
    it('proves uniqueItems only when a has it', () => {
      expect(sub({ type: 'array', uniqueItems: true }, { type: 'array' })).toEqual(ok)
      expect(sub({ type: 'array' }, { type: 'array', uniqueItems: true })).toEqual({
        ok: false,
        path: 'uniqueItems',
        reason: 'uniqueItems was added',
      })
    })

    it('compares tuple positions with the items of the other side', () => {
      const tuple = { type: 'array', prefixItems: [{ type: 'integer' }, { type: 'integer' }], items: false }
      expect(sub(tuple, { type: 'array', items: { type: 'number' } })).toEqual(ok)
      expect(sub({ type: 'array', items: { type: 'integer' }, maxItems: 2 }, tuple)).toEqual(ok)
      expect(sub({ type: 'array', items: { type: 'integer' } }, tuple)).toEqual({
        ok: false,
        path: 'maxItems',
        reason: 'maxItems 2 was added',
      })
    })
  })

  describe('limits', () => {
    it('gives up with "too complex" rather than multiplying out unions without end', () => {
      const many = {
        allOf: Array.from({ length: 10 }, () => ({ anyOf: [{ type: 'string' }, { type: 'number' }] })),
      }
      expect(sub(many, { type: ['string', 'number'] })).toEqual({
        ok: false,
        path: '',
        reason: 'cannot prove compatible: the schemas are too complex to compare',
      })
    })

    it('does not loop on a reference to itself', () => {
      expect(sub({ $ref: '#' }, { $ref: '#' })).toEqual(ok)
      expect(sub({ type: 'string' }, { $ref: '#' }).ok).toBe(false)
    })
  })

  describe('allOf', () => {
    it('uses every member of allOf in a, and needs every member in b', () => {
      const both = { type: 'string', allOf: [{ pattern: '^a' }, { pattern: 'b$' }] }
      expect(sub(both, { type: 'string', pattern: 'b$' })).toEqual(ok)
      expect(sub(both, both)).toEqual(ok)
      expect(sub({ type: 'string', pattern: '^a' }, both)).toEqual({
        ok: false,
        path: 'pattern',
        reason: 'pattern went from "^a" to "b$"',
      })
    })
  })
})
