/**
 * The read half of the generated codecs (emit-codec.ts): a value's decoding as straight-line
 * statements, every length, bound, tag and index checked before it is trusted.
 */
import type { WireType } from '../model.js'
import type { CodecContext, CodecLimits } from './codec-context.js'
import {
  ABSENT_BOTH,
  ABSENT_NULL,
  ABSENT_UNDEFINED,
  type Absent,
  escapeQuote,
  escapeTemplate,
  numberChecks,
} from './codec-source.js'
import { minBytes, presenceBits } from './layout.js'

type ObjectType = WireType & { type: 'object' }

/** Statements that declare `x` (typed `tsType`) and read it. */
export function readSource(
  ctx: CodecContext,
  type: WireType,
  x: string,
  tsType: string,
  path: string,
  limits: CodecLimits,
  pad: string,
): string {
  switch (type.type) {
    case 'string': {
      // zod measures strings in code points (one or two UTF-16 units, at most 4 UTF-8 bytes):
      // counted only when the units leave the bound in doubt.
      const max = Math.min(
        type.maxLength === undefined ? Infinity : type.maxLength * 4,
        limits.maxStringBytes,
      )
      const lines = [`${pad}const ${x} = r.string(${max})`]
      const checks: string[] = []
      if (type.minLength !== undefined)
        checks.push(`(${x}.length < ${type.minLength * 2} && r.codePoints(${x}) < ${type.minLength})`)
      if (type.maxLength !== undefined)
        checks.push(`(${x}.length > ${type.maxLength} && r.codePoints(${x}) > ${type.maxLength})`)
      if (checks.length > 0) {
        const bounds = `${type.minLength ?? 0} to ${type.maxLength ?? 'any'}`
        lines.push(
          `${pad}if (${checks.join(' || ')}) r.fail(\`${escapeTemplate(path)}: \${r.codePoints(${x})} characters, not ${bounds}\`)`,
        )
      }
      return lines.join('\n')
    }
    case 'f64':
    case 'f32': {
      const lines = [`${pad}const ${x} = r.${type.type}()`]
      const checks = [`!Number.isFinite(${x})`, ...numberChecks(type, x)]
      lines.push(
        `${pad}if (${checks.join(' || ')}) r.fail(\`${escapeTemplate(path)}: \${${x}} is out of range\`)`,
      )
      return lines.join('\n')
    }
    case 'int':
    case 'uint': {
      const lines = [`${pad}const ${x} = r.${type.type === 'int' ? 'varint' : 'uvarint'}()`]
      const checks = numberChecks(type, x)
      if (checks.length > 0) {
        lines.push(
          `${pad}if (${checks.join(' || ')}) r.fail(\`${escapeTemplate(path)}: \${${x}} is out of range\`)`,
        )
      }
      return lines.join('\n')
    }
    case 'bigint':
      return `${pad}const ${x} = r.i64()`
    case 'boolean':
      return `${pad}const ${x} = r.bool()`
    case 'date':
      return `${pad}const ${x} = r.date()`
    case 'enum':
    case 'literal': {
      const table = ctx.enumTable(type.values)
      const index = ctx.local()
      return [
        `${pad}const ${index} = r.uvarint()`,
        `${pad}if (${index} >= ${type.values.length}) r.fail(\`${escapeTemplate(path)}: value \${${index}} of ${type.values.length}\`)`,
        `${pad}const ${x} = ${table}[${index}] as ${tsType}`,
      ].join('\n')
    }
    case 'optional':
      return type.of.type === 'nullable'
        ? readPresence(ctx, type.of.of, ABSENT_BOTH, x, tsType, path, limits, pad)
        : readPresence(ctx, type.of, ABSENT_UNDEFINED, x, tsType, path, limits, pad)
    case 'nullable':
      return readPresence(ctx, type.of, ABSENT_NULL, x, tsType, path, limits, pad)
    case 'object':
      return readObjectInline(ctx, type, x, tsType, path, limits, pad, undefined)
    case 'union':
      return `${pad}const ${x} = ${ctx.union(type, tsType, path, limits).read}(r)`
    case 'array': {
      const count = ctx.local()
      const item = ctx.local()
      const index = ctx.local()
      const body = readSource(ctx, type.of, item, `${tsType}[number]`, `${path}[]`, limits, `${pad}  `)
      const max = type.maxItems ?? Number.MAX_SAFE_INTEGER
      const lines = [`${pad}const ${count} = r.count(${minBytes(type.of)}, ${max})`]
      if (type.minItems !== undefined) {
        lines.push(
          `${pad}if (${count} < ${type.minItems}) r.fail(\`${escapeTemplate(path)}: \${${count}} items, fewer than ${type.minItems}\`)`,
        )
      }
      const items = ctx.local()
      lines.push(
        `${pad}const ${items}: Array<${tsType}[number]> = new Array(${count})`,
        `${pad}for (let ${index} = 0; ${index} < ${count}; ${index}++) {`,
        body,
        `${pad}  ${items}[${index}] = ${item}`,
        `${pad}}`,
        `${pad}const ${x} = ${items} as ${tsType}`,
      )
      return lines.join('\n')
    }
    case 'record': {
      const count = ctx.local()
      const key = ctx.local()
      const value = ctx.local()
      const index = ctx.local()
      const record = ctx.local()
      const keyBody = readSource(ctx, type.key, key, 'string', `${path}{key}`, limits, `${pad}  `)
      const valueType = `Exclude<${tsType}[keyof ${tsType}], undefined>`
      const valueBody = readSource(ctx, type.of, value, valueType, `${path}{}`, limits, `${pad}  `)
      return [
        `${pad}const ${count} = r.count(${minBytes(type.key) + minBytes(type.of)}, ${Number.MAX_SAFE_INTEGER})`,
        `${pad}const ${record}: Record<string, unknown> = {}`,
        `${pad}for (let ${index} = 0; ${index} < ${count}; ${index}++) {`,
        keyBody,
        `${pad}  if (Object.hasOwn(${record}, ${key})) r.fail(\`${escapeTemplate(path)}: key \${JSON.stringify(${key})} twice\`)`,
        valueBody,
        // defineProperty: a key named __proto__ must stay a key, not replace the prototype.
        `${pad}  Object.defineProperty(${record}, ${key}, { value: ${value}, enumerable: true, writable: true, configurable: true })`,
        `${pad}}`,
        `${pad}const ${x} = ${record} as ${tsType}`,
      ].join('\n')
    }
  }
}

/** A value that may be absent: its presence tag (see `writePresence`), then the value of type `of`. */
function readPresence(
  ctx: CodecContext,
  of: WireType,
  absent: Absent,
  x: string,
  tsType: string,
  path: string,
  limits: CodecLimits,
  pad: string,
): string {
  const tag = ctx.local()
  const value = ctx.local()
  const body = readSource(
    ctx,
    of,
    value,
    `Exclude<${tsType}, ${absent.join(' | ')}>`,
    path,
    limits,
    `${pad}  `,
  )
  return [
    `${pad}const ${tag} = r.u8()`,
    `${pad}let ${x}: ${tsType}`,
    ...absent.map((a, i) => `${pad}${i === 0 ? 'if' : 'else if'} (${tag} === ${i}) ${x} = ${a} as ${tsType}`),
    `${pad}else if (${tag} === ${absent.length}) {`,
    body,
    `${pad}  ${x} = ${value}`,
    `${pad}} else r.fail(\`${escapeTemplate(path)}: presence tag \${${tag}}\`)`,
  ].join('\n')
}
/** An object's presence bits and fields into locals, then `x` as one object literal. */
export function readObjectInline(
  ctx: CodecContext,
  type: ObjectType,
  x: string,
  tsType: string,
  path: string,
  limits: CodecLimits,
  pad: string,
  extra: string | undefined,
): string {
  const lines: string[] = []
  const bits = presenceBits(type)
  const bytes = Math.ceil(bits / 8)
  const p = (b: number) => `${x}P${b}`
  for (let b = 0; b < bytes; b++) lines.push(`${pad}const ${p(b)} = r.u8()`)
  const spare = bytes * 8 - bits
  if (spare > 0) {
    const mask = (0xff << (8 - spare)) & 0xff
    lines.push(
      `${pad}if (${p(bytes - 1)} & ${mask}) r.fail('${escapeQuote(path)}: presence bits set past the last field')`,
    )
  }
  const required: string[] = []
  const optional: Array<{ name: string; local: string }> = []
  let bit = 0
  const take = () => {
    const b = bit++
    return `${p(b >> 3)} & ${1 << (b & 7)}`
  }
  for (const field of type.fields) {
    const local = ctx.local()
    const fieldType = `${tsType}['${field.name}']`
    const fieldPath = `${path}.${field.name}`
    if (field.of.type === 'optional') {
      const present = take()
      const nested = field.of.of.type === 'nullable'
      const inner = nested ? (field.of.of as { of: WireType }).of : field.of.of
      const value = ctx.local()
      const body = readSource(
        ctx,
        inner,
        value,
        `Exclude<${fieldType}, undefined | null>`,
        fieldPath,
        limits,
        `${pad}  `,
      )
      lines.push(`${pad}let ${local}: ${fieldType} | undefined`)
      if (nested) {
        const nonNull = take()
        lines.push(
          `${pad}if (${nonNull}) {`,
          `${pad}  if (!(${present})) r.fail('${escapeQuote(fieldPath)}: not null but absent')`,
          body,
          `${pad}  ${local} = ${value}`,
          `${pad}} else if (${present}) ${local} = null as ${fieldType}`,
        )
      } else {
        lines.push(`${pad}if (${present}) {`, body, `${pad}  ${local} = ${value}`, `${pad}}`)
      }
      optional.push({ name: field.name, local })
    } else if (field.of.type === 'nullable') {
      const present = take()
      const value = ctx.local()
      const body = readSource(
        ctx,
        field.of.of,
        value,
        `Exclude<${fieldType}, null>`,
        fieldPath,
        limits,
        `${pad}  `,
      )
      lines.push(
        `${pad}let ${local} = null as ${fieldType}`,
        `${pad}if (${present}) {`,
        body,
        `${pad}  ${local} = ${value}`,
        `${pad}}`,
      )
      required.push(`${field.name}: ${local}`)
    } else {
      lines.push(readSource(ctx, field.of, local, fieldType, fieldPath, limits, pad))
      required.push(`${field.name}: ${local}`)
    }
  }
  const members = [...(extra ? [extra] : []), ...required]
  lines.push(`${pad}const ${x} = { ${members.join(', ')} } as ${tsType}`.replace('{  }', '{}'))
  for (const { name, local } of optional)
    lines.push(`${pad}if (${local} !== undefined) ${x}.${name} = ${local}`)
  return lines.join('\n')
}
