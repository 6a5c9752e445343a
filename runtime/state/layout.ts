/**
 * The wire layout of a state as plain data (docs/state.md): what the generator derives from the zod
 * schemas, what the lock records, what the fingerprint hashes, and what a generated codec carries
 * (`codec.layout`) so tools can read a feed without its generated code.
 */

/**
 * The binary layout of one value of a state (docs/state.md, "Wire layout"): plain data, the same
 * in the model, the lock and the fingerprint. Bounds are those a decoder enforces.
 */
export type WireType =
  | { type: 'string'; minLength?: number; maxLength?: number }
  | {
      type: 'f64' | 'f32'
      minimum?: number
      maximum?: number
      exclusiveMinimum?: number
      exclusiveMaximum?: number
    }
  /** Zigzag LEB128 safe integer. */
  | { type: 'int'; minimum?: number; maximum?: number }
  /** LEB128 non-negative safe integer. */
  | { type: 'uint'; minimum?: number; maximum?: number }
  | { type: 'bigint' }
  | { type: 'boolean' }
  | { type: 'date' }
  /** The index of the value in `values`. */
  | { type: 'enum'; values: Array<string | number> }
  | { type: 'literal'; values: Array<string | number | boolean> }
  | { type: 'optional'; of: WireType }
  | { type: 'nullable'; of: WireType }
  /** Fields in name order; optional and nullable ones take a presence bit each. */
  | { type: 'object'; fields: WireField[] }
  | { type: 'array'; of: WireType; minItems?: number; maxItems?: number }
  | { type: 'record'; key: WireType; of: WireType }
  /** The index of the variant, then its fields without the discriminator. */
  | {
      type: 'union'
      discriminator: string
      variants: Array<{ value: string | number | boolean; of: WireType }>
    }

export interface WireField {
  name: string
  of: WireType
}

/** A state's whole layout, as `codec.layout` carries it. */
export interface StateLayout {
  name: string
  version: number
  maxKeyBytes: number
  maxLeafBytes: number
  key: WireType
  leaf: WireType
}
