import { GrenacheError } from '../errors.js'
import { show } from '../util/validate.js'
import { STATE_LIMITS } from './define.js'
import type { StateLayout, WireType } from './layout.js'
import { minBytes } from './layout-bytes.js'

/** Deepest nesting of types a layout may have: the interpreter recurses once per level. */
export const MAX_LAYOUT_DEPTH = 64
/** Most types (nodes) in one layout. */
export const MAX_LAYOUT_NODES = 100_000

const NUMBER_BOUNDS = ['minimum', 'maximum', 'exclusiveMinimum', 'exclusiveMaximum'] as const

/**
 * Checks that `value` is a state layout a codec can be built from (the shape of `StateLayout`,
 * every type known, bounds that are numbers, arrays of items that take at least a byte, nesting
 * and size bounded) and returns it typed. A layout read off the network is untrusted: a problem is
 * `ERR_INVALID_ARGUMENT` naming the path (`layout.leaf.levels[]: …`).
 */
export function checkLayout(value: unknown): StateLayout {
  const fail: Fail = (path, problem, ...got) => {
    const suffix = got.length > 0 ? `, got ${show(got[0])}` : ''
    throw new GrenacheError('ERR_INVALID_ARGUMENT', `layout${path ? `.${path}` : ''}: ${problem}${suffix}`)
  }
  if (!isObject(value)) return fail('', 'must be an object', value)
  const { name, version, maxKeyBytes, maxLeafBytes } = value
  if (typeof name !== 'string' || name.length === 0 || name.length > 256)
    fail('name', 'must be a string of 1 to 256 characters', name)
  if (!isInteger(version, 1)) fail('version', 'must be a positive integer', version)
  if (!isInteger(maxKeyBytes, 1, STATE_LIMITS.maxKeyBytes.max))
    fail('maxKeyBytes', `must be an integer from 1 to ${STATE_LIMITS.maxKeyBytes.max}`, maxKeyBytes)
  if (!isInteger(maxLeafBytes, 1, STATE_LIMITS.maxLeafBytes.max))
    fail('maxLeafBytes', `must be an integer from 1 to ${STATE_LIMITS.maxLeafBytes.max}`, maxLeafBytes)
  const counter = { nodes: 0 }
  checkType(value.key, 'key', 0, counter, fail)
  checkType(value.leaf, 'leaf', 0, counter, fail)
  if ((value.leaf as WireType).type !== 'object') fail('leaf', 'must be an object type')
  return value as unknown as StateLayout
}

/** Throws for a problem at `path`; the value it got, when given, is shown. */
type Fail = (path: string, problem: string, ...got: [unknown?]) => never

function checkType(type: unknown, path: string, depth: number, counter: { nodes: number }, fail: Fail): void {
  if (depth > MAX_LAYOUT_DEPTH) fail(path, `nests deeper than ${MAX_LAYOUT_DEPTH} types`)
  if (++counter.nodes > MAX_LAYOUT_NODES) fail(path, `is past ${MAX_LAYOUT_NODES} types in all`)
  if (!isObject(type)) fail(path, 'must be a type object', type)
  const t = type as Record<string, unknown>
  const inner = (of: unknown, suffix: string) => checkType(of, `${path}${suffix}`, depth + 1, counter, fail)
  switch (t.type) {
    case 'string':
      checkLength(t, 'minLength', 'maxLength', path, fail)
      return
    case 'f64':
    case 'f32':
      for (const bound of NUMBER_BOUNDS) {
        if (t[bound] !== undefined && !(typeof t[bound] === 'number' && Number.isFinite(t[bound])))
          fail(`${path}.${bound}`, 'must be a finite number', t[bound])
      }
      return
    case 'int':
    case 'uint':
      for (const bound of ['minimum', 'maximum'] as const) {
        if (t[bound] !== undefined && !Number.isSafeInteger(t[bound]))
          fail(`${path}.${bound}`, 'must be a safe integer', t[bound])
      }
      return
    case 'bigint':
    case 'boolean':
    case 'date':
      return
    case 'enum':
    case 'literal': {
      const kinds = t.type === 'enum' ? ['string', 'number'] : ['string', 'number', 'boolean']
      if (!Array.isArray(t.values) || t.values.length === 0 || t.values.length > 65536)
        fail(`${path}.values`, 'must be an array of 1 to 65536 values', t.values)
      for (const [i, v] of t.values.entries()) {
        if (!kinds.includes(typeof v) || (typeof v === 'number' && !Number.isFinite(v)))
          fail(`${path}.values[${i}]`, `must be a ${kinds.join(' or ')}`, v)
      }
      return
    }
    case 'optional':
    case 'nullable':
      inner(t.of, '')
      return
    case 'object': {
      if (!Array.isArray(t.fields)) fail(`${path}.fields`, 'must be an array', t.fields)
      const names = new Set<string>()
      for (const [i, field] of t.fields.entries()) {
        if (!isObject(field) || typeof field.name !== 'string' || field.name === '')
          fail(`${path}.fields[${i}]`, 'must be { name, of } with a non-empty name', field)
        if (names.has(field.name)) fail(`${path}.${field.name}`, 'is a field twice')
        names.add(field.name)
        inner(field.of, `.${field.name}`)
      }
      return
    }
    case 'array':
      inner(t.of, '[]')
      // A count of items that take no bytes could not be bounded by the bytes left.
      if (minBytes(t.of as WireType) === 0) fail(`${path}[]`, 'is an item that encodes to nothing')
      checkLength(t, 'minItems', 'maxItems', path, fail)
      return
    case 'record': {
      inner(t.key, '{key}')
      const key = (t.key as WireType).type
      if (key !== 'string' && key !== 'enum' && key !== 'literal')
        fail(`${path}{key}`, 'must be a string, enum or literal type', key)
      inner(t.of, '{}')
      return
    }
    case 'union': {
      const disc = t.discriminator
      if (typeof disc !== 'string' || disc === '')
        fail(`${path}.discriminator`, 'must be a non-empty string', disc)
      if (!Array.isArray(t.variants) || t.variants.length === 0 || t.variants.length > 65536)
        fail(`${path}.variants`, 'must be an array of 1 to 65536 variants', t.variants)
      const seen = new Set<unknown>()
      for (const [i, variant] of t.variants.entries()) {
        const where = `${path}.variants[${i}]`
        if (!isObject(variant)) fail(where, 'must be { value, of }', variant)
        const v = variant.value
        if (
          !['string', 'number', 'boolean'].includes(typeof v) ||
          (typeof v === 'number' && !Number.isFinite(v))
        )
          fail(`${where}.value`, 'must be a string, number or boolean', v)
        if (seen.has(v)) fail(`${where}.value`, 'is the value of an earlier variant', v)
        seen.add(v)
        inner(variant.of, `<${String(v)}>`)
        const of = variant.of as WireType
        if (of.type !== 'object') fail(`${path}<${String(v)}>`, 'must be an object type', of.type)
        if (of.type === 'object' && of.fields.some((f) => f.name === disc))
          fail(`${path}<${String(v)}>.${disc}`, 'repeats the discriminator')
      }
      return
    }
    default:
      fail(`${path}.type`, 'is not a type of the state layout', t.type)
  }
}

function checkLength(t: Record<string, unknown>, min: string, max: string, path: string, fail: Fail): void {
  for (const bound of [min, max]) {
    if (t[bound] !== undefined && !isInteger(t[bound], 0))
      fail(`${path}.${bound}`, 'must be a non-negative integer', t[bound])
  }
  if (typeof t[min] === 'number' && typeof t[max] === 'number' && t[min] > t[max])
    fail(`${path}.${min}`, `is more than ${max} (${t[max]})`, t[min])
}

function isObject(value: unknown): value is Record<string, unknown> {
  return typeof value === 'object' && value !== null && !Array.isArray(value)
}

function isInteger(value: unknown, min: number, max = Number.MAX_SAFE_INTEGER): value is number {
  return typeof value === 'number' && Number.isSafeInteger(value) && value >= min && value <= max
}
