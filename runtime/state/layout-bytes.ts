import type { WireType } from './layout.js'

/**
 * Sizes read off a layout, as the generator computes them (codegen/state/layout.ts): what a decoder
 * needs to bound counts by the bytes left, and the presence bits of objects.
 */

type ObjectType = WireType & { type: 'object' }

/** The fewest bytes a value of the layout takes (0 only for an object of optional fields or none). */
export function minBytes(type: WireType): number {
  switch (type.type) {
    case 'f64':
    case 'bigint':
      return 8
    case 'f32':
      return 4
    case 'object':
      return (
        presenceBytes(type) +
        type.fields.reduce((sum, f) => sum + (isPresenceField(f.of) ? 0 : minBytes(f.of)), 0)
      )
    case 'union':
      return 1 + Math.min(...type.variants.map((v) => minBytes(v.of)))
    default:
      return 1
  }
}

/** Whether a field takes a presence bit of its object (optional, nullable or both: two bits). */
export function isPresenceField(type: WireType): boolean {
  return type.type === 'optional' || type.type === 'nullable'
}

/** Presence bits of an object: one per optional or nullable wrapper of a field. */
export function presenceBits(type: ObjectType): number {
  let bits = 0
  for (const field of type.fields) {
    if (field.of.type === 'optional') bits += field.of.of.type === 'nullable' ? 2 : 1
    else if (field.of.type === 'nullable') bits += 1
  }
  return bits
}

export function presenceBytes(type: ObjectType): number {
  return Math.ceil(presenceBits(type) / 8)
}
