/**
 * Straight-line encode/decode functions from a state's layout: one write and one read function per
 * object (the leaf, each nested object and each discriminated union), scalars inline, every
 * decoded length and bound checked. The output is TypeScript source, formatted as the repository's
 * formatter writes it. The value emitters live in emit-codec-write.ts, emit-codec-read.ts and
 * emit-codec-union.ts; this file holds the entry points.
 */
import type { WireType } from '../model.js'
import { CodecContext, type CodecLimits, type CodecNames } from './codec-context.js'
import { readSource } from './emit-codec-read.js'
import { unionFunctions } from './emit-codec-union.js'
import { writeSource } from './emit-codec-write.js'

export type { CodecLimits, CodecNames } from './codec-context.js'

type ObjectType = WireType & { type: 'object' }

/** Writes the helper functions; `write`/`read` name the entry points for `rootType` (a TS type). */
export class CodecEmitter {
  readonly #ctx: CodecContext

  constructor(names: CodecNames) {
    this.#ctx = new CodecContext(names, unionFunctions)
  }

  /** The code of every helper emitted so far: constants first, then functions. */
  code(): string {
    return [...this.#ctx.constants, ...this.#ctx.chunks].join('\n\n')
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
    const write = this.#ctx.names.define(`write${suffix}`)
    const read = this.#ctx.names.define(`read${suffix}`)
    const { ByteWriter, ByteReader } = this.#ctx.names
    this.#ctx.temp = 0
    const writeBody = writeSource(this.#ctx, type, 'v', tsType, path, limits, '  ')
    this.#ctx.chunks.push(`function ${write}(w: ${ByteWriter}, v: ${tsType}): void {\n${writeBody}\n}`)
    this.#ctx.temp = 0
    const readBody = readSource(this.#ctx, type, 'x', tsType, path, limits, '  ')
    this.#ctx.chunks.push(`function ${read}(r: ${ByteReader}): ${tsType} {\n${readBody}\n  return x\n}`)
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
    const write = this.#ctx.names.define(`write${suffix}`)
    const read = this.#ctx.names.define(`read${suffix}`)
    const { ByteWriter, ByteReader } = this.#ctx.names
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
      this.#ctx.temp = 0
      const fieldType = `${leafType}['${field.name}']`
      const body = writeSource(
        this.#ctx,
        field.of,
        `p.${field.name} as ${fieldType}`,
        fieldType,
        `fields.${field.name}`,
        limits,
        '    ',
      )
      w.push(`  if (m${i >> 3} & ${1 << (i & 7)}) {\n${body}\n  }`)
    })
    this.#ctx.chunks.push(`function ${write}(w: ${ByteWriter}, p: ${patchType}): void {\n${w.join('\n')}\n}`)
    const r: string[] = []
    for (let b = 0; b < bytes; b++) r.push(`  const m${b} = r.u8()`)
    const spare = bytes * 8 - fields.length
    if (spare > 0) {
      const mask = (0xff << (8 - spare)) & 0xff
      r.push(`  if (m${bytes - 1} & ${mask}) r.fail('patch: bits set past the last field')`)
    }
    r.push('  const o: Record<string, unknown> = {}')
    fields.forEach((field, i) => {
      this.#ctx.temp = 0
      const fieldType = `${leafType}['${field.name}']`
      const body = readSource(this.#ctx, field.of, 'f', fieldType, `fields.${field.name}`, limits, '    ')
      r.push(`  if (m${i >> 3} & ${1 << (i & 7)}) {\n${body}\n    o.${field.name} = f\n  }`)
    })
    r.push(`  return o as ${patchType}`)
    this.#ctx.chunks.push(`function ${read}(r: ${ByteReader}): ${patchType} {\n${r.join('\n')}\n}`)
    return { write, read }
  }
}
