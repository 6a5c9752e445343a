/**
 * Straight-line encode/decode functions from a state's layout: one write and one read function per
 * object (the leaf, each nested object and each discriminated union), scalars inline, every
 * decoded length and bound checked. The output is TypeScript source, formatted as the repository's
 * formatter writes it.
 */
import type { WireType } from '../model.js'
import { minBytes, presenceBits } from './layout.js'

type ObjectType = WireType & { type: 'object' }
type UnionType = WireType & { type: 'union' }

/** Names the emitted code refers to, resolved by the caller (imports and file-level names). */
export interface CodecNames {
  /** Prefix of the file-level helpers of this state (`orderBook`). */
  prefix: string
  /** Runtime imports. */
  ByteWriter: string
  ByteReader: string
  encodeError: string
  /** Reserves a file-level name. */
  define(name: string): string
}

/** Byte limits the decoder applies to strings, by where they are. */
export interface CodecLimits {
  maxStringBytes: number
}

/** Writes the helper functions; `write`/`read` name the entry points for `rootType` (a TS type). */
export class CodecEmitter {
  readonly #names: CodecNames
  readonly #chunks: string[] = []
  readonly #constants: string[] = []
  readonly #enumTables = new Map<string, string>()
  /** Union functions by layout and TS type: the leaf and the patch share them. */
  readonly #unions = new Map<string, { write: string; read: string }>()
  #temp = 0

  constructor(names: CodecNames) {
    this.#names = names
  }

  /** The code of every helper emitted so far: constants first, then functions. */
  code(): string {
    return [...this.#constants, ...this.#chunks].join('\n\n')
  }

  /**
   * Emits `write<suffix>(w, v)` and `read<suffix>(r)` for a value of `type` whose TypeScript type
   * is `tsType`; returns their names.
   */
  entry(
    suffix: string,
    type: WireType,
    tsType: string,
    path: string,
    limits: CodecLimits,
  ): {
    write: string
    read: string
  } {
    const write = this.#names.define(`write${suffix}`)
    const read = this.#names.define(`read${suffix}`)
    const { ByteWriter, ByteReader } = this.#names
    this.#temp = 0
    const writeBody = this.#write(type, 'v', tsType, path, limits, '  ')
    this.#chunks.push(`function ${write}(w: ${ByteWriter}, v: ${tsType}): void {\n${writeBody}\n}`)
    this.#temp = 0
    const readBody = this.#read(type, 'x', tsType, path, limits, '  ')
    this.#chunks.push(`function ${read}(r: ${ByteReader}): ${tsType} {\n${readBody}\n  return x\n}`)
    return { write, read }
  }

  /**
   * Emits `write<suffix>(w, p)` / `read<suffix>(r)` for a patch of the leaf `type`: a bit per
   * top-level field present, then each present field in its standalone form.
   */
  patch(
    suffix: string,
    type: ObjectType,
    leafType: string,
    patchType: string,
    limits: CodecLimits,
  ): {
    write: string
    read: string
  } {
    const write = this.#names.define(`write${suffix}`)
    const read = this.#names.define(`read${suffix}`)
    const { ByteWriter, ByteReader } = this.#names
    const fields = type.fields
    const bytes = Math.ceil(fields.length / 8)
    const w: string[] = []
    for (let b = 0; b < bytes; b++) w.push(`  let m${b} = 0`)
    fields.forEach((field, i) => {
      const access = `p.${field.name}`
      const present =
        field.of.type === 'optional' ? `Object.hasOwn(p, '${field.name}')` : `${access} !== undefined`
      w.push(`  if (${present}) m${i >> 3} |= ${1 << (i & 7)}`)
    })
    for (let b = 0; b < bytes; b++) w.push(`  w.u8(m${b})`)
    fields.forEach((field, i) => {
      this.#temp = 0
      const fieldType = `${leafType}['${field.name}']`
      const body = this.#write(
        field.of,
        `p.${field.name} as ${fieldType}`,
        fieldType,
        `fields.${field.name}`,
        limits,
        '    ',
      )
      w.push(`  if (m${i >> 3} & ${1 << (i & 7)}) {\n${body}\n  }`)
    })
    this.#chunks.push(`function ${write}(w: ${ByteWriter}, p: ${patchType}): void {\n${w.join('\n')}\n}`)
    const r: string[] = []
    for (let b = 0; b < bytes; b++) r.push(`  const m${b} = r.u8()`)
    const spare = bytes * 8 - fields.length
    if (spare > 0) {
      const mask = (0xff << (8 - spare)) & 0xff
      r.push(`  if (m${bytes - 1} & ${mask}) r.fail('patch: bits set past the last field')`)
    }
    r.push('  const o: Record<string, unknown> = {}')
    fields.forEach((field, i) => {
      this.#temp = 0
      const fieldType = `${leafType}['${field.name}']`
      const body = this.#read(field.of, 'f', fieldType, `fields.${field.name}`, limits, '    ')
      r.push(`  if (m${i >> 3} & ${1 << (i & 7)}) {\n${body}\n    o.${field.name} = f\n  }`)
    })
    r.push(`  return o as ${patchType}`)
    this.#chunks.push(`function ${read}(r: ${ByteReader}): ${patchType} {\n${r.join('\n')}\n}`)
    return { write, read }
  }

  // ── writing ────────────────────────────────────────────────────────────────────────────────

  #write(type: WireType, v: string, tsType: string, path: string, limits: CodecLimits, pad: string): string {
    const { encodeError } = this.#names
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
      case 'optional': {
        const inner = type.of
        const value = this.#local()
        if (inner.type === 'nullable') {
          const body = this.#write(
            inner.of,
            value,
            `Exclude<${tsType}, undefined | null>`,
            path,
            limits,
            `${pad}  `,
          )
          return [
            `${pad}const ${value} = ${v}`,
            `${pad}if (${value} === undefined) w.u8(0)`,
            `${pad}else if (${value} === null) w.u8(1)`,
            `${pad}else {`,
            `${pad}  w.u8(2)`,
            body,
            `${pad}}`,
          ].join('\n')
        }
        const body = this.#write(inner, value, `Exclude<${tsType}, undefined>`, path, limits, `${pad}  `)
        return [
          `${pad}const ${value} = ${v}`,
          `${pad}if (${value} === undefined) w.u8(0)`,
          `${pad}else {`,
          `${pad}  w.u8(1)`,
          body,
          `${pad}}`,
        ].join('\n')
      }
      case 'nullable': {
        const value = this.#local()
        const body = this.#write(type.of, value, `Exclude<${tsType}, null>`, path, limits, `${pad}  `)
        return [
          `${pad}const ${value} = ${v}`,
          `${pad}if (${value} === null) w.u8(0)`,
          `${pad}else {`,
          `${pad}  w.u8(1)`,
          body,
          `${pad}}`,
        ].join('\n')
      }
      case 'object':
        return this.#writeObjectInline(type, v, tsType, path, limits, pad)
      case 'union':
        return `${pad}${this.#unionFunctions(type, tsType, path, limits).write}(w, ${v})`
      case 'array': {
        const items = this.#local()
        const item = this.#local()
        const body = this.#write(type.of, item, `${tsType}[number]`, `${path}[]`, limits, `${pad}  `)
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
        const record = this.#local()
        const count = this.#local()
        const key = this.#local()
        const keyBody = this.#write(
          type.key,
          key,
          `keyof ${tsType} & string`,
          `${path}{key}`,
          limits,
          `${pad}  `,
        )
        const valueType = `Exclude<${tsType}[keyof ${tsType}], undefined>`
        const valueBody = this.#write(
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

  /** An object's fields inline: its presence bits, then each field in name order. */
  #writeObjectInline(
    type: ObjectType,
    v: string,
    tsType: string,
    path: string,
    limits: CodecLimits,
    pad: string,
  ): string {
    if (type.fields.length === 0) return ''
    const lines: string[] = []
    const object = v === 'v' ? v : this.#local()
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
        const body = this.#write(
          inner,
          access,
          `Exclude<${fieldType}, undefined | null>`,
          fieldPath,
          limits,
          `${pad}  `,
        )
        lines.push(`${pad}if (${guard}) {\n${body}\n${pad}}`)
      } else if (field.of.type === 'nullable') {
        const body = this.#write(
          field.of.of,
          access,
          `Exclude<${fieldType}, null>`,
          fieldPath,
          limits,
          `${pad}  `,
        )
        lines.push(`${pad}if (${access} !== null) {\n${body}\n${pad}}`)
      } else {
        lines.push(this.#write(field.of, access, fieldType, fieldPath, limits, pad))
      }
    }
    return lines.join('\n')
  }

  // ── reading ────────────────────────────────────────────────────────────────────────────────

  /** Statements that declare `x` (typed `tsType`) and read it. */
  #read(type: WireType, x: string, tsType: string, path: string, limits: CodecLimits, pad: string): string {
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
        const table = this.#enumTable(type.values)
        const index = this.#local()
        return [
          `${pad}const ${index} = r.uvarint()`,
          `${pad}if (${index} >= ${type.values.length}) r.fail(\`${escapeTemplate(path)}: value \${${index}} of ${type.values.length}\`)`,
          `${pad}const ${x} = ${table}[${index}] as ${tsType}`,
        ].join('\n')
      }
      case 'optional': {
        const inner = type.of
        const tag = this.#local()
        const value = this.#local()
        if (inner.type === 'nullable') {
          const body = this.#read(
            inner.of,
            value,
            `Exclude<${tsType}, undefined | null>`,
            path,
            limits,
            `${pad}  `,
          )
          return [
            `${pad}const ${tag} = r.u8()`,
            `${pad}let ${x}: ${tsType}`,
            `${pad}if (${tag} === 0) ${x} = undefined as ${tsType}`,
            `${pad}else if (${tag} === 1) ${x} = null as ${tsType}`,
            `${pad}else if (${tag} === 2) {`,
            body,
            `${pad}  ${x} = ${value}`,
            `${pad}} else r.fail(\`${escapeTemplate(path)}: presence tag \${${tag}}\`)`,
          ].join('\n')
        }
        const body = this.#read(inner, value, `Exclude<${tsType}, undefined>`, path, limits, `${pad}  `)
        return [
          `${pad}const ${tag} = r.u8()`,
          `${pad}let ${x}: ${tsType}`,
          `${pad}if (${tag} === 0) ${x} = undefined as ${tsType}`,
          `${pad}else if (${tag} === 1) {`,
          body,
          `${pad}  ${x} = ${value}`,
          `${pad}} else r.fail(\`${escapeTemplate(path)}: presence tag \${${tag}}\`)`,
        ].join('\n')
      }
      case 'nullable': {
        const tag = this.#local()
        const value = this.#local()
        const body = this.#read(type.of, value, `Exclude<${tsType}, null>`, path, limits, `${pad}  `)
        return [
          `${pad}const ${tag} = r.u8()`,
          `${pad}let ${x}: ${tsType}`,
          `${pad}if (${tag} === 0) ${x} = null as ${tsType}`,
          `${pad}else if (${tag} === 1) {`,
          body,
          `${pad}  ${x} = ${value}`,
          `${pad}} else r.fail(\`${escapeTemplate(path)}: presence tag \${${tag}}\`)`,
        ].join('\n')
      }
      case 'object':
        return this.#readObjectInline(type, x, tsType, path, limits, pad, undefined)
      case 'union':
        return `${pad}const ${x} = ${this.#unionFunctions(type, tsType, path, limits).read}(r)`
      case 'array': {
        const count = this.#local()
        const item = this.#local()
        const index = this.#local()
        const body = this.#read(type.of, item, `${tsType}[number]`, `${path}[]`, limits, `${pad}  `)
        const max = type.maxItems ?? Number.MAX_SAFE_INTEGER
        const lines = [`${pad}const ${count} = r.count(${minBytes(type.of)}, ${max})`]
        if (type.minItems !== undefined) {
          lines.push(
            `${pad}if (${count} < ${type.minItems}) r.fail(\`${escapeTemplate(path)}: \${${count}} items, fewer than ${type.minItems}\`)`,
          )
        }
        const items = this.#local()
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
        const count = this.#local()
        const key = this.#local()
        const value = this.#local()
        const index = this.#local()
        const record = this.#local()
        const keyBody = this.#read(type.key, key, 'string', `${path}{key}`, limits, `${pad}  `)
        const valueType = `Exclude<${tsType}[keyof ${tsType}], undefined>`
        const valueBody = this.#read(type.of, value, valueType, `${path}{}`, limits, `${pad}  `)
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

  /** An object's presence bits and fields into locals, then `x` as one object literal. */
  #readObjectInline(
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
      const local = this.#local()
      const fieldType = `${tsType}['${field.name}']`
      const fieldPath = `${path}.${field.name}`
      if (field.of.type === 'optional') {
        const present = take()
        const nested = field.of.of.type === 'nullable'
        const inner = nested ? (field.of.of as { of: WireType }).of : field.of.of
        const value = this.#local()
        const body = this.#read(
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
        const value = this.#local()
        const body = this.#read(
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
        lines.push(this.#read(field.of, local, fieldType, fieldPath, limits, pad))
        required.push(`${field.name}: ${local}`)
      }
    }
    const members = [...(extra ? [extra] : []), ...required]
    lines.push(`${pad}const ${x} = { ${members.join(', ')} } as ${tsType}`.replace('{  }', '{}'))
    for (const { name, local } of optional)
      lines.push(`${pad}if (${local} !== undefined) ${x}.${name} = ${local}`)
    return lines.join('\n')
  }

  // ── discriminated unions ───────────────────────────────────────────────────────────────────

  #unionFunctions(
    type: UnionType,
    tsType: string,
    path: string,
    limits: CodecLimits,
  ): { write: string; read: string } {
    const bare = tsType.replace(/^Exclude<(.*), (undefined|null|undefined \| null)>$/, '$1')
    const id = `${bare}|${JSON.stringify(type)}|${limits.maxStringBytes}`
    const known = this.#unions.get(id)
    if (known) return known
    const suffix = `${this.#names.prefix}${path.replace(/[^A-Za-z0-9]+(.)?/g, (_, c: string | undefined) => (c ?? '').toUpperCase())}`
    const write = this.#names.define(`write_${suffix}`)
    const read = this.#names.define(`read_${suffix}`)
    const { ByteWriter, ByteReader, encodeError } = this.#names
    const saved = this.#temp
    const disc = type.discriminator
    const w: string[] = [`  switch (v.${disc}) {`]
    const put = type.variants.length <= 128 ? 'w.u8' : 'w.uvarint'
    type.variants.forEach((variant, i) => {
      this.#temp = 0
      const variantType = `(${tsType} & { ${disc}: ${literal(variant.value)} })`
      const body = this.#writeObjectInline(
        variant.of as ObjectType,
        `v as ${variantType}`,
        variantType,
        `${path}<${String(variant.value)}>`,
        limits,
        '      ',
      )
      w.push(
        `    case ${literal(variant.value)}: {`,
        `      ${put}(${i})`,
        ...(body ? [body] : []),
        '      return',
        '    }',
      )
    })
    w.push(
      '  }',
      `  throw ${encodeError}(${quote(`${path}.${disc}: not a variant of the union`)}, (v as { ${disc}: unknown }).${disc})`,
    )
    this.#chunks.push(`function ${write}(w: ${ByteWriter}, v: ${tsType}): void {\n${w.join('\n')}\n}`)
    const r: string[] = ['  const variant = r.uvarint()', '  switch (variant) {']
    type.variants.forEach((variant, i) => {
      this.#temp = 0
      const variantType = `(${tsType} & { ${disc}: ${literal(variant.value)} })`
      const body = this.#readObjectInline(
        variant.of as ObjectType,
        'x',
        variantType,
        `${path}<${String(variant.value)}>`,
        limits,
        '      ',
        `${disc}: ${literal(variant.value)}`,
      )
      r.push(`    case ${i}: {`, body, '      return x', '    }')
    })
    r.push(
      '  }',
      `  return r.fail(\`${escapeTemplate(path)}: variant \${variant} of ${type.variants.length}\`)`,
    )
    this.#chunks.push(`function ${read}(r: ${ByteReader}): ${tsType} {\n${r.join('\n')}\n}`)
    this.#temp = saved
    this.#unions.set(id, { write, read })
    return { write, read }
  }

  #enumTable(values: Array<string | number | boolean>): string {
    const text = `[${values.map(literal).join(', ')}]`
    const known = this.#enumTables.get(text)
    if (known) return known
    const name = this.#names.define(`${this.#names.prefix}Values${this.#enumTables.size + 1}`)
    this.#enumTables.set(text, name)
    this.#constants.push(`const ${name} = ${text} as const`)
    return name
  }

  #local(): string {
    return `_${++this.#temp}`
  }
}

function numberChecks(
  type: WireType & {
    minimum?: number
    maximum?: number
    exclusiveMinimum?: number
    exclusiveMaximum?: number
  },
  x: string,
): string[] {
  const checks: string[] = []
  if (type.minimum !== undefined) checks.push(`${x} < ${type.minimum}`)
  if (type.maximum !== undefined) checks.push(`${x} > ${type.maximum}`)
  if (type.exclusiveMinimum !== undefined) checks.push(`${x} <= ${type.exclusiveMinimum}`)
  if (type.exclusiveMaximum !== undefined) checks.push(`${x} >= ${type.exclusiveMaximum}`)
  return checks
}

function literal(value: string | number | boolean): string {
  return typeof value === 'string' ? quote(value) : String(value)
}

function quote(text: string): string {
  return `'${text.replaceAll('\\', '\\\\').replaceAll("'", "\\'").replaceAll('\n', '\\n')}'`
}

function escapeQuote(text: string): string {
  return quote(text).slice(1, -1)
}

function escapeTemplate(text: string): string {
  return text.replaceAll('\\', '\\\\').replaceAll('`', '\\`').replaceAll('${', '\\${')
}

function truncate(text: string): string {
  return text.length > 80 ? `${text.slice(0, 77)}…` : text
}
