/**
 * JSON values and JSON Schema nodes as the compatibility check reads them: deep equality, the JSON
 * types of values, type sets (with `integer` inside `number`), and schema equality that ignores
 * annotations.
 */

/** A JSON Schema node: an object, or `true` / `false` (accept everything / nothing). */
export type SchemaObject = { [keyword: string]: unknown }

/** The JSON Schema types; `integer` is the part of `number` that is whole. */
export type JsonType = 'null' | 'boolean' | 'object' | 'array' | 'number' | 'integer' | 'string'

/** Every value, by type: `number` covers the integers. */
export const ALL_TYPES: readonly JsonType[] = ['null', 'boolean', 'object', 'array', 'number', 'string']

/** Keywords that describe and never constrain: changing them changes no accepted value. */
export const ANNOTATIONS: ReadonlySet<string> = new Set([
  '$schema',
  '$comment',
  '$defs',
  'definitions',
  'title',
  'description',
  'default',
  'examples',
  'readOnly',
  'writeOnly',
  'deprecated',
])

export function isObject(node: unknown): node is SchemaObject {
  return typeof node === 'object' && node !== null && !Array.isArray(node)
}

export function has(object: unknown, key: string): boolean {
  return isObject(object) && Object.hasOwn(object, key)
}

/** Structural equality of JSON values; object key order does not matter. */
export function deepEqual(x: unknown, y: unknown): boolean {
  if (x === y) return true
  if (Array.isArray(x)) {
    return Array.isArray(y) && x.length === y.length && x.every((item, i) => deepEqual(item, y[i]))
  }
  if (!isObject(x) || !isObject(y)) return false
  const keys = Object.keys(x)
  return (
    keys.length === Object.keys(y).length && keys.every((k) => Object.hasOwn(y, k) && deepEqual(x[k], y[k]))
  )
}

/** The JSON type of a value: whole numbers are `integer`. */
export function typeOfValue(value: unknown): JsonType {
  if (value === null) return 'null'
  if (Array.isArray(value)) return 'array'
  switch (typeof value) {
    case 'boolean':
      return 'boolean'
    case 'number':
      return Number.isInteger(value) ? 'integer' : 'number'
    case 'string':
      return 'string'
    default:
      return 'object'
  }
}

/** Whether a type set accepts type `t`: `number` accepts integers too. */
export function typeIn(types: ReadonlySet<JsonType>, t: JsonType): boolean {
  return types.has(t) || (t === 'integer' && types.has('number'))
}

/** The types both sets accept. */
export function intersectTypes(x: ReadonlySet<JsonType>, y: ReadonlySet<JsonType>): Set<JsonType> {
  const out = new Set<JsonType>()
  for (const t of x) {
    if (typeIn(y, t)) out.add(t)
    else if (t === 'number' && y.has('integer')) out.add('integer')
  }
  return out
}

/** The `type` keyword of a node as a set, or undefined when it has none (or a malformed one). */
export function declaredTypes(node: SchemaObject): Set<JsonType> | undefined {
  const type = node.type
  if (typeof type === 'string') return new Set([type as JsonType])
  if (Array.isArray(type) && type.every((t) => typeof t === 'string')) return new Set(type as JsonType[])
  return undefined
}

/** The values a node lists with `const` and/or `enum`, or undefined when it lists none. */
export function listedValues(node: SchemaObject): unknown[] | undefined {
  const hasConst = Object.hasOwn(node, 'const')
  const list = Array.isArray(node.enum) ? node.enum : undefined
  if (!hasConst) return list
  return list === undefined || list.some((v) => deepEqual(v, node.const)) ? [node.const] : []
}

/** A value for a sentence: strings quoted, long things shortened. */
export function show(value: unknown): string {
  const text = JSON.stringify(value) ?? String(value)
  return text.length > 60 ? `${text.slice(0, 57)}...` : text
}

/** Up to five values for a sentence. */
export function showList(values: readonly unknown[]): string {
  const shown = values.slice(0, 5).map(show).join(', ')
  return values.length > 5 ? `${shown}, ... (${values.length} values)` : shown
}

/** Keywords whose value is one subschema. */
const ONE = new Set([
  'not',
  'items',
  'additionalItems',
  'additionalProperties',
  'propertyNames',
  'contains',
  'if',
  'then',
  'else',
  'unevaluatedItems',
  'unevaluatedProperties',
  'contentSchema',
])
/** Keywords whose value is a list of subschemas. */
const LIST = new Set(['allOf', 'anyOf', 'oneOf', 'prefixItems'])
/** Keywords whose value maps names to subschemas. */
const MAP = new Set(['properties', 'patternProperties', 'dependentSchemas', '$defs', 'definitions'])

/**
 * Whether two schema nodes accept the same values for sure: equal once annotations are dropped.
 * Walks only schema positions, so a property named `description` is still compared.
 */
export function sameSchema(x: unknown, y: unknown): boolean {
  if (!isObject(x) || !isObject(y)) return deepEqual(x, y)
  const keys = (node: SchemaObject) => Object.keys(node).filter((k) => !ANNOTATIONS.has(k) || MAP.has(k))
  const kx = keys(x)
  const ky = keys(y)
  if (kx.length !== ky.length) return false
  return kx.every((k) => {
    if (!Object.hasOwn(y, k)) return false
    const vx = x[k]
    const vy = y[k]
    if (ONE.has(k) && !Array.isArray(vx)) return sameSchema(vx, vy)
    if (LIST.has(k) || (k === 'items' && Array.isArray(vx))) {
      return (
        Array.isArray(vx) &&
        Array.isArray(vy) &&
        vx.length === vy.length &&
        vx.every((s, i) => sameSchema(s, vy[i]))
      )
    }
    if (MAP.has(k) && isObject(vx) && isObject(vy)) {
      const names = Object.keys(vx)
      return (
        names.length === Object.keys(vy).length &&
        names.every((n) => Object.hasOwn(vy, n) && sameSchema(vx[n], vy[n]))
      )
    }
    return deepEqual(vx, vy)
  })
}

/** Whether a schema holds a `$ref` anywhere (then equal text may not mean equal schemas). */
export function hasRef(node: unknown): boolean {
  if (Array.isArray(node)) return node.some(hasRef)
  if (!isObject(node)) return false
  return Object.entries(node).some(([k, v]) => k === '$ref' || k === '$dynamicRef' || hasRef(v))
}
