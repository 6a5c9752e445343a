/**
 * Arrays of `a` against `b`: length, `uniqueItems`, then each position (`prefixItems` for tuples,
 * `items` for the rest). Draft 7's array form of `items` with `additionalItems` reads the same way.
 */
import { type Ctx, type Failure, failure, notProvable } from './context.js'
import { has, type SchemaObject } from './json.js'
import { numbersOf, type TypePiece } from './pieces.js'
import { limitIn } from './scalars.js'

/** The schemas of the first positions. */
function prefixOf(node: SchemaObject): unknown[] {
  if (Array.isArray(node.prefixItems)) return node.prefixItems
  return Array.isArray(node.items) ? node.items : []
}

/** The schema of every later position (undefined: any value). */
function restOf(node: SchemaObject): unknown {
  return Array.isArray(node.items) ? node.additionalItems : node.items
}

/** The schema of position `i` in one node (undefined: any value). */
function at(node: SchemaObject, i: number): unknown {
  const prefix = prefixOf(node)
  return i < prefix.length ? prefix[i] : restOf(node)
}

/** The most items a node allows: `maxItems`, or a closed tuple's length. */
function ceilingOf(node: SchemaObject): number {
  const max = typeof node.maxItems === 'number' ? node.maxItems : Number.POSITIVE_INFINITY
  return restOf(node) === false ? Math.min(max, prefixOf(node).length) : max
}

/** An array piece of `a` against `b`'s array keywords. */
export function arrayIn(piece: TypePiece, b: SchemaObject, ctx: Ctx, path: string[]): Failure | undefined {
  const conj = piece.conj
  for (const keyword of ['prefixItems', 'items']) {
    if (has(b, keyword) && typeof b[keyword] !== 'boolean' && typeof b[keyword] !== 'object')
      return failure([...path, keyword], notProvable(keyword))
  }
  const aMax = Math.min(...conj.map(ceilingOf))
  const aMin = Math.max(0, ...numbersOf(conj, 'minItems'))
  if (aMin > aMax) return undefined // no array fits: nothing to prove
  // `b`'s closed tuple limits its length like maxItems does; say it as maxItems.
  const bCeiling = ceilingOf(b)
  const bounded = Number.isFinite(bCeiling) ? { ...b, maxItems: bCeiling } : b
  const length = limitIn(conj, bounded, 'minItems', 'maxItems', ctx, path, 0, aMax)
  if (length) return length
  if (b.uniqueItems === true && aMax > 1 && !conj.some((node) => node.uniqueItems === true)) {
    return failure([...path, 'uniqueItems'], ctx.changed('uniqueItems', undefined, true))
  }
  const bPrefix = prefixOf(b)
  const positions = Math.max(bPrefix.length, ...conj.map((node) => prefixOf(node).length))
  for (let i = 0; i < positions && i < aMax; i++) {
    const wanted = at(b, i)
    if (wanted === undefined) continue
    const where = i < bPrefix.length ? [...path, 'prefixItems', String(i)] : [...path, 'items']
    const found = ctx.sub(ctx.all(definedAt(conj, i)), wanted, where)
    if (found) return found
  }
  const rest = restOf(b)
  if (aMax > positions && rest !== undefined && rest !== false) {
    const found = ctx.sub(ctx.all(conj.map(restOf).filter((s) => s !== undefined)), rest, [...path, 'items'])
    if (found) return found
  }
  return undefined
}

function definedAt(conj: readonly SchemaObject[], i: number): unknown[] {
  return conj.map((node) => at(node, i)).filter((s) => s !== undefined)
}
