/**
 * From a state's zod types to its wire layout (`WireType`): what each type encodes as, and every
 * type that cannot be encoded, named by its path (`leaf.levels[].price`). Runs where the schemas
 * are loaded; reads zod's definitions (`_zod.def`), so it works with the app's own copy of zod.
 */
import { minBytes } from '../../runtime/state/layout-bytes.js'
import type { WireField, WireType } from '../model.js'

/** A type the layout cannot carry: where, and why. */
export interface LayoutProblem {
  path: string
  message: string
}

interface ZodLike {
  _zod: { def: Def }
  description?: string
  minLength?: number | null
  maxLength?: number | null
  minValue?: number | null
  maxValue?: number | null
  isInt?: boolean
  format?: string | null
  options?: unknown[]
}

interface Def {
  type: string
  [key: string]: unknown
}

interface Check {
  _zod: {
    def: {
      check: string
      value?: unknown
      inclusive?: boolean
      minimum?: number
      maximum?: number
      length?: number
    }
  }
}

const WRAPPERS = new Set(['default', 'prefault', 'catch', 'readonly', 'nonoptional'])

const REFUSED: Record<string, string> = {
  pipe: 'a transform or pipe: the codec writes what it reads back, and a transform cannot be undone',
  transform: 'a transform: the codec writes what it reads back, and a transform cannot be undone',
  lazy: 'a lazy (recursive) type: a layout must be finite',
  any: 'any: a layout needs a type',
  unknown: 'unknown: a layout needs a type',
  custom: 'a custom type: a layout needs a type it knows',
  union: 'a union without a discriminator: use z.discriminatedUnion',
  intersection: 'an intersection: merge the objects (a.extend(b.shape))',
  tuple: 'a tuple: use an object or an array',
  map: 'a Map: use z.record',
  set: 'a Set: use z.array',
}

/** The layout of `schema`, or problems (then the returned layout is not to be used). */
export function wireType(schema: unknown, path: string, problems: LayoutProblem[]): WireType {
  const fail = (message: string): WireType => {
    problems.push({ path, message })
    return { type: 'boolean' }
  }
  if (!isZod(schema)) return fail('is not a zod type')
  const def = schema._zod.def
  if (WRAPPERS.has(def.type)) {
    if (def.type === 'nonoptional') return fail('nonoptional: declare the field without .optional() instead')
    return wireType(def.innerType, path, problems)
  }
  switch (def.type) {
    case 'string':
      return withBounds({ type: 'string' }, { minLength: schema.minLength, maxLength: schema.maxLength })
    case 'number':
      return numberType(schema)
    case 'bigint':
      return { type: 'bigint' }
    case 'boolean':
      return { type: 'boolean' }
    case 'date':
      return { type: 'date' }
    case 'enum': {
      const values = schema.options ?? []
      if (!values.every((v) => typeof v === 'string' || typeof v === 'number')) {
        return fail('an enum of values other than strings and numbers')
      }
      return { type: 'enum', values: values as Array<string | number> }
    }
    case 'literal': {
      const values = (def.values as unknown[]) ?? []
      if (!values.every((v) => ['string', 'number', 'boolean'].includes(typeof v))) {
        return fail('a literal other than a string, number or boolean')
      }
      return { type: 'literal', values: values as Array<string | number | boolean> }
    }
    case 'optional': {
      const of = wireType(def.innerType, path, problems)
      return of.type === 'optional' ? of : { type: 'optional', of }
    }
    case 'nullable': {
      const of = wireType(def.innerType, path, problems)
      if (of.type === 'optional') {
        return of.of.type === 'nullable' ? of : { type: 'optional', of: { type: 'nullable', of: of.of } }
      }
      return of.type === 'nullable' ? of : { type: 'nullable', of }
    }
    case 'object':
      return objectType(schema, path, problems)
    case 'array': {
      const of = wireType(def.element, `${path}[]`, problems)
      if (minBytes(of) === 0) return fail('an array of items that encode to nothing (empty objects)')
      const bounds = lengthChecks(def.checks)
      return withBounds({ type: 'array', of }, { minLength: bounds.min, maxLength: bounds.max }, 'Items')
    }
    case 'record': {
      const key = wireType(def.keyType, `${path}{key}`, problems)
      if (key.type !== 'string' && key.type !== 'enum' && key.type !== 'literal') {
        return fail('a record whose keys are not strings, an enum or literals')
      }
      const of = wireType(def.valueType, `${path}{}`, problems)
      return { type: 'record', key, of }
    }
    case 'union':
      if (typeof def.discriminator === 'string') return unionType(def, path, problems)
      return fail(`is ${REFUSED.union}`)
    default:
      return fail(`is ${REFUSED[def.type] ?? `a ${def.type}, which has no binary layout`}`)
  }
}

export { isPresenceField, minBytes, presenceBits, presenceBytes } from '../../runtime/state/layout-bytes.js'

function objectType(schema: ZodLike, path: string, problems: LayoutProblem[]): WireType & { type: 'object' } {
  const def = schema._zod.def
  const catchall = def.catchall as ZodLike | undefined
  if (catchall && catchall._zod.def.type !== 'never') {
    problems.push({
      path,
      message: 'keeps unknown keys (z.looseObject or .catchall()): only declared fields can be encoded',
    })
  }
  const shape = (def.shape ?? {}) as Record<string, unknown>
  for (const name of Object.keys(shape)) {
    if (!/^[A-Za-z_$][A-Za-z0-9_$]*$/.test(name)) {
      problems.push({
        path: `${path}.${name}`,
        message: 'is not a JavaScript identifier: name fields as identifiers',
      })
    }
  }
  const fields: WireField[] = Object.keys(shape)
    .sort(compare)
    .map((name) => ({ name, of: wireType(shape[name], `${path}.${name}`, problems) }))
  return { type: 'object', fields }
}

function unionType(def: Def, path: string, problems: LayoutProblem[]): WireType {
  const discriminator = def.discriminator as string
  const variants: Array<{ value: string | number | boolean; of: WireType }> = []
  for (const [i, option] of ((def.options as unknown[]) ?? []).entries()) {
    const where = `${path}<${i}>`
    if (!isZod(option) || option._zod.def.type !== 'object') {
      problems.push({ path: where, message: 'a discriminated union option must be a z.object' })
      continue
    }
    const shape = (option._zod.def.shape ?? {}) as Record<string, ZodLike>
    const tag = shape[discriminator]
    const tagType = tag ? wireType(tag, `${where}.${discriminator}`, problems) : undefined
    if (!tagType || (tagType.type !== 'literal' && tagType.type !== 'enum')) {
      problems.push({
        path: `${where}.${discriminator}`,
        message: 'the discriminator must be a literal or an enum',
      })
      continue
    }
    const object = objectType(option, where, problems)
    const of: WireType = { type: 'object', fields: object.fields.filter((f) => f.name !== discriminator) }
    for (const value of tagType.values) variants.push({ value, of })
  }
  return { type: 'union', discriminator, variants }
}

function numberType(schema: ZodLike): WireType {
  const checks = (schema._zod.def.checks as Check[] | undefined) ?? []
  const min = finite(schema.minValue)
  const max = finite(schema.maxValue)
  // A bound is exclusive only when the tightest one is: `.gt(0).gte(5)` is `>= 5`, not `> 5`.
  const exclusive = { min: false, max: false }
  for (const check of checks) {
    const d = check._zod.def
    if (d.inclusive !== false || typeof d.value !== 'number') continue
    if (d.check === 'greater_than' && d.value === min) exclusive.min = true
    if (d.check === 'less_than' && d.value === max) exclusive.max = true
  }
  if (schema.format === 'float32') {
    return bounds({ type: 'f32' }, min, max, exclusive, 3.4028234663852886e38)
  }
  if (schema.isInt) {
    const lo = min === undefined ? undefined : exclusive.min ? Math.floor(min) + 1 : Math.ceil(min)
    const hi = max === undefined ? undefined : exclusive.max ? Math.ceil(max) - 1 : Math.floor(max)
    const type: WireType = lo !== undefined && lo >= 0 ? { type: 'uint' } : { type: 'int' }
    if (lo !== undefined && lo > (type.type === 'uint' ? 0 : -Number.MAX_SAFE_INTEGER)) type.minimum = lo
    if (hi !== undefined && hi < Number.MAX_SAFE_INTEGER) type.maximum = hi
    return type
  }
  return bounds({ type: 'f64' }, min, max, exclusive, Number.MAX_VALUE)
}

function bounds(
  type: WireType & { type: 'f64' | 'f32' },
  min: number | undefined,
  max: number | undefined,
  exclusive: { min: boolean; max: boolean },
  limit: number,
): WireType {
  if (min !== undefined && min > -limit) type[exclusive.min ? 'exclusiveMinimum' : 'minimum'] = min
  if (max !== undefined && max < limit) type[exclusive.max ? 'exclusiveMaximum' : 'maximum'] = max
  return type
}

function lengthChecks(checks: unknown): { min: number | undefined; max: number | undefined } {
  let min: number | undefined
  let max: number | undefined
  for (const check of (checks as Check[] | undefined) ?? []) {
    const d = check._zod.def
    if (d.check === 'min_length' && d.minimum !== undefined) min = Math.max(min ?? 0, d.minimum)
    if (d.check === 'max_length' && d.maximum !== undefined) max = Math.min(max ?? Infinity, d.maximum)
    if (d.check === 'length_equals' && d.length !== undefined) {
      min = Math.max(min ?? 0, d.length)
      max = Math.min(max ?? Infinity, d.length)
    }
  }
  return { min, max }
}

function withBounds<T extends WireType>(
  type: T,
  found: { minLength: number | null | undefined; maxLength: number | null | undefined },
  suffix: 'Length' | 'Items' = 'Length',
): T {
  const t = type as Record<string, unknown>
  if (typeof found.minLength === 'number' && found.minLength > 0) t[`min${suffix}`] = found.minLength
  if (typeof found.maxLength === 'number' && Number.isFinite(found.maxLength))
    t[`max${suffix}`] = found.maxLength
  return type
}

function finite(value: number | null | undefined): number | undefined {
  return typeof value === 'number' && Number.isFinite(value) ? value : undefined
}

function isZod(value: unknown): value is ZodLike {
  return (
    typeof value === 'object' &&
    value !== null &&
    typeof (value as ZodLike)._zod === 'object' &&
    typeof (value as ZodLike)._zod?.def?.type === 'string'
  )
}

function compare(a: string, b: string): number {
  return a < b ? -1 : a > b ? 1 : 0
}
