/**
 * Objects of `a` against `b`: required fields, then each field `a`'s objects may carry (its schema
 * in `a` against the one `b` applies: a property, or `additionalProperties`), then the fields
 * neither names, then the property count.
 */
import { type Ctx, type Failure, failure, notProvable } from './context.js'
import { has, isObject, type SchemaObject } from './json.js'
import { acceptsAll, finiteKeys, keySchemas, numbersOf, type TypePiece } from './pieces.js'
import { validate } from './validate.js'

/** Property names are strings: the names `a` allows, before its own `propertyNames`. */
const ANY_NAME = { type: 'string' }

/** An object piece of `a` against `b`'s object keywords. */
export function objectIn(piece: TypePiece, b: SchemaObject, ctx: Ctx, path: string[]): Failure | undefined {
  const conj = piece.conj
  for (const keyword of ['properties', 'required']) {
    if (has(b, keyword) && !(keyword === 'required' ? Array.isArray(b[keyword]) : isObject(b[keyword])))
      return failure([...path, keyword], notProvable(keyword))
  }
  const bProps = isObject(b.properties) ? b.properties : {}
  const bRequired = (Array.isArray(b.required) ? b.required : []).filter(
    (k): k is string => typeof k === 'string',
  )
  const required = new Set(conj.flatMap((node) => (Array.isArray(node.required) ? node.required : [])))
  const declared = new Set(
    conj.flatMap((node) => (isObject(node.properties) ? Object.keys(node.properties) : [])),
  )
  // Fields first: a changed discriminator reads better as its value than as the fields around it.
  const finite = finiteKeys(conj, ctx)
  const named = [...new Set([...Object.keys(bProps), ...declared, ...bRequired, ...(finite ?? [])])]
  for (const key of finite ? named.filter((k) => finite.includes(k)) : named) {
    const found = fieldIn(piece, key, declared.has(key), b, bProps, ctx, path)
    if (found) return found
  }
  for (const key of bRequired) {
    if (required.has(key)) continue
    const gone = keySchemas(conj, key, ctx) === 'absent' || !declared.has(key)
    return failure(
      [...path, 'required'],
      ctx.say(
        `field \`${key}\` became required`,
        `field \`${key}\` ${gone ? 'was removed' : 'became optional'}`,
      ),
    )
  }
  if (!finite) {
    const found = othersIn(piece, b, ctx, path)
    if (found) return found
  }
  return countIn(piece, b, finite, required.size, ctx, path)
}

/** One field `a`'s objects may carry, against what `b` says of it. */
function fieldIn(
  piece: TypePiece,
  key: string,
  declared: boolean,
  b: SchemaObject,
  bProps: SchemaObject,
  ctx: Ctx,
  path: string[],
): Failure | undefined {
  const schemas = keySchemas(piece.conj, key, ctx)
  if (schemas === 'absent') return undefined
  const open = piece.conj.every((n) => !has(n, 'additionalProperties') && !has(n, 'patternProperties'))
  const inB = Object.hasOwn(bProps, key)
  if (!declared && open && inB && ctx.options.undeclaredUnsent) return undefined
  const where = [...path, 'properties', key]
  const refused = ctx.say(`field \`${key}\` is no longer accepted`, `field \`${key}\` was added`)
  if (has(b, 'propertyNames')) {
    const verdict = validate(b.propertyNames, key, ctx.rootB)
    if (verdict === false) return failure(where, refused)
    if (verdict !== true) return failure([...path, 'propertyNames'], notProvable('propertyNames'))
  }
  const wanted = inB ? bProps[key] : b.additionalProperties
  if (wanted === undefined) return undefined
  if (wanted === false) return !inB && ctx.options.undeclaredIgnored ? undefined : failure(where, refused)
  const found = ctx.sub(ctx.all(schemas), wanted, where)
  if (found && !declared && schemas.every(acceptsAll)) {
    return failure(
      where,
      ctx.say(
        `field \`${key}\` was undeclared (any value) and is now constrained`,
        `field \`${key}\` is no longer declared (any value is now allowed)`,
      ),
    )
  }
  return found
}

/** The fields neither `a` nor `b` names, when `a` does not limit its keys. */
function othersIn(piece: TypePiece, b: SchemaObject, ctx: Ctx, path: string[]): Failure | undefined {
  const conj = piece.conj
  const wanted = b.additionalProperties
  if (wanted === false && ctx.options.undeclaredIgnored) return undefined
  if (wanted === false) {
    return failure(
      [...path, 'additionalProperties'],
      ctx.say('undeclared fields are no longer accepted', 'undeclared fields are now allowed'),
    )
  }
  if (wanted !== undefined) {
    // A node with patternProperties may let other fields through under a pattern: take no constraint from it.
    const extras = conj.filter((n) => !has(n, 'patternProperties') && has(n, 'additionalProperties'))
    const found = ctx.sub(ctx.all(extras.map((n) => n.additionalProperties)), wanted, [
      ...path,
      'additionalProperties',
    ])
    if (found) return found
  }
  if (has(b, 'propertyNames')) {
    const names = [ANY_NAME, ...conj.filter((n) => has(n, 'propertyNames')).map((n) => n.propertyNames)]
    return ctx.sub(ctx.all(names), b.propertyNames, [...path, 'propertyNames'])
  }
  return undefined
}

/** `minProperties` and `maxProperties` of `b`: what `a` requires, and how many keys it can have. */
function countIn(
  piece: TypePiece,
  b: SchemaObject,
  finite: string[] | undefined,
  requiredCount: number,
  ctx: Ctx,
  path: string[],
): Failure | undefined {
  const min = b.minProperties
  if (has(b, 'minProperties')) {
    if (typeof min !== 'number') return failure([...path, 'minProperties'], notProvable('minProperties'))
    const mins = numbersOf(piece.conj, 'minProperties')
    if (requiredCount < min && !mins.some((m) => m >= min))
      return failure([...path, 'minProperties'], ctx.changed('minProperties', mins[0], min))
  }
  const max = b.maxProperties
  if (has(b, 'maxProperties')) {
    if (typeof max !== 'number') return failure([...path, 'maxProperties'], notProvable('maxProperties'))
    const maxes = numbersOf(piece.conj, 'maxProperties')
    if (!(finite && finite.length <= max) && !maxes.some((m) => m <= max))
      return failure([...path, 'maxProperties'], ctx.changed('maxProperties', maxes[0], max))
  }
  return undefined
}
