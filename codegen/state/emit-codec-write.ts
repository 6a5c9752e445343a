/**
 * The write half of the generated codecs (emit-codec.ts): a value's encoding as straight-line
 * statements, with the checks that keep a value of the wrong shape from encoding as something else.
 */
import type { WireType } from '../model.js'
import type { CodecContext, CodecLimits } from './codec-context.js'
import {
  ABSENT_BOTH,
  ABSENT_NULL,
  ABSENT_UNDEFINED,
  type Absent,
  literal,
  quote,
  truncate,
} from './codec-source.js'
import { presenceBits } from './layout.js'

type ObjectType = WireType & { type: 'object' }

/** Statements that write `v` (typed `tsType`) to `w`, scalars inline, a union by its function. */
export function writeSource(
  ctx: CodecContext,
  type: WireType,
  v: string,
  tsType: string,
  path: string,
  limits: CodecLimits,
  pad: string,
): string {
  const { encodeError } = ctx.names
  switch (type.type) {
    case 'string':
      return `${pad}w.string(${v})`
    case 'f64':
    case 'f32':
    case 'bigint':
    case 'date':
      return `${pad}w.${type.type === 'bigint' ? 'i64' : type.type}(${v})`
    case 'int':
      return `${pad}w.varint(${v})`
    case 'uint':
      return `${pad}w.uvarint(${v})`
    case 'boolean':
      return `${pad}w.bool(${v})`
    case 'enum':
    case 'literal': {
      const put = type.values.length <= 128 ? 'w.u8' : 'w.uvarint'
      const cases = type.values.map(
        (value, i) => `${pad}  case ${literal(value)}:\n${pad}    ${put}(${i})\n${pad}    break`,
      )
      const allowed = type.values.map((value) => JSON.stringify(value)).join(', ')
      return [
        `${pad}switch (${v}) {`,
        ...cases,
        `${pad}  default:`,
        `${pad}    throw ${encodeError}(${quote(`${path}: not one of ${truncate(allowed)}`)}, ${v})`,
        `${pad}}`,
      ].join('\n')
    }
    case 'optional':
      return type.of.type === 'nullable'
        ? writePresence(ctx, type.of.of, ABSENT_BOTH, v, tsType, path, limits, pad)
        : writePresence(ctx, type.of, ABSENT_UNDEFINED, v, tsType, path, limits, pad)
    case 'nullable':
      return writePresence(ctx, type.of, ABSENT_NULL, v, tsType, path, limits, pad)
    case 'object':
      return writeObjectInline(ctx, type, v, tsType, path, limits, pad)
    case 'union':
      return `${pad}${ctx.union(type, tsType, path, limits).write}(w, ${v})`
    case 'array': {
      const items = ctx.local()
      const item = ctx.local()
      const body = writeSource(ctx, type.of, item, `${tsType}[number]`, `${path}[]`, limits, `${pad}  `)
      return [
        `${pad}const ${items} = ${v}`,
        // A string or an array-like would encode as a list of something else: refuse it.
        `${pad}if (!Array.isArray(${items})) throw ${encodeError}(${quote(`${path}: not an array`)}, ${items})`,
        `${pad}w.uvarint(${items}.length)`,
        `${pad}for (const ${item} of ${items}) {`,
        body,
        `${pad}}`,
      ].join('\n')
    }
    case 'record': {
      const record = ctx.local()
      const count = ctx.local()
      const key = ctx.local()
      const keyBody = writeSource(
        ctx,
        type.key,
        key,
        `keyof ${tsType} & string`,
        `${path}{key}`,
        limits,
        `${pad}  `,
      )
      const valueType = `Exclude<${tsType}[keyof ${tsType}], undefined>`
      const valueBody = writeSource(
        ctx,
        type.of,
        `${record}[${key}] as ${valueType}`,
        valueType,
        `${path}{}`,
        limits,
        `${pad}  `,
      )
      return [
        `${pad}const ${record} = ${v}`,
        // A number would encode as an empty record, an array as one keyed by its indices.
        `${pad}if (typeof ${record} !== 'object' || ${record} === null || Array.isArray(${record}))`,
        `${pad}  throw ${encodeError}(${quote(`${path}: not a record`)}, ${record})`,
        `${pad}let ${count} = 0`,
        `${pad}for (const ${key} in ${record}) if (Object.hasOwn(${record}, ${key})) ${count}++`,
        `${pad}w.uvarint(${count})`,
        `${pad}for (const ${key} in ${record}) {`,
        `${pad}  if (!Object.hasOwn(${record}, ${key})) continue`,
        keyBody,
        valueBody,
        `${pad}}`,
      ].join('\n')
    }
  }
}

/**
 * A value that may be absent: a presence tag (the index of its absent value in `absent`, or
 * `absent.length` when it is there), then the value of type `of`.
 */
function writePresence(
  ctx: CodecContext,
  of: WireType,
  absent: Absent,
  v: string,
  tsType: string,
  path: string,
  limits: CodecLimits,
  pad: string,
): string {
  const value = ctx.local()
  const body = writeSource(
    ctx,
    of,
    value,
    `Exclude<${tsType}, ${absent.join(' | ')}>`,
    path,
    limits,
    `${pad}  `,
  )
  return [
    `${pad}const ${value} = ${v}`,
    ...absent.map((a, i) => `${pad}${i === 0 ? 'if' : 'else if'} (${value} === ${a}) w.u8(${i})`),
    `${pad}else {`,
    `${pad}  w.u8(${absent.length})`,
    body,
    `${pad}}`,
  ].join('\n')
}
/** An object's fields inline: its presence bits, then each field in name order. */
export function writeObjectInline(
  ctx: CodecContext,
  type: ObjectType,
  v: string,
  tsType: string,
  path: string,
  limits: CodecLimits,
  pad: string,
): string {
  if (type.fields.length === 0) return ''
  const lines: string[] = []
  const object = v === 'v' ? v : ctx.local()
  if (object !== v) lines.push(`${pad}const ${object} = ${v}`)
  const bytes = Math.ceil(presenceBits(type) / 8)
  const pv = (b: number) => `p${object === 'v' ? '' : object}${b}`
  let bit = 0
  const flag = (condition: string) => {
    lines.push(`${pad}if (${condition}) ${pv(bit >> 3)} |= ${1 << (bit & 7)}`)
    bit++
  }
  if (bytes > 0) {
    for (let b = 0; b < bytes; b++) lines.push(`${pad}let ${pv(b)} = 0`)
    for (const field of type.fields) {
      const access = `${object}.${field.name}`
      if (field.of.type === 'optional') {
        flag(`${access} !== undefined`)
        if (field.of.of.type === 'nullable') flag(`${access} !== undefined && ${access} !== null`)
      } else if (field.of.type === 'nullable') flag(`${access} !== null`)
    }
    for (let b = 0; b < bytes; b++) lines.push(`${pad}w.u8(${pv(b)})`)
  }
  for (const field of type.fields) {
    const access = `${object}.${field.name}`
    const fieldType = `${tsType}['${field.name}']`
    const fieldPath = `${path}.${field.name}`
    if (field.of.type === 'optional') {
      const inner = field.of.of.type === 'nullable' ? field.of.of.of : field.of.of
      const guard =
        field.of.of.type === 'nullable'
          ? `${access} !== undefined && ${access} !== null`
          : `${access} !== undefined`
      const body = writeSource(
        ctx,
        inner,
        access,
        `Exclude<${fieldType}, undefined | null>`,
        fieldPath,
        limits,
        `${pad}  `,
      )
      lines.push(`${pad}if (${guard}) {\n${body}\n${pad}}`)
    } else if (field.of.type === 'nullable') {
      const body = writeSource(
        ctx,
        field.of.of,
        access,
        `Exclude<${fieldType}, null>`,
        fieldPath,
        limits,
        `${pad}  `,
      )
      lines.push(`${pad}if (${access} !== null) {\n${body}\n${pad}}`)
    } else {
      lines.push(writeSource(ctx, field.of, access, fieldType, fieldPath, limits, pad))
    }
  }
  return lines.join('\n')
}
