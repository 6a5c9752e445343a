/**
 * A small JSON Schema validator for the values a schema lists (`const`, `enum`): whether one value
 * is accepted. It answers "cannot tell" (naming the keyword) instead of guessing, so the check that
 * uses it stays sound.
 */
import { ANNOTATIONS, declaredTypes, deepEqual, has, isObject, typeIn, typeOfValue } from './json.js'
import { resolveRef } from './refs.js'

/** Accepted, refused, or cannot tell because of `keyword`. */
export type Verdict = true | false | { unknown: string }

/** Whether a keyword with this value holds of the value for sure (it is in the schema the value came from). */
export type Assume = (keyword: string, value: unknown) => boolean

/**
 * Whether `value` is valid against `node` (refs resolved in `root`). `assume` vouches for keywords
 * this validator cannot evaluate (`format` alone, unknown ones), at the value itself only.
 */
export function validate(node: unknown, value: unknown, root: unknown, assume?: Assume): Verdict {
  return check(node, value, root, assume, new Set())
}

/** Refused if any part refuses; else cannot tell if any part cannot; else accepted. */
export function every(verdicts: Iterable<Verdict>): Verdict {
  let unknown: Verdict | undefined
  for (const v of verdicts) {
    if (v === false) return false
    if (v !== true) unknown ??= v
  }
  return unknown ?? true
}

function check(
  node: unknown,
  value: unknown,
  root: unknown,
  assume: Assume | undefined,
  loop: Set<object>,
): Verdict {
  if (node === true) return true
  if (node === false) return false
  if (!isObject(node)) return { unknown: '(not a schema)' }
  const results: Verdict[] = []
  const same = (n: unknown) => check(n, value, root, assume, loop)
  // A child value starts a fresh loop guard and leaves `assume` behind: it vouches for the value itself.
  const child = (n: unknown, v: unknown) => check(n, v, root, undefined, new Set())
  for (const [keyword, arg] of Object.entries(node)) {
    if (ANNOTATIONS.has(keyword)) continue
    const verdict = keywordVerdict(keyword, arg, node, value, same, child, root, loop)
    if (verdict === undefined) results.push(assume?.(keyword, arg) ? true : { unknown: keyword })
    else results.push(verdict)
    if (verdict === false) return false
  }
  return every(results)
}

/** One keyword's verdict, or undefined when this validator does not know the keyword. */
function keywordVerdict(
  keyword: string,
  arg: unknown,
  node: Record<string, unknown>,
  value: unknown,
  same: (n: unknown) => Verdict,
  child: (n: unknown, v: unknown) => Verdict,
  root: unknown,
  loop: Set<object>,
): Verdict | undefined {
  switch (keyword) {
    case '$ref': {
      const target = resolveRef(root, arg)
      if (target === undefined || (isObject(target) && loop.has(target))) return { unknown: '$ref' }
      if (!isObject(target)) return same(target)
      loop.add(target)
      const verdict = same(target)
      loop.delete(target)
      return verdict
    }
    case 'type': {
      const types = declaredTypes(node)
      return types === undefined ? { unknown: 'type' } : typeIn(types, typeOfValue(value))
    }
    case 'const':
      return deepEqual(value, arg)
    case 'enum':
      return Array.isArray(arg) ? arg.some((v) => deepEqual(v, value)) : { unknown: 'enum' }
    case 'allOf':
      return Array.isArray(arg) ? every(arg.map(same)) : { unknown: keyword }
    case 'anyOf':
    case 'oneOf': {
      if (!Array.isArray(arg)) return { unknown: keyword }
      const verdicts = arg.map(same)
      const unknown = verdicts.find((v) => v !== true && v !== false)
      const passed = verdicts.filter((v) => v === true).length
      if (keyword === 'anyOf') return passed > 0 ? true : (unknown ?? false)
      return unknown ?? passed === 1
    }
    case 'not': {
      const inner = same(arg)
      return inner === true ? false : inner === false ? true : inner
    }
    default:
      if (typeof value === 'number') return numberVerdict(keyword, arg, value)
      if (typeof value === 'string') return stringVerdict(keyword, arg, node, value)
      if (Array.isArray(value)) return arrayVerdict(keyword, arg, node, value, child)
      if (isObject(value)) return objectVerdict(keyword, arg, node, value, child)
      return TYPED.has(keyword) ? true : undefined
  }
}

/** Keywords that only constrain values of one type: they accept values of other types. */
const TYPED = new Set([
  'minimum',
  'maximum',
  'exclusiveMinimum',
  'exclusiveMaximum',
  'multipleOf',
  'minLength',
  'maxLength',
  'pattern',
  'format',
  'items',
  'prefixItems',
  'additionalItems',
  'minItems',
  'maxItems',
  'uniqueItems',
  'properties',
  'patternProperties',
  'required',
  'additionalProperties',
  'propertyNames',
  'minProperties',
  'maxProperties',
])

function numberVerdict(keyword: string, arg: unknown, value: number): Verdict | undefined {
  const bound = typeof arg === 'number' ? arg : undefined
  switch (keyword) {
    case 'minimum':
      return bound === undefined ? { unknown: keyword } : value >= bound
    case 'maximum':
      return bound === undefined ? { unknown: keyword } : value <= bound
    case 'exclusiveMinimum':
      return bound === undefined ? { unknown: keyword } : value > bound
    case 'exclusiveMaximum':
      return bound === undefined ? { unknown: keyword } : value < bound
    case 'multipleOf':
      return bound === undefined ? { unknown: keyword } : isMultiple(value, bound)
    default:
      return TYPED.has(keyword) ? true : undefined
  }
}

/** Whether `x` is a whole multiple of `m`, allowing for binary fractions (0.3 is a multiple of 0.1). */
export function isMultiple(x: number, m: number): boolean {
  if (m <= 0) return false
  const q = x / m
  return Math.abs(q - Math.round(q)) < 1e-9
}

function stringVerdict(
  keyword: string,
  arg: unknown,
  node: Record<string, unknown>,
  value: string,
): Verdict | undefined {
  switch (keyword) {
    // zod measures strings in UTF-16 code units (`.length`), and zod is what validates at run time.
    case 'minLength':
      return typeof arg === 'number' ? value.length >= arg : { unknown: keyword }
    case 'maxLength':
      return typeof arg === 'number' ? value.length <= arg : { unknown: keyword }
    case 'pattern': {
      const regex = compile(arg)
      return regex ? regex.test(value) : { unknown: keyword }
    }
    case 'format':
      // zod's string formats are regex checks, emitted as `pattern` beside `format`: the pattern decides.
      return typeof node.pattern === 'string' ? true : undefined
    default:
      return TYPED.has(keyword) ? true : undefined
  }
}

/** A JSON Schema pattern as a RegExp (Unicode mode, as the spec says; plain mode if zod's source needs it). */
export function compile(pattern: unknown): RegExp | undefined {
  if (typeof pattern !== 'string') return undefined
  for (const flags of ['u', '']) {
    try {
      return new RegExp(pattern, flags)
    } catch {}
  }
  return undefined
}

function arrayVerdict(
  keyword: string,
  arg: unknown,
  node: Record<string, unknown>,
  value: unknown[],
  child: (n: unknown, v: unknown) => Verdict,
): Verdict | undefined {
  const prefix = Array.isArray(node.prefixItems)
    ? node.prefixItems
    : Array.isArray(node.items)
      ? node.items
      : []
  switch (keyword) {
    case 'minItems':
      return typeof arg === 'number' ? value.length >= arg : { unknown: keyword }
    case 'maxItems':
      return typeof arg === 'number' ? value.length <= arg : { unknown: keyword }
    case 'uniqueItems':
      return arg !== true || value.every((v, i) => value.findIndex((w) => deepEqual(v, w)) === i)
    case 'prefixItems':
      return Array.isArray(arg)
        ? every(value.slice(0, arg.length).map((v, i) => child(arg[i], v)))
        : { unknown: keyword }
    case 'items':
      if (Array.isArray(arg)) return every(value.slice(0, arg.length).map((v, i) => child(arg[i], v)))
      return every(value.slice(prefix.length).map((v) => child(arg, v)))
    case 'additionalItems':
      return Array.isArray(node.items) ? every(value.slice(prefix.length).map((v) => child(arg, v))) : true
    default:
      return TYPED.has(keyword) ? true : undefined
  }
}

function objectVerdict(
  keyword: string,
  arg: unknown,
  node: Record<string, unknown>,
  value: Record<string, unknown>,
  child: (n: unknown, v: unknown) => Verdict,
): Verdict | undefined {
  const keys = Object.keys(value)
  switch (keyword) {
    case 'required':
      return Array.isArray(arg)
        ? arg.every((k) => typeof k === 'string' && Object.hasOwn(value, k))
        : { unknown: keyword }
    case 'minProperties':
      return typeof arg === 'number' ? keys.length >= arg : { unknown: keyword }
    case 'maxProperties':
      return typeof arg === 'number' ? keys.length <= arg : { unknown: keyword }
    case 'properties':
      if (!isObject(arg)) return { unknown: keyword }
      return every(keys.filter((k) => Object.hasOwn(arg, k)).map((k) => child(arg[k], value[k])))
    case 'patternProperties': {
      if (!isObject(arg)) return { unknown: keyword }
      const verdicts: Verdict[] = []
      for (const [pattern, schema] of Object.entries(arg)) {
        const regex = compile(pattern)
        if (!regex) return { unknown: keyword }
        for (const k of keys) if (regex.test(k)) verdicts.push(child(schema, value[k]))
      }
      return every(verdicts)
    }
    case 'additionalProperties': {
      const patterns = isObject(node.patternProperties)
        ? Object.keys(node.patternProperties).map(compile)
        : []
      if (patterns.some((p) => p === undefined)) return { unknown: 'patternProperties' }
      const extra = keys.filter((k) => !has(node.properties, k) && !patterns.some((p) => p?.test(k)))
      return every(extra.map((k) => child(arg, value[k])))
    }
    case 'propertyNames':
      return every(keys.map((k) => child(arg, k)))
    default:
      return TYPED.has(keyword) ? true : undefined
  }
}
