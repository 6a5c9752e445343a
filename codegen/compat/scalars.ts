/**
 * Numbers and strings of `a` against the keywords of `b`: bounds, `multipleOf`, lengths, `format`
 * and `pattern`. Every constraint of `a`'s branch holds, so the tightest one counts.
 */
import { type Ctx, type Failure, failure, notProvable } from './context.js'
import { has, type SchemaObject } from './json.js'
import { numbersOf, stringsOf, type TypePiece } from './pieces.js'
import { isMultiple } from './validate.js'

/** A lower or upper bound: its value, whether it excludes the value, and the keyword that said it. */
interface Bound {
  value: number
  exclusive: boolean
  keyword: string
  stated: number
}

type Side = 'lower' | 'upper'

const KEYWORDS: Record<Side, [inclusive: string, exclusive: string]> = {
  lower: ['minimum', 'exclusiveMinimum'],
  upper: ['maximum', 'exclusiveMaximum'],
}

/** The tightest bound a set of nodes states on one side. */
function bound(nodes: readonly SchemaObject[], side: Side): Bound | undefined {
  let best: Bound | undefined
  for (const node of nodes) {
    for (const keyword of KEYWORDS[side]) {
      const value = node[keyword]
      if (typeof value !== 'number') continue
      const candidate = { value, exclusive: keyword.startsWith('exclusive'), keyword, stated: value }
      if (!best || tighter(candidate, best, side)) best = candidate
    }
  }
  return best
}

function tighter(x: Bound, y: Bound, side: Side): boolean {
  if (x.value !== y.value) return side === 'lower' ? x.value > y.value : x.value < y.value
  return x.exclusive && !y.exclusive
}

/** An integer bound as the inclusive integer it means (`> 0` is `>= 1`), so it compares exactly. */
function wholeBound(b: Bound | undefined, side: Side): Bound | undefined {
  if (!b) return undefined
  const value =
    side === 'lower'
      ? b.exclusive
        ? Math.floor(b.value) + 1
        : Math.ceil(b.value)
      : b.exclusive
        ? Math.ceil(b.value) - 1
        : Math.floor(b.value)
  return { ...b, value, exclusive: false }
}

/** Whether every value within `a`'s bound is within `b`'s. */
function within(a: Bound | undefined, b: Bound, side: Side): boolean {
  if (!a) return false
  if (a.value !== b.value) return side === 'lower' ? a.value > b.value : a.value < b.value
  return a.exclusive || !b.exclusive
}

function boundReason(ctx: Ctx, side: Side, a: Bound | undefined, b: Bound): string {
  if (!a || a.keyword === b.keyword) return ctx.changed(b.keyword, a?.stated, b.stated)
  const op = (x: Bound) => `${side === 'lower' ? '>' : '<'}${x.exclusive ? '' : '='} ${x.stated}`
  return ctx.say(
    `${side} bound went from ${op(a)} to ${op(b)}`,
    `${side} bound went from ${op(b)} to ${op(a)}`,
  )
}

/** A number or integer piece of `a` against `b`'s numeric keywords. */
export function numberIn(piece: TypePiece, b: SchemaObject, ctx: Ctx, path: string[]): Failure | undefined {
  for (const keyword of [...KEYWORDS.lower, ...KEYWORDS.upper, 'multipleOf']) {
    if (has(b, keyword) && typeof b[keyword] !== 'number')
      return failure([...path, keyword], notProvable(keyword))
  }
  const whole = piece.type === 'integer'
  const low = bound(piece.conj, 'lower')
  const high = bound(piece.conj, 'upper')
  const aLow = whole ? wholeBound(low, 'lower') : low
  const aHigh = whole ? wholeBound(high, 'upper') : high
  if (
    aLow &&
    aHigh &&
    (aLow.value > aHigh.value || (aLow.value === aHigh.value && (aLow.exclusive || aHigh.exclusive)))
  )
    return undefined // no number is in range: nothing to prove
  for (const side of ['lower', 'upper'] as const) {
    const bBound = bound([b], side)
    const aBound = side === 'lower' ? aLow : aHigh
    if (bBound && !within(aBound, bBound, side)) {
      const shown = side === 'lower' ? low : high
      return failure([...path, bBound.keyword], boundReason(ctx, side, shown, bBound))
    }
  }
  const step = b.multipleOf
  if (typeof step === 'number') {
    const steps = numbersOf(piece.conj, 'multipleOf')
    if (!(whole && isMultiple(1, step)) && !steps.some((s) => isMultiple(s, step)))
      return failure([...path, 'multipleOf'], ctx.changed('multipleOf', steps[0], step))
  }
  return undefined
}

/** A string piece of `a` against `b`'s lengths, `format` and `pattern`. */
export function stringIn(piece: TypePiece, b: SchemaObject, ctx: Ctx, path: string[]): Failure | undefined {
  const lengths = limitIn(piece.conj, b, 'minLength', 'maxLength', ctx, path)
  if (lengths) return lengths
  // Format first: when both changed, "format "email" was added" says more than the regex does.
  for (const keyword of ['format', 'pattern']) {
    if (!has(b, keyword)) continue
    const wanted = b[keyword]
    if (typeof wanted !== 'string') return failure([...path, keyword], notProvable(keyword))
    const stated = stringsOf(piece.conj, keyword)
    if (stated.includes(wanted)) continue
    // zod checks a format that comes with a pattern by that very regex: the same pattern in `a` is the same check.
    if (
      keyword === 'format' &&
      typeof b.pattern === 'string' &&
      stringsOf(piece.conj, 'pattern').includes(b.pattern)
    )
      continue
    return failure([...path, keyword], ctx.changed(keyword, stated[0], wanted))
  }
  return undefined
}

/**
 * A count of `a` (length, items, properties) against `b`'s lower and upper limit. `floor` and
 * `ceiling` are what `a` guarantees beyond its own keywords (a closed tuple's length).
 */
export function limitIn(
  conj: readonly SchemaObject[],
  b: SchemaObject,
  minKeyword: string,
  maxKeyword: string,
  ctx: Ctx,
  path: string[],
  floor = 0,
  ceiling = Number.POSITIVE_INFINITY,
): Failure | undefined {
  for (const keyword of [minKeyword, maxKeyword]) {
    if (has(b, keyword) && typeof b[keyword] !== 'number')
      return failure([...path, keyword], notProvable(keyword))
  }
  const mins = numbersOf(conj, minKeyword)
  const maxes = numbersOf(conj, maxKeyword)
  const aMin = Math.max(floor, ...mins)
  const aMax = Math.min(ceiling, ...maxes)
  if (aMin > aMax) return undefined // nothing fits: nothing to prove
  const bMin = b[minKeyword]
  if (typeof bMin === 'number' && aMin < bMin) {
    return failure([...path, minKeyword], ctx.changed(minKeyword, aMin > 0 ? aMin : undefined, bMin))
  }
  const bMax = b[maxKeyword]
  if (typeof bMax === 'number' && aMax > bMax) {
    return failure(
      [...path, maxKeyword],
      ctx.changed(maxKeyword, Number.isFinite(aMax) ? aMax : undefined, bMax),
    )
  }
  return undefined
}
