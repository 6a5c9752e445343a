import fc from 'fast-check'
import type { Delta } from '../../runtime/state/index.js'

/**
 * fast-check arbitraries for values that zod accepts and the state layout can carry: every
 * generator stays within the bounds of the zod type it stands for.
 */

/** One code point: mostly ASCII, CJK (3 UTF-8 bytes), emoji (2 UTF-16 units, 4 bytes) and awkward ones. */
export const char: fc.Arbitrary<string> = fc.oneof(
  { weight: 4, arbitrary: fc.string({ unit: 'binary-ascii', minLength: 1, maxLength: 1 }) },
  { weight: 2, arbitrary: fc.integer({ min: 0x4e00, max: 0x9fff }).map((c) => String.fromCodePoint(c)) },
  { weight: 2, arbitrary: fc.integer({ min: 0x1f300, max: 0x1faff }).map((c) => String.fromCodePoint(c)) },
  {
    weight: 1,
    // NUL, a byte order mark (a UTF-8 decoder may drop it), the edges of each UTF-8 length.
    arbitrary: fc.constantFrom(
      '\u0000',
      '\ufeff',
      '\u007f',
      '\u0080',
      '\u07ff',
      '\u0800',
      '\uffff',
      '\u{10ffff}',
    ),
  },
  { weight: 1, arbitrary: fc.string({ unit: 'binary', minLength: 1, maxLength: 1 }) },
)

/**
 * A well-formed string of `min` to `max` code points (what zod's `.min()` and `.max()` count), now
 * and then as short or as long as allowed, in 1-, 3- and 4-byte characters.
 */
export function text(min = 0, max = 24): fc.Arbitrary<string> {
  const random = fc.array(char, { minLength: min, maxLength: max }).map((chars) => chars.join(''))
  const edges = [
    'a'.repeat(min),
    'x'.repeat(max),
    '界'.repeat(max),
    '😀'.repeat(max),
    `\ufeff${'b'.repeat(Math.max(min, 1) - 1)}`,
  ].filter((s) => [...s].length >= min && [...s].length <= max)
  return fc.oneof({ weight: 6, arbitrary: random }, { weight: 1, arbitrary: fc.constantFrom(...edges) })
}

/** `min` to `max` items, now and then exactly `max`. */
export function list<T>(item: fc.Arbitrary<T>, min: number, max: number): fc.Arbitrary<T[]> {
  return fc.oneof(
    { weight: 4, arbitrary: fc.array(item, { minLength: min, maxLength: max }) },
    { weight: 1, arbitrary: fc.array(item, { minLength: max, maxLength: max }) },
  )
}

/** `z.number()`: any finite double, -0 and the extremes included. */
export const f64 = fc.double({ noNaN: true, noDefaultInfinity: true })
/** `z.number().positive()`. */
export const positiveF64 = fc.double({ min: Number.MIN_VALUE, noNaN: true, noDefaultInfinity: true })
/** `z.float32()`: doubles a float32 holds exactly, so they come back equal. */
export const f32 = fc.float({ noNaN: true, noDefaultInfinity: true })
/** `z.int()`: every safe integer. */
export const int = fc.oneof(
  fc.maxSafeInteger(),
  fc.integer(),
  fc.constantFrom(
    Number.MAX_SAFE_INTEGER,
    Number.MIN_SAFE_INTEGER,
    2 ** 52,
    -(2 ** 52),
    2 ** 31,
    -(2 ** 31) - 1,
  ),
)
/** `z.number().int().nonnegative()`. */
export const uint = fc.oneof(fc.maxSafeNat(), fc.nat(), fc.constantFrom(Number.MAX_SAFE_INTEGER, 2 ** 32))
/** `z.bigint()` within the 64 bits the layout gives it. */
export const i64 = fc.bigInt({ min: -(2n ** 63n), max: 2n ** 63n - 1n })
/** `z.date()`: every valid date, ±8.64e15 ms included. */
export const date = fc.oneof(
  fc.date({ noInvalidDate: true }),
  fc.constantFrom(new Date(8.64e15), new Date(-8.64e15), new Date(0)),
)

/** Every delta op over `key`, `leaf` and `patch`. */
export function delta<K, L, P>(
  key: fc.Arbitrary<K>,
  leaf: fc.Arbitrary<L>,
  patch: fc.Arbitrary<P>,
): fc.Arbitrary<Delta<K, L, P>> {
  const plain = { noNullPrototype: true }
  return fc.oneof(
    fc.record({ op: fc.constant('upsert' as const), key, leaf }, plain),
    fc.record({ op: fc.constant('patch' as const), key, fields: patch }, plain),
    fc.record({ op: fc.constant('delete' as const), key }, plain),
    fc.constant({ op: 'clear' as const }),
  )
}
