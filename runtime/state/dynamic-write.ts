/**
 * Writes values by walking their layout: the interpreter's side of what codegen/state/emit-codec.ts
 * emits as straight-line code, byte for byte the same, with the same `ERR_ENCODE` problems.
 */
import { type ByteWriter, encodeError } from './byte-writer.js'
import type { WireType } from './layout.js'

type ObjectType = WireType & { type: 'object' }
type Fields = Record<string, unknown>

/** Writes `v` as `type`; `path` names it in errors (`leaf.levels[].price`). */
export function writeValue(w: ByteWriter, type: WireType, v: unknown, path: string): void {
  switch (type.type) {
    case 'string':
      w.string(v as string)
      return
    case 'f64':
      w.f64(v as number)
      return
    case 'f32':
      w.f32(v as number)
      return
    case 'bigint':
      w.i64(v as bigint)
      return
    case 'date':
      w.date(v as Date)
      return
    case 'int':
      w.varint(v as number)
      return
    case 'uint':
      w.uvarint(v as number)
      return
    case 'boolean':
      w.bool(v as boolean)
      return
    case 'enum':
    case 'literal': {
      // Strict equality, as the generated `switch` compares.
      const index = (type.values as unknown[]).indexOf(v)
      if (index < 0) throw encodeError(`${path}: not one of ${allowed(type.values)}`, v)
      w.uvarint(index)
      return
    }
    case 'optional':
      if (type.of.type === 'nullable') {
        if (v === undefined) w.u8(0)
        else if (v === null) w.u8(1)
        else {
          w.u8(2)
          writeValue(w, type.of.of, v, path)
        }
        return
      }
      if (v === undefined) w.u8(0)
      else {
        w.u8(1)
        writeValue(w, type.of, v, path)
      }
      return
    case 'nullable':
      if (v === null) w.u8(0)
      else {
        w.u8(1)
        writeValue(w, type.of, v, path)
      }
      return
    case 'object':
      writeObject(w, type, v, path)
      return
    case 'union': {
      const tag = (v as Fields)[type.discriminator]
      const index = type.variants.findIndex((variant) => variant.value === tag)
      const variant = type.variants[index]
      if (!variant) throw encodeError(`${path}.${type.discriminator}: not a variant of the union`, tag)
      w.uvarint(index)
      writeObject(w, variant.of as ObjectType, v, `${path}<${String(variant.value)}>`)
      return
    }
    case 'array': {
      // A string or an array-like would encode as a list of something else: refuse it.
      if (!Array.isArray(v)) throw encodeError(`${path}: not an array`, v)
      w.uvarint(v.length)
      for (const item of v) writeValue(w, type.of, item, `${path}[]`)
      return
    }
    case 'record': {
      // A number would encode as an empty record, an array as one keyed by its indices.
      if (typeof v !== 'object' || v === null || Array.isArray(v))
        throw encodeError(`${path}: not a record`, v)
      const record = v as Fields
      let count = 0
      for (const key in record) if (Object.hasOwn(record, key)) count++
      w.uvarint(count)
      for (const key in record) {
        if (!Object.hasOwn(record, key)) continue
        writeValue(w, type.key, key, `${path}{key}`)
        writeValue(w, type.of, record[key], `${path}{}`)
      }
      return
    }
  }
}

/** An object's presence bits (optional: present; nullish: present, then not null), then its fields. */
export function writeObject(w: ByteWriter, type: ObjectType, v: unknown, path: string): void {
  const fields = type.fields
  if (fields.length === 0) return
  const o = v as Fields
  const bits: boolean[] = []
  for (const field of fields) {
    const value = o[field.name]
    if (field.of.type === 'optional') {
      bits.push(value !== undefined)
      if (field.of.of.type === 'nullable') bits.push(value !== undefined && value !== null)
    } else if (field.of.type === 'nullable') bits.push(value !== null)
  }
  writeBits(w, bits)
  for (const field of fields) {
    const value = o[field.name]
    const at = `${path}.${field.name}`
    if (field.of.type === 'optional') {
      const nested = field.of.of.type === 'nullable'
      const inner = field.of.of.type === 'nullable' ? field.of.of.of : field.of.of
      if (value !== undefined && !(nested && value === null)) writeValue(w, inner, value, at)
    } else if (field.of.type === 'nullable') {
      if (value !== null) writeValue(w, field.of.of, value, at)
    } else writeValue(w, field.of, value, at)
  }
}

/**
 * A patch of the leaf `type`: a bit per top-level field present (an optional one when it is an
 * own property, even `undefined`: that removes it), then each present field in its standalone form.
 */
export function writePatch(w: ByteWriter, type: ObjectType, p: unknown): void {
  const patch = p as Fields
  const present = type.fields.map((field) =>
    field.of.type === 'optional' ? Object.hasOwn(patch, field.name) : patch[field.name] !== undefined,
  )
  writeBits(w, present, Math.ceil(type.fields.length / 8))
  type.fields.forEach((field, i) => {
    if (present[i]) writeValue(w, field.of, patch[field.name], `fields.${field.name}`)
  })
}

/** Bits in bytes, least significant first. */
function writeBits(w: ByteWriter, bits: readonly boolean[], bytes = Math.ceil(bits.length / 8)): void {
  for (let b = 0; b < bytes; b++) {
    let mask = 0
    for (let i = 0; i < 8; i++) if (bits[b * 8 + i]) mask |= 1 << i
    w.u8(mask)
  }
}

/** The values of an enum as an encode error lists them (cut at 80 characters). */
function allowed(values: ReadonlyArray<string | number | boolean>): string {
  const text = values.map((value) => JSON.stringify(value)).join(', ')
  return text.length > 80 ? `${text.slice(0, 77)}…` : text
}
