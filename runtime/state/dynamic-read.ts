/**
 * Reads values by walking their layout: the interpreter's side of what codegen/state/emit-codec.ts
 * emits as straight-line code, with the same checks in the same order and the same `ERR_DECODE`
 * problems (`leaf.side: value 7 of 2`).
 */
import type { ByteReader } from './byte-reader.js'
import type { WireType } from './layout.js'
import { minBytes, presenceBits } from './layout-bytes.js'

type ObjectType = WireType & { type: 'object' }
type Fields = Record<string, unknown>

/** Reads a value of `type`; strings are at most `maxStringBytes` (the key's or the leaf's limit). */
export function readValue(r: ByteReader, type: WireType, path: string, maxStringBytes: number): unknown {
  switch (type.type) {
    case 'string': {
      // zod counts code points (one or two UTF-16 units, at most 4 UTF-8 bytes each).
      const max = Math.min(type.maxLength === undefined ? Infinity : type.maxLength * 4, maxStringBytes)
      const x = r.string(max)
      const { minLength, maxLength } = type
      if (
        (minLength !== undefined && x.length < minLength * 2 && r.codePoints(x) < minLength) ||
        (maxLength !== undefined && x.length > maxLength && r.codePoints(x) > maxLength)
      )
        r.fail(`${path}: ${r.codePoints(x)} characters, not ${minLength ?? 0} to ${maxLength ?? 'any'}`)
      return x
    }
    case 'f64':
    case 'f32': {
      const x = type.type === 'f64' ? r.f64() : r.f32()
      if (!Number.isFinite(x) || outOfRange(type, x)) r.fail(`${path}: ${x} is out of range`)
      return x
    }
    case 'int':
    case 'uint': {
      const x = type.type === 'int' ? r.varint() : r.uvarint()
      if (outOfRange(type, x)) r.fail(`${path}: ${x} is out of range`)
      return x
    }
    case 'bigint':
      return r.i64()
    case 'boolean':
      return r.bool()
    case 'date':
      return r.date()
    case 'enum':
    case 'literal': {
      const index = r.uvarint()
      if (index >= type.values.length) r.fail(`${path}: value ${index} of ${type.values.length}`)
      return type.values[index]
    }
    case 'optional': {
      const tag = r.u8()
      if (type.of.type === 'nullable') {
        if (tag === 0) return undefined
        if (tag === 1) return null
        if (tag === 2) return readValue(r, type.of.of, path, maxStringBytes)
      } else {
        if (tag === 0) return undefined
        if (tag === 1) return readValue(r, type.of, path, maxStringBytes)
      }
      return r.fail(`${path}: presence tag ${tag}`)
    }
    case 'nullable': {
      const tag = r.u8()
      if (tag === 0) return null
      if (tag === 1) return readValue(r, type.of, path, maxStringBytes)
      return r.fail(`${path}: presence tag ${tag}`)
    }
    case 'object':
      return readObject(r, type, path, maxStringBytes, undefined)
    case 'union': {
      const index = r.uvarint()
      const variant = type.variants[index]
      if (!variant) return r.fail(`${path}: variant ${index} of ${type.variants.length}`)
      const at = `${path}<${String(variant.value)}>`
      return readObject(r, variant.of as ObjectType, at, maxStringBytes, [type.discriminator, variant.value])
    }
    case 'array': {
      const count = r.count(minBytes(type.of), type.maxItems ?? Number.MAX_SAFE_INTEGER)
      if (type.minItems !== undefined && count < type.minItems)
        r.fail(`${path}: ${count} items, fewer than ${type.minItems}`)
      const items = new Array<unknown>(count)
      for (let i = 0; i < count; i++) items[i] = readValue(r, type.of, `${path}[]`, maxStringBytes)
      return items
    }
    case 'record': {
      const count = r.count(minBytes(type.key) + minBytes(type.of), Number.MAX_SAFE_INTEGER)
      const record: Fields = {}
      for (let i = 0; i < count; i++) {
        const key = readValue(r, type.key, `${path}{key}`, maxStringBytes) as string
        if (Object.hasOwn(record, key)) r.fail(`${path}: key ${JSON.stringify(key)} twice`)
        const value = readValue(r, type.of, `${path}{}`, maxStringBytes)
        // defineProperty: a key named __proto__ stays a key instead of replacing the prototype.
        Object.defineProperty(record, key, { value, enumerable: true, writable: true, configurable: true })
      }
      return record
    }
  }
}

/**
 * An object: its presence bits, then its fields in order. The result lists the discriminator
 * (`extra`) first, then the fields always there, then the optional ones present, as generated
 * decoders build it.
 */
export function readObject(
  r: ByteReader,
  type: ObjectType,
  path: string,
  maxStringBytes: number,
  extra: [string, unknown] | undefined,
): Fields {
  const bits = presenceBits(type)
  const bytes = Math.ceil(bits / 8)
  const masks: number[] = []
  for (let b = 0; b < bytes; b++) masks.push(r.u8())
  const spare = bytes * 8 - bits
  if (spare > 0 && (masks[bytes - 1] as number) & ((0xff << (8 - spare)) & 0xff))
    r.fail(`${path}: presence bits set past the last field`)
  let bit = 0
  const take = (): boolean => {
    const b = bit++
    return ((masks[b >> 3] as number) & (1 << (b & 7))) !== 0
  }
  const required: Array<[string, unknown]> = []
  const optional: Array<[string, unknown]> = []
  for (const field of type.fields) {
    const at = `${path}.${field.name}`
    if (field.of.type === 'optional') {
      const present = take()
      let value: unknown
      if (field.of.of.type === 'nullable') {
        const inner = field.of.of.of
        if (take()) {
          if (!present) r.fail(`${at}: not null but absent`)
          value = readValue(r, inner, at, maxStringBytes)
        } else if (present) value = null
      } else if (present) value = readValue(r, field.of.of, at, maxStringBytes)
      optional.push([field.name, value])
    } else if (field.of.type === 'nullable') {
      const present = take()
      required.push([field.name, present ? readValue(r, field.of.of, at, maxStringBytes) : null])
    } else required.push([field.name, readValue(r, field.of, at, maxStringBytes)])
  }
  const x: Fields = {}
  if (extra) setField(x, extra[0], extra[1])
  for (const [name, value] of required) setField(x, name, value)
  for (const [name, value] of optional) if (value !== undefined) setField(x, name, value)
  return x
}

/** A patch of the leaf `type`: its field bits, then each field present in its standalone form. */
export function readPatch(r: ByteReader, type: ObjectType, maxStringBytes: number): Fields {
  const fields = type.fields
  const bytes = Math.ceil(fields.length / 8)
  const masks: number[] = []
  for (let b = 0; b < bytes; b++) masks.push(r.u8())
  const spare = bytes * 8 - fields.length
  if (spare > 0 && (masks[bytes - 1] as number) & ((0xff << (8 - spare)) & 0xff))
    r.fail('patch: bits set past the last field')
  const o: Fields = {}
  fields.forEach((field, i) => {
    if ((masks[i >> 3] as number) & (1 << (i & 7)))
      setField(o, field.name, readValue(r, field.of, `fields.${field.name}`, maxStringBytes))
  })
  return o
}

function outOfRange(
  type: { minimum?: number; maximum?: number; exclusiveMinimum?: number; exclusiveMaximum?: number },
  x: number,
): boolean {
  return (
    (type.minimum !== undefined && x < type.minimum) ||
    (type.maximum !== undefined && x > type.maximum) ||
    (type.exclusiveMinimum !== undefined && x <= type.exclusiveMinimum) ||
    (type.exclusiveMaximum !== undefined && x >= type.exclusiveMaximum)
  )
}

/** A plain property, except `__proto__`, which stays a property instead of setting the prototype. */
function setField(o: Fields, name: string, value: unknown): void {
  if (name === '__proto__')
    Object.defineProperty(o, name, { value, enumerable: true, writable: true, configurable: true })
  else o[name] = value
}
