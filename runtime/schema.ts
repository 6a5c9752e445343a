/**
 * The schema DSL (`grenache-gen/schema`): what `schemas/*.schema.ts` files are written with, and
 * the rules a service must follow. See docs/codegen.md.
 */
import { z } from 'zod'
import { checkNameAndVersion, type SchemaProblem, zod3Problem, zodModuleProblem } from './schema-rules.js'
import { OPAQUE_KEYWORD, opaqueChecks, refuseUnwireable } from './schema-wire.js'

/** One method: zod input and output, the errors it may answer with, and whether it may run twice. */
export interface MethodDefinition<I extends z.ZodType = z.ZodType, O extends z.ZodType = z.ZodType> {
  input: I
  output: O
  /** Errors the worker may answer with: `UPPER_SNAKE` code → what it means. */
  errors?: Readonly<Record<string, string>>
  /** Safe to run twice: the client may retry it on another worker after a dropped connection. */
  idempotent?: boolean
  description?: string
}

/** One pub/sub event: a zod payload. */
export interface EventDefinition<P extends z.ZodType = z.ZodType> {
  payload: P
  description?: string
}

export type Methods = Readonly<Record<string, MethodDefinition>>
export type Events = Readonly<Record<string, EventDefinition>>

/** A service as `defineService` returns it: the author's definition, typed to the last zod type. */
export interface ServiceDefinition<M extends Methods = Methods, E extends Events = Events> {
  /** Lower camel or snake case; its PascalCase names the generated exports. */
  readonly name: string
  /** The major version, a positive integer; part of the default discovery key. */
  readonly version: number
  /** A legacy discovery key, announced and looked up as it is (interop with existing peers). */
  readonly key?: string
  /**
   * How a call travels. `action` (the default): the svc-js envelope `{ action, args: [input] }`,
   * so one key serves many methods. `bare`: the input itself is the payload, as in the Grenache
   * tutorial and most hand-written workers; the service then has exactly one method.
   */
  readonly wire?: 'action' | 'bare'
  readonly description?: string
  readonly methods: M
  readonly events?: E
}

/** Marks what `defineService` returned, so the generator can tell services from other exports. */
const SERVICE = Symbol.for('grenache-gen.service')

/** Declares a service. Returns the definition, marked as one; `checkService` holds the rules. */
export function defineService<
  const M extends Methods,
  const E extends Events = Record<never, EventDefinition>,
>(definition: ServiceDefinition<M, E>): ServiceDefinition<M, E> {
  if (typeof definition === 'object' && definition !== null && !Object.isFrozen(definition)) {
    Object.defineProperty(definition, SERVICE, { value: true })
  }
  return definition
}

/** Whether `value` came from `defineService`. */
export function isServiceDefinition(value: unknown): value is ServiceDefinition {
  return typeof value === 'object' && value !== null && (value as Record<symbol, unknown>)[SERVICE] === true
}

/** The DHT key of a service: its pinned `key`, or `<name>@<version>`. */
export function serviceKey(service: ServiceDefinition): string {
  return service.key ?? `${service.name}@${service.version}`
}

/** How a call of the service travels: `action` (the `{ action, args }` envelope) or `bare`. */
export function serviceWire(service: ServiceDefinition): 'action' | 'bare' {
  return service.wire ?? 'action'
}

/** Whether the service is looked up under its key as it is (a pinned legacy key) or tagged with the transport. */
export function serviceDiscovery(service: ServiceDefinition): 'plain' | 'tagged' {
  return service.key === undefined ? 'tagged' : 'plain'
}

export type { SchemaProblem } from './schema-rules.js'

const RESERVED = new Set(
  (
    'break case catch class const continue debugger default delete do else enum export extends false finally for ' +
    'function if import in instanceof new null return super switch this throw true try typeof var void while with ' +
    'yield let static implements interface package private protected public await arguments eval constructor ' +
    'prototype __proto__ toString valueOf hasOwnProperty map close service'
  ).split(' '),
)

/** `order_book` and `orderBook` → `OrderBook`. */
export function pascalCase(name: string): string {
  return name
    .split(/[_\s-]+/)
    .filter(Boolean)
    .map((part) => part[0]?.toUpperCase() + part.slice(1))
    .join('')
}

/** Every rule `service` breaks (empty when it is valid). */
export function checkService(service: unknown): SchemaProblem[] {
  const problems: SchemaProblem[] = []
  const fail = (rule: string, path: string, message: string): void => {
    problems.push({ rule, path, message })
  }
  if (typeof service !== 'object' || service === null) {
    fail('shape', '', 'is not a service definition (use defineService)')
    return problems
  }
  const zod = zodModuleProblem(z)
  if (zod) {
    fail('zod-version', '', zod)
    return problems
  }
  const s = service as ServiceDefinition
  checkNameAndVersion(s, fail)
  if (s.key !== undefined && (typeof s.key !== 'string' || s.key.length === 0)) {
    fail('key', 'key', `must be a non-empty string when given, got ${JSON.stringify(s.key)}`)
  }
  if (s.wire !== undefined && s.wire !== 'action' && s.wire !== 'bare') {
    fail('wire', 'wire', `must be "action" or "bare", got ${JSON.stringify(s.wire)}`)
  }
  if (
    s.wire === 'bare' &&
    typeof s.methods === 'object' &&
    s.methods !== null &&
    Object.keys(s.methods).length !== 1
  ) {
    fail('wire', 'wire', 'a bare service has exactly one method: its payload carries no method name')
  }
  if (typeof s.methods !== 'object' || s.methods === null || Object.keys(s.methods).length === 0) {
    fail('methods', 'methods', 'must declare at least one method')
    return problems
  }
  const seen = new Map<string, string>()
  const member = (kind: 'methods' | 'events', name: string): void => {
    if (!/^[a-z][a-zA-Z0-9_]*$/.test(name)) {
      fail('member-name', `${kind}.${name}`, 'must be a lower camel or snake case identifier')
    } else if (RESERVED.has(name)) {
      fail('member-name', `${kind}.${name}`, 'is a reserved word or a member of the generated client')
    }
    const pascal = pascalCase(name)
    const clash = seen.get(pascal)
    if (clash)
      fail('duplicate', `${kind}.${name}`, `clashes with ${clash} in generated code (both are ${pascal})`)
    seen.set(pascal, `${kind}.${name}`)
  }
  for (const [name, method] of Object.entries(s.methods)) {
    member('methods', name)
    const path = `methods.${name}`
    if (typeof method !== 'object' || method === null) {
      fail('shape', path, 'must be { input, output, errors?, idempotent?, description? }')
      continue
    }
    checkWire(method.input, 'input', `${path}.input`, fail)
    checkWire(method.output, 'output', `${path}.output`, fail)
    if (method.idempotent !== undefined && typeof method.idempotent !== 'boolean') {
      fail('shape', `${path}.idempotent`, 'must be a boolean')
    }
    for (const code of Object.keys(method.errors ?? {})) {
      if (!/^[A-Z][A-Z0-9_]*$/.test(code) || code.startsWith('ERR_')) {
        fail('error-code', `${path}.errors.${code}`, 'must be UPPER_SNAKE and not start with ERR_ (ours)')
      }
    }
  }
  for (const [name, event] of Object.entries(s.events ?? {})) {
    member('events', name)
    if (typeof event !== 'object' || event === null)
      fail('shape', `events.${name}`, 'must be { payload, description? }')
    else checkWire(event.payload, 'output', `events.${name}.payload`, fail)
  }
  return problems
}

/** A zod type that JSON cannot carry (Date, BigInt, Map, a transform's result…) fails its rule. */
function checkWire(
  schema: unknown,
  io: 'input' | 'output',
  path: string,
  fail: (rule: string, path: string, message: string) => void,
): void {
  if (!(schema instanceof z.ZodType)) {
    const zod3 = zod3Problem(schema)
    fail(zod3 ? 'zod-version' : 'zod', path, zod3 ?? 'must be a zod type')
    return
  }
  // Field by field first, to name the field; zod's conversion below catches what the walk does not know.
  if (refuseUnwireable(schema, io, path, fail) > 0) return
  try {
    wireJsonSchema(schema, io)
  } catch (err) {
    fail('json', path, `travels as JSON, which cannot carry it: ${(err as Error).message}`)
  }
}

const converted = {
  input: new WeakMap<z.ZodType, Record<string, unknown>>(),
  output: new WeakMap<z.ZodType, Record<string, unknown>>(),
}

/**
 * The JSON Schema of what travels on the wire for a method input (`input`) or output/payload
 * (`output`); throws for a type JSON cannot carry. Converted once per type and direction (the
 * checks and the generator both ask).
 */
export function wireJsonSchema(schema: z.ZodType, io: 'input' | 'output'): Record<string, unknown> {
  let json = converted[io].get(schema)
  if (!json) {
    const { $schema: _, ...rest } = z.toJSONSchema(schema, {
      io,
      unrepresentable: 'throw',
      // Refinements and transforms are invisible to JSON Schema: mark them, so that the
      // compatibility check, which reads only JSON Schema, cannot take one for no change.
      override: ({ zodSchema, jsonSchema }) => {
        const opaque = opaqueChecks(zodSchema, io)
        if (opaque.length > 0) jsonSchema[OPAQUE_KEYWORD] = opaque
      },
    }) as Record<string, unknown>
    json = rest
    converted[io].set(schema, json)
  }
  return json
}

export {
  checkState,
  defineState,
  isStateDefinition,
  type StateDefinition,
  type StateDelta,
  type StateKey,
  type StateLeaf,
  type StateLeafInput,
  type StatePatch,
  stateFeed,
} from './state/define.js'
