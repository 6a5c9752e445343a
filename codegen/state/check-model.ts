/**
 * What the generated validator of a state checks (`CheckNode`): the author's zod types read once,
 * at generation, into plain data the emitter turns into straight-line code. Only what this file
 * knows zod does exactly is mirrored; any other node (a refinement, a regex or format, a catch, a
 * record, a coercion, a kind of zod type or check this file has not met) becomes `zod`: the
 * generated code calls that node's own zod schema, so correctness never depends on this list.
 * Mirrors zod 4's forward parse (`_zod.def`, `_zod.optin`/`optout`), as `layout.ts` reads it.
 */

/** Steps from the key or leaf schema to a node's schema: property names, read one by one. */
export type SchemaSteps = string[]

/** One number check: `>`/`>=` (`gt`) or `<`/`<=` (`lt`), or zod's number format range. */
export type NumberCheck =
  | { op: 'gt' | 'lt'; value: number; inclusive: boolean }
  | { op: 'format'; format: 'safeint' | 'int32' | 'uint32' | 'float32' | 'float64' }

/** Length bounds as zod counts them (strings in code points, arrays in items). */
export interface LengthChecks {
  min?: number
  max?: number
  exact?: number
}

/** A field of an object: zod's presence rules depend on its `optin`/`optout`. */
export interface CheckField {
  name: string
  optin: 'optional' | 'defaulted' | undefined
  optout: 'optional' | undefined
  of: CheckNode
}

export type CheckNode =
  /** Run this node's zod schema (found by `at`) and take its output or its issues. */
  | { kind: 'zod'; at: SchemaSteps }
  | ({ kind: 'string' } & LengthChecks)
  | { kind: 'number'; checks: NumberCheck[] }
  | { kind: 'boolean' | 'bigint' | 'date' }
  /** An enum or literals: one of `values`. */
  | { kind: 'values'; values: Array<string | number | boolean> }
  | { kind: 'optional' | 'nullable' | 'readonly'; of: CheckNode }
  /** `undefined` in, the default out (read from the schema at `at`, as zod reads it). */
  | { kind: 'default'; of: CheckNode; at: SchemaSteps }
  /** Fields in declaration order (zod's output order); `strict` refuses unknown keys. */
  | { kind: 'object'; fields: CheckField[]; strict: boolean }
  | ({ kind: 'array'; of: CheckNode } & LengthChecks)
  /** Each option with the discriminator values that select it. */
  | {
      kind: 'union'
      discriminator: string
      options: Array<{ values: Array<string | number | boolean>; of: CheckNode & { kind: 'object' } }>
    }

/** The checks of a state's key, its leaf and (from the leaf's fields) its patches. */
export interface StateChecks {
  key: CheckNode
  leaf: CheckNode
}

interface Zod {
  _zod: {
    def: Record<string, unknown> & { type: string }
    traits: Set<string>
    optin?: 'optional' | 'defaulted'
    optout?: 'optional'
  }
}

/** Keys a def may carry without changing what a parse accepts or returns (messages only). */
const NEUTRAL = ['type', 'error', 'abort']
const BARE = new Set([...NEUTRAL, 'checks'])
const WRAP = new Set([...NEUTRAL, 'innerType'])
const FORMATS = new Set(['safeint', 'int32', 'uint32', 'float32', 'float64'])
const OWN_TRAITS: Record<string, string[]> = {
  string: ['ZodString', '$ZodString', '_ZodString'],
  number: [
    'ZodNumber',
    '$ZodNumber',
    'ZodNumberFormat',
    '$ZodNumberFormat',
    '$ZodCheckNumberFormat',
    '$ZodCheck',
  ],
  boolean: ['ZodBoolean', '$ZodBoolean'],
  bigint: ['ZodBigInt', '$ZodBigInt'],
  date: ['ZodDate', '$ZodDate'],
  enum: ['ZodEnum', '$ZodEnum'],
  literal: ['ZodLiteral', '$ZodLiteral'],
  optional: ['ZodOptional', '$ZodOptional'],
  nullable: ['ZodNullable', '$ZodNullable'],
  default: ['ZodDefault', '$ZodDefault'],
  readonly: ['ZodReadonly', '$ZodReadonly'],
  object: ['ZodObject', '$ZodObject', '$ZodObjectJIT'],
  array: ['ZodArray', '$ZodArray'],
  union: ['ZodUnion', '$ZodUnion', 'ZodDiscriminatedUnion', '$ZodDiscriminatedUnion'],
}

/** The checks of `schema` (a key or leaf that has a layout), `at` the steps that reach it. */
export function checkNode(schema: unknown, at: SchemaSteps = []): CheckNode {
  return mirror(schema as Zod, at) ?? { kind: 'zod', at }
}

function mirror(schema: Zod, at: SchemaSteps): CheckNode | undefined {
  const z = schema._zod
  const def = z.def
  const traits = OWN_TRAITS[def.type]
  if (!traits || ![...z.traits].every((t) => t === '$ZodType' || t === 'ZodType' || traits.includes(t)))
    return undefined
  const inner = (): CheckNode => checkNode(def.innerType, [...at, '_zod', 'def', 'innerType'])
  switch (def.type) {
    case 'string': {
      if (!onlyKeys(def, BARE)) return undefined
      const length = lengthChecks(def.checks)
      return length && { kind: 'string', ...length }
    }
    case 'number':
      return numberNode(schema)
    case 'boolean':
    case 'bigint':
    case 'date':
      return onlyKeys(def, new Set(NEUTRAL)) ? { kind: def.type } : undefined
    case 'enum':
    case 'literal': {
      const values = def.type === 'enum' ? (schema as { options?: unknown[] }).options : def.values
      if (!onlyKeys(def, new Set([...NEUTRAL, def.type === 'enum' ? 'entries' : 'values']))) return undefined
      return Array.isArray(values) && values.every(plainValue) ? { kind: 'values', values } : undefined
    }
    case 'optional':
      // An optional around a default substitutes for undefined: zod's own rules are subtle there.
      if (!onlyKeys(def, WRAP) || (def.innerType as Zod)._zod.optin === 'defaulted') return undefined
      return { kind: 'optional', of: inner() }
    case 'nullable':
    case 'readonly':
      return onlyKeys(def, WRAP) ? { kind: def.type, of: inner() } : undefined
    case 'default':
      return onlyKeys(def, new Set([...WRAP, 'defaultValue']))
        ? { kind: 'default', of: inner(), at }
        : undefined
    case 'object':
      return objectNode(schema, at)
    case 'array': {
      if (!onlyKeys(def, new Set([...BARE, 'element']))) return undefined
      const length = lengthChecks(def.checks)
      return (
        length && { kind: 'array', of: checkNode(def.element, [...at, '_zod', 'def', 'element']), ...length }
      )
    }
    case 'union':
      return unionNode(schema, at)
  }
  return undefined
}

function objectNode(schema: Zod, at: SchemaSteps): (CheckNode & { kind: 'object' }) | undefined {
  const def = schema._zod.def
  if (!onlyKeys(def, new Set([...NEUTRAL, 'shape', 'catchall']))) return undefined
  const catchall = def.catchall as Zod | undefined
  if (catchall && catchall._zod.def.type !== 'never') return undefined
  const shape = def.shape as Record<string, Zod>
  if (Object.getOwnPropertySymbols(shape).length > 0 || Object.hasOwn(shape, '__proto__')) return undefined
  const fields = Object.keys(shape).map((name): CheckField => {
    const field = shape[name] as Zod
    return {
      name,
      optin: field._zod.optin,
      optout: field._zod.optout,
      of: checkNode(field, [...at, '_zod', 'def', 'shape', name]),
    }
  })
  return { kind: 'object', fields, strict: catchall !== undefined }
}

function unionNode(schema: Zod, at: SchemaSteps): CheckNode | undefined {
  const def = schema._zod.def
  const disc = def.discriminator
  if (
    typeof disc !== 'string' ||
    !onlyKeys(def, new Set([...NEUTRAL, 'options', 'discriminator', 'inclusive']))
  )
    return undefined
  const seen = new Set<unknown>()
  const options: Array<{ values: Array<string | number | boolean>; of: CheckNode & { kind: 'object' } }> = []
  for (const [i, option] of (def.options as Zod[]).entries()) {
    const of = objectNode(option, [...at, '_zod', 'def', 'options', String(i)])
    const tag = of?.fields.find((f) => f.name === disc)?.of
    if (!of || tag?.kind !== 'values') return undefined
    // A value claimed twice goes to zod's first taker in its map: leave such unions to zod.
    if (tag.values.some((v) => seen.has(v))) return undefined
    for (const v of tag.values) seen.add(v)
    options.push({ values: tag.values, of })
  }
  return { kind: 'union', discriminator: disc, options }
}

function numberNode(schema: Zod): CheckNode | undefined {
  const def = schema._zod.def
  const checks: NumberCheck[] = []
  const own = [
    ...(def.check === 'number_format' ? [schema] : []),
    ...((def.checks as Zod[] | undefined) ?? []),
  ]
  const keys = def.check === 'number_format' ? new Set([...BARE, 'check', 'format']) : BARE
  if (!onlyKeys(def, keys)) return undefined
  for (const check of own) {
    const d = check._zod.def
    if (d.check === 'number_format' && typeof d.format === 'string' && FORMATS.has(d.format)) {
      checks.push({ op: 'format', format: d.format as 'safeint' })
    } else if (
      (d.check === 'greater_than' || d.check === 'less_than') &&
      typeof d.value === 'number' &&
      Number.isFinite(d.value) &&
      d.when === undefined
    ) {
      checks.push({
        op: d.check === 'greater_than' ? 'gt' : 'lt',
        value: d.value,
        inclusive: d.inclusive === true,
      })
    } else return undefined
  }
  return { kind: 'number', checks }
}

/** Length checks of a string or an array, or undefined if it has any other check. */
function lengthChecks(checks: unknown): LengthChecks | undefined {
  const out: LengthChecks = {}
  for (const check of (checks as Zod[] | undefined) ?? []) {
    const d = check._zod.def
    const n = d.check === 'min_length' ? d.minimum : d.check === 'max_length' ? d.maximum : d.length
    if (typeof n !== 'number' || !Number.isFinite(n)) return undefined
    if (d.check === 'min_length') out.min = Math.max(out.min ?? 0, n)
    else if (d.check === 'max_length') out.max = Math.min(out.max ?? n, n)
    else if (d.check === 'length_equals' && out.exact === undefined) out.exact = n
    else return undefined
  }
  return out
}

function onlyKeys(def: Record<string, unknown>, allowed: Set<string>): boolean {
  return Object.keys(def).every((k) => allowed.has(k) || def[k] === undefined)
}

function plainValue(v: unknown): v is string | number | boolean {
  return typeof v === 'string' || typeof v === 'boolean' || (typeof v === 'number' && Number.isFinite(v))
}
