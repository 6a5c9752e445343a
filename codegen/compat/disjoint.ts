/**
 * What `oneOf` on the `b` side needs beyond "some branch accepts": that no other branch accepts
 * the same value. Proved only in the ways zod's `oneOf` are built (`z.discriminatedUnion`: a
 * required field with different literals; `z.xor`: different types); otherwise not provable.
 */
import type { Ctx } from './context.js'
import {
  ALL_TYPES,
  declaredTypes,
  has,
  intersectTypes,
  isObject,
  type JsonType,
  listedValues,
  typeIn,
  typeOfValue,
} from './json.js'
import { acceptsAll, keySchemas, type TypePiece } from './pieces.js'
import { resolveRef } from './refs.js'
import { validate } from './validate.js'

/** The types a schema may accept (a superset: only `type`, listed values and the applicators are read). */
export function possibleTypes(
  node: unknown,
  root: unknown,
  seen: ReadonlySet<object> = new Set(),
): Set<JsonType> {
  if (node === false) return new Set()
  if (!isObject(node)) return new Set(ALL_TYPES)
  if (acceptsAll(node.not)) return new Set()
  let types = new Set<JsonType>(declaredTypes(node) ?? ALL_TYPES)
  const listed = listedValues(node)
  if (listed) types = intersectTypes(types, new Set(listed.map(typeOfValue)))
  if (has(node, '$ref')) {
    const target = resolveRef(root, node.$ref)
    if (target === false) return new Set()
    if (isObject(target) && !seen.has(target)) {
      types = intersectTypes(types, possibleTypes(target, root, new Set(seen).add(target)))
    }
  }
  for (const member of Array.isArray(node.allOf) ? node.allOf : []) {
    types = intersectTypes(types, possibleTypes(member, root, seen))
  }
  for (const keyword of ['anyOf', 'oneOf']) {
    const list = node[keyword]
    if (!Array.isArray(list)) continue
    const union = new Set<JsonType>()
    for (const member of list) for (const t of possibleTypes(member, root, seen)) union.add(t)
    types = intersectTypes(types, union)
  }
  return types
}

/** Whether a type set and type `t` share a value (`number` and `integer` do). */
export function overlaps(types: ReadonlySet<JsonType>, t: JsonType): boolean {
  return typeIn(types, t) || (t === 'number' && types.has('integer'))
}

/** Whether no value of the piece is valid against `other` (a node of `b`), for sure. */
export function disjoint(piece: TypePiece, other: unknown, ctx: Ctx): boolean {
  if (!overlaps(possibleTypes(other, ctx.rootB), piece.type)) return true
  const node = deref(other, ctx.rootB)
  if (!isObject(node)) return false
  const listed = listedValues(node)
  if (listed?.every((v) => piece.conj.some((c) => validate(c, v, ctx.rootA) === false))) return true
  if (piece.type !== 'object' || !Array.isArray(node.required) || !isObject(node.properties)) return false
  const properties = node.properties
  // A field `other` requires, with a value `a` cannot give it (the discriminator of a discriminated union).
  return node.required.some((key) => {
    if (typeof key !== 'string') return false
    const mine = keySchemas(piece.conj, key, ctx)
    return (
      mine === 'absent' || (Object.hasOwn(properties, key) && schemasDisjoint(mine, properties[key], ctx))
    )
  })
}

/** Whether no value meets all of `mine` (on the `a` side) and `theirs` (on the `b` side), for sure. */
function schemasDisjoint(mine: unknown[], theirs: unknown, ctx: Ctx): boolean {
  let types = new Set<JsonType>(ALL_TYPES)
  for (const node of mine) types = intersectTypes(types, possibleTypes(node, ctx.rootA))
  if (intersectTypes(types, possibleTypes(theirs, ctx.rootB)).size === 0) return true
  const theirNode = deref(theirs, ctx.rootB)
  const theirValues = isObject(theirNode) ? listedValues(theirNode) : undefined
  if (theirValues?.every((v) => mine.some((node) => validate(node, v, ctx.rootA) === false))) return true
  return mine.some((node) => {
    const own = deref(node, ctx.rootA)
    const values = isObject(own) ? listedValues(own) : undefined
    return values?.every((v) => validate(theirs, v, ctx.rootB) === false) ?? false
  })
}

/** The node a chain of `$ref`s ends at (a few hops at most). */
function deref(node: unknown, root: unknown): unknown {
  let current = node
  for (let hops = 0; hops < 8 && isObject(current) && has(current, '$ref'); hops++) {
    const target = resolveRef(root, current.$ref)
    if (target === undefined) return current
    current = target
  }
  return current
}
