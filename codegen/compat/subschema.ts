/**
 * The proof of `a ⊆ b`: `a` is cut into pieces (pieces.ts); each piece must be accepted by `b`,
 * whose `$ref`, `allOf`, `anyOf` and `oneOf` are followed here and whose own keywords are checked
 * by type (scalars.ts, arrays.ts, objects.ts). A keyword of `b` this file does not understand must
 * appear, identical, in `a`; anything else is "not provable", never "fine".
 */
import { arrayIn } from './arrays.js'
import { Ctx, type Failure, failure, notProvable, type SubschemaOptions } from './context.js'
import { disjoint, overlaps, possibleTypes } from './disjoint.js'
import {
  ANNOTATIONS,
  declaredTypes,
  deepEqual,
  has,
  isObject,
  type JsonType,
  listedValues,
  type SchemaObject,
  show,
  showList,
  typeIn,
  typeOfValue,
} from './json.js'
import { objectIn } from './objects.js'
import { acceptsAll, branches, type Piece, pieces, type TypePiece, type ValuesPiece } from './pieces.js'
import { resolveRef } from './refs.js'
import { numberIn, stringIn } from './scalars.js'
import { validate } from './validate.js'

/** Keywords of `b` this proof understands; any other must be identical in `a`. */
const UNDERSTOOD = new Set([
  ...ANNOTATIONS,
  '$ref',
  'type',
  'const',
  'enum',
  'allOf',
  'anyOf',
  'oneOf',
  'not',
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
  'required',
  'additionalProperties',
  'propertyNames',
  'minProperties',
  'maxProperties',
])

const TOO_COMPLEX = 'cannot prove compatible: the schemas are too complex to compare'

/** Proves that every value valid against `a` is valid against `b`, or says where it cannot. */
export function prove(a: unknown, b: unknown, options: SubschemaOptions): Failure | undefined {
  const ctx = new Ctx(a, b, options, sub)
  const found = sub(a, b, ctx, [])
  // Out of steps, the failure found may be a branch that was not the one to follow: say so instead.
  return found && ctx.exhausted ? failure([], TOO_COMPLEX) : found
}

function sub(a: unknown, b: unknown, ctx: Ctx, path: readonly string[]): Failure | undefined {
  if (ctx.spend()) return failure(path, TOO_COMPLEX)
  if (acceptsAll(b)) return undefined
  return ctx.once(a, b, path, () => {
    if (ctx.same(a, b)) return undefined
    const list = branches(a, ctx)
    if (!list) return failure(path, TOO_COMPLEX)
    const union = unionKeyword(a, list.length)
    for (const [i, conj] of list.entries()) {
      const at = union ? [...path, union, String(i)] : [...path]
      for (const piece of pieces(conj, ctx)) {
        const found = pieceIn(piece, b, ctx, at, new Set())
        if (found) return found
      }
    }
    return undefined
  })
}

/** `anyOf` / `oneOf` when `a` is plainly that union (its branches are `a`'s branches), for paths. */
function unionKeyword(a: unknown, count: number): string | undefined {
  if (!isObject(a) || has(a, 'allOf') || has(a, '$ref')) return undefined
  for (const keyword of ['anyOf', 'oneOf']) {
    const list = a[keyword]
    if (Array.isArray(list) && list.length === count && count > 1) return keyword
  }
  return undefined
}

/** One piece of `a` against `b`; `refs` are `b`'s refs followed since the last value step (loops). */
function pieceIn(
  piece: Piece,
  b: unknown,
  ctx: Ctx,
  path: string[],
  refs: ReadonlySet<object>,
): Failure | undefined {
  if (b === true) return undefined
  if (piece.kind === 'values') return valuesIn(piece, b, ctx, path)
  if (b === false) return failure(path, typeReason(piece.type, new Set(), ctx))
  if (!isObject(b)) return failure(path, 'cannot prove compatible: not a schema')
  if (has(b, '$ref')) {
    const target = resolveRef(ctx.rootB, b.$ref)
    if (target === undefined || (isObject(target) && refs.has(target)))
      return failure(
        [...path, '$ref'],
        `cannot prove compatible: reference ${show(b.$ref)} cannot be followed`,
      )
    const found = pieceIn(piece, target, ctx, path, isObject(target) ? new Set(refs).add(target) : refs)
    if (found) return found
  }
  for (const member of Array.isArray(b.allOf) ? b.allOf : []) {
    const found = pieceIn(piece, member, ctx, path, refs)
    if (found) return found
  }
  for (const keyword of ['anyOf', 'oneOf'] as const) {
    const list = b[keyword]
    if (!Array.isArray(list)) continue
    const found = unionIn(piece, list, keyword === 'oneOf', ctx, path, refs)
    if (found) return found
  }
  return localIn(piece, b, ctx, path)
}

/** Listed values of `a`, each validated against `b`. */
function valuesIn(piece: ValuesPiece, b: unknown, ctx: Ctx, path: string[]): Failure | undefined {
  const assume = (keyword: string, value: unknown) =>
    piece.conj.some((node) => has(node, keyword) && deepEqual(node[keyword], value))
  for (const value of piece.values) {
    const verdict = validate(b, value, ctx.rootB, assume)
    if (verdict === true) continue
    if (verdict !== false) return failure([...path, verdict.unknown], notProvable(verdict.unknown))
    if (piece.type) {
      const accepted = possibleTypes(b, ctx.rootB)
      if (!overlaps(accepted, piece.type))
        return failure([...path, 'type'], typeReason(piece.type, accepted, ctx))
    }
    const node = isObject(b) ? b : {}
    const types = declaredTypes(node)
    const keyword = has(node, 'const')
      ? 'const'
      : has(node, 'enum')
        ? 'enum'
        : types && !typeIn(types, typeOfValue(value))
          ? 'type'
          : undefined
    return failure(
      keyword ? [...path, keyword] : path,
      ctx.say(`value ${show(value)} no longer accepted`, `value ${show(value)} is now allowed`),
    )
  }
  return undefined
}

/** A piece against a union of `b`: some branch accepts it (and, for oneOf, no other can). */
function unionIn(
  piece: TypePiece,
  list: unknown[],
  exclusive: boolean,
  ctx: Ctx,
  path: string[],
  refs: ReadonlySet<object>,
): Failure | undefined {
  const failures: Failure[] = []
  let foreign = false
  for (const [i, member] of list.entries()) {
    const found = pieceIn(piece, member, ctx, path, refs)
    if (found) {
      // A branch the piece cannot match at all (another type, another discriminator) does not explain the failure.
      if (!disjoint(piece, member, ctx)) failures.push(found)
      else if (overlaps(possibleTypes(member, ctx.rootB), piece.type)) foreign = true
      continue
    }
    if (!exclusive || list.every((other, j) => j === i || disjoint(piece, other, ctx))) return undefined
    return failure(
      [...path, 'oneOf'],
      'cannot prove compatible: a value may match more than one branch of `oneOf`',
    )
  }
  if (failures.length === 0 && foreign) {
    return failure(path, ctx.say('this union branch is no longer accepted', 'this union branch is new'))
  }
  if (failures.length === 0) {
    const types = new Set<JsonType>()
    for (const member of list) for (const t of possibleTypes(member, ctx.rootB)) types.add(t)
    return failure([...path, 'type'], typeReason(piece.type, types, ctx))
  }
  // The branch that got furthest is the one the change was made in (a discriminated union's own branch).
  return failures.reduce((best, f) => (f.path.length > best.path.length ? f : best))
}

/** A piece against `b`'s own keywords. */
function localIn(piece: TypePiece, b: SchemaObject, ctx: Ctx, path: string[]): Failure | undefined {
  const t = piece.type
  if (has(b, 'type')) {
    const types = declaredTypes(b)
    if (!types) return failure([...path, 'type'], notProvable('type'))
    if (!typeIn(types, t)) return failure([...path, 'type'], typeReason(t, types, ctx))
  }
  if (has(b, 'not')) {
    const found = notIn(piece, b.not, ctx, path)
    if (found) return found
  }
  const listed = listedValues(b)
  if (listed) return listedIn(listed, has(b, 'const') ? 'const' : 'enum', ctx, path)
  const byType =
    t === 'number' || t === 'integer'
      ? numberIn(piece, b, ctx, path)
      : t === 'string'
        ? stringIn(piece, b, ctx, path)
        : t === 'array'
          ? arrayIn(piece, b, ctx, path)
          : t === 'object'
            ? objectIn(piece, b, ctx, path)
            : undefined
  if (byType) return byType
  for (const [keyword, value] of Object.entries(b)) {
    if (UNDERSTOOD.has(keyword)) continue
    if (!piece.conj.some((node) => has(node, keyword) && deepEqual(node[keyword], value)))
      return failure([...path, keyword], notProvable(keyword))
  }
  return undefined
}

/** `not` in `b`: `{ not: {} }` accepts nothing; otherwise the piece must be kept out by type or by the same `not`. */
function notIn(piece: TypePiece, not: unknown, ctx: Ctx, path: string[]): Failure | undefined {
  if (acceptsAll(not)) return failure([...path, 'not'], typeReason(piece.type, new Set(), ctx))
  if (!overlaps(possibleTypes(not, ctx.rootB), piece.type)) return undefined
  if (piece.conj.some((node) => has(node, 'not') && ctx.same(node.not, not))) return undefined
  return failure([...path, 'not'], notProvable('not'))
}

/** `const` / `enum` in `b` against every value of a type (`null` and booleans come as values, not here). */
function listedIn(listed: unknown[], keyword: string, ctx: Ctx, path: string[]): Failure {
  return failure(
    [...path, keyword],
    ctx.say(
      `values are now restricted to ${showList(listed)}`,
      `values are no longer restricted to ${showList(listed)}`,
    ),
  )
}

/** "type `null` no longer accepted", "type went from integer to number". */
function typeReason(t: JsonType, accepted: ReadonlySet<JsonType>, ctx: Ctx): string {
  if (t === 'number' && accepted.has('integer'))
    return ctx.say('type went from number to integer', 'type went from integer to number')
  return ctx.say(`type \`${t}\` no longer accepted`, `type \`${t}\` is now allowed`)
}
