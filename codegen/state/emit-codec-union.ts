/**
 * The functions of a discriminated union in the generated codecs (emit-codec.ts): one write and
 * one read function per union, which the leaf, the patch and every place the union occurs call.
 */
import type { WireType } from '../model.js'
import type { CodecContext, CodecLimits } from './codec-context.js'
import { escapeTemplate, literal, quote } from './codec-source.js'
import { readObjectInline } from './emit-codec-read.js'
import { writeObjectInline } from './emit-codec-write.js'

type ObjectType = WireType & { type: 'object' }
type UnionType = WireType & { type: 'union' }

/**
 * Emits `write_<prefix><path>` / `read_<prefix><path>` for a discriminated union: the variant's
 * index, then its fields inline. Emitted once per layout and TS type; returns their names.
 */
export function unionFunctions(
  ctx: CodecContext,
  type: UnionType,
  tsType: string,
  path: string,
  limits: CodecLimits,
): { write: string; read: string } {
  const bare = tsType.replace(/^Exclude<(.*), (undefined|null|undefined \| null)>$/, '$1')
  const id = `${bare}|${JSON.stringify(type)}|${limits.maxStringBytes}`
  const known = ctx.unions.get(id)
  if (known) return known
  const suffix = `${ctx.names.prefix}${path.replace(/[^A-Za-z0-9]+(.)?/g, (_, c: string | undefined) => (c ?? '').toUpperCase())}`
  const write = ctx.names.define(`write_${suffix}`)
  const read = ctx.names.define(`read_${suffix}`)
  const { ByteWriter, ByteReader, encodeError } = ctx.names
  const saved = ctx.temp
  const disc = type.discriminator
  const w: string[] = [`  switch (v.${disc}) {`]
  const put = type.variants.length <= 128 ? 'w.u8' : 'w.uvarint'
  type.variants.forEach((variant, i) => {
    ctx.temp = 0
    const variantType = `(${tsType} & { ${disc}: ${literal(variant.value)} })`
    const body = writeObjectInline(
      ctx,
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
  ctx.chunks.push(`function ${write}(w: ${ByteWriter}, v: ${tsType}): void {\n${w.join('\n')}\n}`)
  const r: string[] = ['  const variant = r.uvarint()', '  switch (variant) {']
  type.variants.forEach((variant, i) => {
    ctx.temp = 0
    const variantType = `(${tsType} & { ${disc}: ${literal(variant.value)} })`
    const body = readObjectInline(
      ctx,
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
  ctx.chunks.push(`function ${read}(r: ${ByteReader}): ${tsType} {\n${r.join('\n')}\n}`)
  ctx.temp = saved
  ctx.unions.set(id, { write, read })
  return { write, read }
}
