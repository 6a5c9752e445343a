import fc from 'fast-check'
import type { Delta, Snapshot, StateLayout, WireType } from '../../runtime/state/index.js'
import { date, f32, f64, i64, text } from './arbitraries.js'

/**
 * fast-check arbitraries read off a state layout: values every codec of that layout can write
 * (within the layout's bounds; a value may still be past `maxKeyBytes` or `maxLeafBytes`). For
 * states that have no hand-written arbitraries, and to reach corners those do not.
 */

type ObjectType = WireType & { type: 'object' }
const plain = { noNullPrototype: true }

/** A value of `type`. */
export function arbitraryOf(type: WireType): fc.Arbitrary<unknown> {
  switch (type.type) {
    case 'string': {
      const min = type.minLength ?? 0
      return text(min, Math.max(min, Math.min(type.maxLength ?? 12, 12)))
    }
    case 'f64':
    case 'f32': {
      const base = type.type === 'f64' ? f64 : f32
      const edges = [type.minimum, type.maximum].filter(
        (v): v is number => v !== undefined && (type.type === 'f64' || Math.fround(v) === v),
      )
      const inRange = (x: number) =>
        (type.minimum === undefined || x >= type.minimum) &&
        (type.maximum === undefined || x <= type.maximum) &&
        (type.exclusiveMinimum === undefined || x > type.exclusiveMinimum) &&
        (type.exclusiveMaximum === undefined || x < type.exclusiveMaximum)
      const small = fc.integer({ min: -1000, max: 1000 }).map((x) => x / 8)
      return fc.oneof(base, small, ...(edges.length > 0 ? [fc.constantFrom(...edges)] : [])).filter(inRange)
    }
    case 'int':
    case 'uint': {
      const lo = BigInt(type.minimum ?? (type.type === 'uint' ? 0 : Number.MIN_SAFE_INTEGER))
      const hi = BigInt(type.maximum ?? Number.MAX_SAFE_INTEGER)
      return fc
        .oneof(
          fc.bigInt({ min: lo, max: hi }),
          fc.constantFrom(lo, hi),
          fc.bigInt({ min: lo, max: lo + 300n < hi ? lo + 300n : hi }),
        )
        .map(Number)
    }
    case 'bigint':
      return i64
    case 'boolean':
      return fc.boolean()
    case 'date':
      return date
    case 'enum':
    case 'literal':
      return fc.constantFrom(...type.values)
    case 'optional':
      return type.of.type === 'nullable'
        ? fc.oneof(fc.constant(undefined), fc.constant(null), arbitraryOf(type.of.of))
        : fc.oneof(fc.constant(undefined), arbitraryOf(type.of))
    case 'nullable':
      return fc.oneof(fc.constant(null), arbitraryOf(type.of))
    case 'object':
      return objectOf(type, {})
    case 'union':
      return fc.oneof(
        ...type.variants.map((variant) =>
          objectOf(variant.of as ObjectType, { [type.discriminator]: variant.value }),
        ),
      )
    case 'array': {
      const min = type.minItems ?? 0
      return fc.array(arbitraryOf(type.of), {
        minLength: min,
        maxLength: Math.max(min, Math.min(type.maxItems ?? 4, 4)),
      })
    }
    case 'record': {
      // A record's keys are strings: an enum of numbers has none a codec could write.
      const key = arbitraryOf(type.key).filter((k): k is string => typeof k === 'string')
      return fc.dictionary(key, arbitraryOf(type.of), { maxKeys: 3, ...plain })
    }
  }
}

/**
 * An object of `type`: fields that may be absent (optional) are left out or given a value (never
 * `undefined`: that encodes as absent and would not come back as an own property).
 */
function objectOf(type: ObjectType, extra: Record<string, unknown>): fc.Arbitrary<Record<string, unknown>> {
  const model: Record<string, fc.Arbitrary<unknown>> = {}
  const required: string[] = []
  for (const field of type.fields) {
    if (field.of.type === 'optional') {
      model[field.name] =
        field.of.of.type === 'nullable'
          ? fc.oneof(fc.constant(null), arbitraryOf(field.of.of.of))
          : arbitraryOf(field.of.of)
    } else {
      model[field.name] = arbitraryOf(field.of)
      required.push(field.name)
    }
  }
  return fc.record(model, { requiredKeys: required, ...plain }).map((o) => ({ ...extra, ...o }))
}

/** A patch of the leaf: any of its fields; an optional one may be `undefined` (removes it). */
export function patchOf(layout: StateLayout): fc.Arbitrary<Record<string, unknown>> {
  const model: Record<string, fc.Arbitrary<unknown>> = {}
  for (const field of (layout.leaf as ObjectType).fields) model[field.name] = arbitraryOf(field.of)
  return fc.record(model, { requiredKeys: [], ...plain })
}

/** Keys, leaves, patches, every op of a delta, and snapshots of up to 5 distinct keys. */
export function layoutArbitraries(layout: StateLayout): {
  key: fc.Arbitrary<unknown>
  leaf: fc.Arbitrary<Record<string, unknown>>
  patch: fc.Arbitrary<Record<string, unknown>>
  delta: fc.Arbitrary<Delta<unknown, unknown, unknown>>
  snapshot: fc.Arbitrary<Snapshot<unknown, unknown>>
} {
  const key = arbitraryOf(layout.key)
  const leaf = objectOf(layout.leaf as ObjectType, {})
  const patch = patchOf(layout)
  return {
    key,
    leaf,
    patch,
    delta: fc.oneof(
      fc.record({ op: fc.constant('upsert' as const), key, leaf }, plain),
      fc.record({ op: fc.constant('patch' as const), key, fields: patch }, plain),
      fc.record({ op: fc.constant('delete' as const), key }, plain),
      fc.constant({ op: 'clear' as const }),
    ),
    snapshot: fc.record(
      {
        seq: fc.oneof(fc.maxSafeNat(), fc.constant(0)),
        entries: fc.uniqueArray(fc.tuple(key, leaf), { selector: (entry) => entry[0], maxLength: 5 }),
      },
      plain,
    ),
  }
}
