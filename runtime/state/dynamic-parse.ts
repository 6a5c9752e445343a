import { GrenacheError } from '../errors.js'
import { show } from '../util/validate.js'
import { deleteDelta, patchDelta, upsertDelta } from './delta-objects.js'
import type { StateLayout, WireType } from './layout.js'
import type { Delta } from './types.js'

type Fields = Record<string, unknown>
type AnyDelta = Delta<unknown, Fields, Fields>
type Issue = { path: string; message: string }
/** `String.prototype.isWellFormed` (Node 20; in TypeScript's ES2024 lib). */
type WellFormed = string & { isWellFormed(): boolean }

/** At most this many issues are listed in one error. */
const MAX_ISSUES = 20
const F32_MAX = 3.4028234663852886e38

/** Validators of a layout, for codecs that have no zod schema (`dynamicCodec`). */
export interface LayoutParsers {
  parseDelta(delta: unknown): AnyDelta
  parseKey(key: unknown): unknown
  parseLeaf(leaf: unknown): Fields
}

/**
 * What a codec built from a layout checks in place of the author's zod schemas: the structure
 * (types, integer-ness, bounds, lengths in code points, counts, enum values, union variants). What
 * only zod knows (refinements, formats, defaults) is not checked. Returns copies that hold only the
 * declared fields; a problem is `ERR_INVALID_DELTA` listing every issue with its path, as
 * `stateParsers` does (`order_book v1: leaf.price: must be at least 1, got 0`).
 */
export function layoutParsers(layout: StateLayout): LayoutParsers {
  const where = `${layout.name} v${layout.version}`
  const leafType = layout.leaf as WireType & { type: 'object' }
  const fieldTypes = new Map(leafType.fields.map((field) => [field.name, field.of]))
  const run = <T>(body: (issues: Issue[]) => T): T => {
    const issues: Issue[] = []
    const value = body(issues)
    if (issues.length > 0) {
      const listed = issues.slice(0, MAX_ISSUES).map((issue) => `${issue.path}: ${issue.message}`)
      if (issues.length > MAX_ISSUES) listed.push(`and ${issues.length - MAX_ISSUES} more`)
      throw new GrenacheError('ERR_INVALID_DELTA', `${where}: ${listed.join('; ')}`)
    }
    return value
  }
  const patch = (fields: unknown, issues: Issue[]): Fields => {
    if (!isRecord(fields)) {
      issues.push({ path: 'fields', message: 'must be an object of leaf fields' })
      return {}
    }
    const out: Fields = {}
    for (const [name, value] of Object.entries(fields)) {
      const type = fieldTypes.get(name)
      const path = `fields.${name}`
      if (!type) issues.push({ path, message: 'is not a field of the leaf' })
      else if (value === undefined && type.type !== 'optional')
        issues.push({ path, message: 'is required: a patch cannot remove it (send an upsert)' })
      else set(out, name, value === undefined ? undefined : check(type, value, path, issues))
    }
    return out
  }
  return {
    parseKey: (key) => run((issues) => check(layout.key, key, 'key', issues)),
    parseLeaf: (leaf) => run((issues) => check(leafType, leaf, 'leaf', issues) as Fields),
    parseDelta: (delta) =>
      run((issues): AnyDelta => {
        const d = (isRecord(delta) ? delta : {}) as Fields
        switch (d.op) {
          case 'upsert': {
            const key = check(layout.key, d.key, 'key', issues)
            return upsertDelta(key, check(leafType, d.leaf, 'leaf', issues) as Fields)
          }
          case 'patch': {
            const key = check(layout.key, d.key, 'key', issues)
            return patchDelta(key, patch(d.fields, issues))
          }
          case 'delete':
            return deleteDelta(check(layout.key, d.key, 'key', issues))
          case 'clear':
            return { op: 'clear' }
        }
        issues.push({ path: 'op', message: 'must be "upsert", "patch", "delete" or "clear"' })
        return { op: 'clear' }
      }),
  }
}

/** `value` checked against `type` (issues pushed), as a copy holding only what the layout declares. */
function check(type: WireType, value: unknown, path: string, issues: Issue[]): unknown {
  const issue = (message: string): undefined => {
    issues.push({ path, message: `${message}, got ${show(value)}` })
    return undefined
  }
  switch (type.type) {
    case 'string': {
      if (typeof value !== 'string') return issue('must be a string')
      if (!(value as WellFormed).isWellFormed())
        return issue('must be well-formed (a lone surrogate is not UTF-8)')
      const length = [...value].length
      if (
        (type.minLength !== undefined && length < type.minLength) ||
        (type.maxLength !== undefined && length > type.maxLength)
      )
        return issue(`must be ${type.minLength ?? 0} to ${type.maxLength ?? 'any'} characters long`)
      return value
    }
    case 'f64':
    case 'f32':
    case 'int':
    case 'uint': {
      if (typeof value !== 'number' || !Number.isFinite(value)) return issue('must be a finite number')
      if (type.type === 'f32' && Math.abs(value) > F32_MAX) return issue('must fit a float32')
      if ((type.type === 'int' || type.type === 'uint') && !Number.isSafeInteger(value))
        return issue('must be a safe integer')
      const bounds = type as { minimum?: number; maximum?: number }
      if (bounds.minimum !== undefined && value < bounds.minimum)
        return issue(`must be at least ${bounds.minimum}`)
      if (type.type === 'uint' && value < 0) return issue('must not be negative')
      if (bounds.maximum !== undefined && value > bounds.maximum)
        return issue(`must be at most ${bounds.maximum}`)
      if ((type.type === 'f64' || type.type === 'f32') && type.exclusiveMinimum !== undefined) {
        if (value <= type.exclusiveMinimum) return issue(`must be more than ${type.exclusiveMinimum}`)
      }
      if ((type.type === 'f64' || type.type === 'f32') && type.exclusiveMaximum !== undefined) {
        if (value >= type.exclusiveMaximum) return issue(`must be less than ${type.exclusiveMaximum}`)
      }
      return value
    }
    case 'bigint':
      if (typeof value !== 'bigint') return issue('must be a bigint')
      if (value < -(2n ** 63n) || value >= 2n ** 63n) return issue('must fit in 64 bits')
      return value
    case 'boolean':
      return typeof value === 'boolean' ? value : issue('must be a boolean')
    case 'date':
      return value instanceof Date && !Number.isNaN(value.getTime()) ? value : issue('must be a valid Date')
    case 'enum':
    case 'literal':
      if (!(type.values as unknown[]).includes(value))
        return issue(`must be one of ${type.values.map((v) => JSON.stringify(v)).join(', ')}`)
      return value
    case 'optional':
      return value === undefined ? undefined : check(type.of, value, path, issues)
    case 'nullable':
      return value === null ? null : check(type.of, value, path, issues)
    case 'object': {
      if (!isRecord(value)) return issue('must be an object')
      return checkFields(type.fields, value, path, issues, {})
    }
    case 'union': {
      if (!isRecord(value)) return issue('must be an object')
      const tag = value[type.discriminator]
      const variant = type.variants.find((v) => v.value === tag)
      if (!variant) {
        const values = type.variants.map((v) => JSON.stringify(v.value)).join(', ')
        issues.push({
          path: `${path}.${type.discriminator}`,
          message: `must be one of ${values}, got ${show(tag)}`,
        })
        return undefined
      }
      const of = variant.of as WireType & { type: 'object' }
      return checkFields(of.fields, value, path, issues, { [type.discriminator]: tag })
    }
    case 'array': {
      if (!Array.isArray(value)) return issue('must be an array')
      if (
        (type.minItems !== undefined && value.length < type.minItems) ||
        (type.maxItems !== undefined && value.length > type.maxItems)
      )
        return issue(`must have ${type.minItems ?? 0} to ${type.maxItems ?? 'any'} items`)
      return value.map((item, i) => check(type.of, item, `${path}.${i}`, issues))
    }
    case 'record': {
      if (!isRecord(value)) return issue('must be a record')
      const out: Fields = {}
      for (const [key, item] of Object.entries(value)) {
        check(type.key, key, `${path}.${key}`, issues)
        set(out, key, check(type.of, item, `${path}.${key}`, issues))
      }
      return out
    }
  }
}

function checkFields(
  fields: ReadonlyArray<{ name: string; of: WireType }>,
  value: Fields,
  path: string,
  issues: Issue[],
  out: Fields,
): Fields {
  for (const field of fields) {
    const item = check(field.of, value[field.name], `${path}.${field.name}`, issues)
    if (item !== undefined) set(out, field.name, item)
  }
  return out
}

function isRecord(value: unknown): value is Fields {
  return typeof value === 'object' && value !== null && !Array.isArray(value)
}

/** A plain property, `__proto__` included (kept as a key, not a prototype). */
function set(o: Fields, name: string, value: unknown): void {
  Object.defineProperty(o, name, { value, enumerable: true, writable: true, configurable: true })
}
