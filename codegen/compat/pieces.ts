/**
 * The `a` side of `a ⊆ b`, cut into pieces that are each checked against `b` alone: unions into
 * branches, each branch into one piece per JSON type, or one piece of listed values. `a ⊆ b` holds
 * when every piece does. On this side dropping a constraint only makes `a` larger, so whatever is
 * not understood (a remote `$ref`, a `not` other than `{}`) is dropped, which keeps the proof sound.
 */
import type { Ctx } from './context.js'
import {
  ALL_TYPES,
  ANNOTATIONS,
  declaredTypes,
  deepEqual,
  has,
  intersectTypes,
  isObject,
  type JsonType,
  listedValues,
  type SchemaObject,
} from './json.js'
import { resolveRef } from './refs.js'
import { validate } from './validate.js'

/**
 * One branch of `a`: schema nodes that all hold (the node, its `$ref` target, its `allOf` members,
 * one member of each `anyOf`). Readers look at their own keywords only; the applicators are expanded.
 */
export type Conjunction = SchemaObject[]

/** The values of one type in one branch of `a`. */
export interface TypePiece {
  kind: 'type'
  type: JsonType
  conj: Conjunction
}

/**
 * A branch of `a` that lists its values (`const`, `enum`), or a type with few values (`null`,
 * `boolean`, with `type` set): exactly those, checked one by one.
 */
export interface ValuesPiece {
  kind: 'values'
  values: unknown[]
  conj: Conjunction
  type?: JsonType
}

export type Piece = TypePiece | ValuesPiece

/** Unions multiply out; past this many branches the run gives up (not provable). */
const MAX_BRANCHES = 64

/** The branches of `a` (an empty list when `a` accepts nothing), or undefined when there are too many. */
export function branches(node: unknown, ctx: Ctx): Conjunction[] | undefined {
  return expand(node, ctx, new Set())
}

function expand(node: unknown, ctx: Ctx, seen: ReadonlySet<object>): Conjunction[] | undefined {
  if (node === false) return []
  if (!isObject(node)) return [[]] // `true`, or not a schema: no constraint
  if (acceptsAll(node.not)) return []
  let out: Conjunction[] | undefined = [[node]]
  if (has(node, '$ref')) {
    const target = resolveRef(ctx.rootA, node.$ref)
    if (target === false) return []
    // A ref that loops back without a property or item in between constrains nothing: drop it.
    if (isObject(target) && !seen.has(target)) {
      out = product(out, expand(target, ctx, new Set(seen).add(target)))
    }
  }
  for (const member of Array.isArray(node.allOf) ? node.allOf : []) {
    out = product(out, expand(member, ctx, seen))
  }
  for (const keyword of ['anyOf', 'oneOf']) {
    const list = node[keyword]
    if (!Array.isArray(list)) continue
    // oneOf accepts a subset of what anyOf does: reading it as anyOf is sound on this side.
    let union: Conjunction[] | undefined = []
    for (const member of list) {
      const expanded = expand(member, ctx, seen)
      union = expanded && union ? [...union, ...expanded] : undefined
    }
    out = product(out, union)
  }
  return out
}

function product(x: Conjunction[] | undefined, y: Conjunction[] | undefined): Conjunction[] | undefined {
  if (!x || !y || x.length * y.length > MAX_BRANCHES) return undefined
  return x.flatMap((left) => y.map((right) => [...left, ...right]))
}

/** `{}` or `true`: accepts every value (so `not` of it accepts none). */
export function acceptsAll(node: unknown): boolean {
  return node === true || (isObject(node) && Object.keys(node).every((k) => ANNOTATIONS.has(k)))
}

/** The pieces of one branch of `a`. */
export function pieces(conj: Conjunction, ctx: Ctx): Piece[] {
  let values: unknown[] | undefined
  for (const node of conj) {
    const listed = listedValues(node)
    if (listed) values = values ? values.filter((v) => listed.some((w) => deepEqual(v, w))) : listed
  }
  if (values) {
    // A listed value the branch refuses for sure is not one of its values (`{ type: 'string', enum: ['a', 1] }`).
    const kept = values.filter(
      (v, i) =>
        values?.findIndex((w) => deepEqual(v, w)) === i &&
        conj.every((node) => validate(node, v, ctx.rootA) !== false),
    )
    return kept.length === 0 ? [] : [{ kind: 'values', values: kept, conj }]
  }
  let types: Set<JsonType> | undefined
  for (const node of conj) {
    const declared = declaredTypes(node)
    if (declared) types = types ? intersectTypes(types, declared) : declared
  }
  const list = [...(types ?? ALL_TYPES)].filter((t) => !(t === 'integer' && types?.has('number')))
  return list.flatMap((type): Piece[] => {
    const few = type === 'null' ? [null] : type === 'boolean' ? [true, false] : undefined
    if (!few) return [{ kind: 'type', type, conj }]
    const kept = few.filter((v) => conj.every((node) => validate(node, v, ctx.rootA) !== false))
    return kept.length === 0 ? [] : [{ kind: 'values', values: kept, conj, type }]
  })
}

/** The numbers a branch states for `keyword` (all hold, so the tightest one counts). */
export function numbersOf(conj: readonly SchemaObject[], keyword: string): number[] {
  return conj.map((node) => node[keyword]).filter((v): v is number => typeof v === 'number')
}

/** The strings a branch states for `keyword` (`pattern`, `format`): all hold. */
export function stringsOf(conj: readonly SchemaObject[], keyword: string): string[] {
  return conj.map((node) => node[keyword]).filter((v): v is string => typeof v === 'string')
}

/** What a branch says of property `key`: `'absent'` when its objects cannot have it, else the schemas its value meets (none: any value). */
export function keySchemas(conj: Conjunction, key: string, ctx: Ctx): 'absent' | unknown[] {
  const out: unknown[] = []
  for (const node of conj) {
    if (has(node, 'propertyNames') && validate(node.propertyNames, key, ctx.rootA) === false) return 'absent'
    let schema: unknown
    if (isObject(node.properties) && Object.hasOwn(node.properties, key)) schema = node.properties[key]
    else if (has(node, 'patternProperties'))
      continue // a pattern may cover it: taking no constraint is sound
    else schema = node.additionalProperties
    if (schema === undefined) continue
    if (schema === false || (isObject(schema) && acceptsAll(schema.not))) return 'absent'
    out.push(schema)
  }
  return out
}

/** The only keys a branch's objects can have, when it limits them (a closed object, listed property names). */
export function finiteKeys(conj: Conjunction, ctx: Ctx): string[] | undefined {
  let keys: string[] | undefined
  for (const node of conj) {
    let list: unknown[] | undefined
    if (node.additionalProperties === false && !has(node, 'patternProperties')) {
      list = isObject(node.properties) ? Object.keys(node.properties) : []
    } else if (isObject(node.propertyNames)) {
      list = listedValues(node.propertyNames)
    }
    if (!list?.every((k) => typeof k === 'string')) continue
    const names = list as string[]
    keys = keys ? keys.filter((k) => names.includes(k)) : names
  }
  return keys?.filter((k) => keySchemas(conj, k, ctx) !== 'absent')
}
