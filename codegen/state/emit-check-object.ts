/**
 * The object check of a generated validator (emit-check.ts): fields in declaration order, each by
 * zod's presence rules, and unknown keys refused when the object is strict.
 */
import type { CheckField, CheckNode } from './check-model.js'
import { join, quote } from './check-source.js'

type ObjectNode = CheckNode & { kind: 'object' }

/** What an object check calls back in `CheckEmitter`. */
export interface ObjectEmitter {
  /** The runtime's `isObject`, as imported. */
  isObject: string
  /** A new local variable. */
  local(): string
  /** The file-level constant holding a set of `values` (shared by equal sets). */
  set(values: Array<string | number | boolean>): string
  /** Statements that check the variable `v` at `path`, and the expression of the parsed value. */
  node(node: CheckNode, v: string, path: string, pad: string): { lines: string[]; out: string }
}

/** An object: fields in declaration order, with zod's presence rules (see `fieldCheck`). */
export function objectCheck(
  node: ObjectNode,
  v: string,
  path: string,
  pad: string,
  e: ObjectEmitter,
): { lines: string[]; out: string } {
  const out = e.local()
  const lines = [
    `${pad}let ${out}: Record<string, unknown> | undefined`,
    `${pad}if (!${e.isObject}(${v})) issues.push([\`${path}\`, 'expected an object'])`,
    `${pad}else {`,
    `${pad}  ${out} = {}`,
  ]
  for (const field of node.fields) lines.push(...fieldCheck(field, v, out, path, `${pad}  `, e))
  if (node.strict) {
    const known = e.set(node.fields.map((f) => f.name))
    const key = e.local()
    lines.push(
      `${pad}  for (const ${key} in ${v}) {`,
      `${pad}    if (!${known}.has(${key})) issues.push([\`${path}\`, \`unknown key \${JSON.stringify(${key})}\`])`,
      `${pad}  }`,
    )
  }
  lines.push(`${pad}}`)
  return { lines, out }
}

/**
 * One field, as zod's object parse treats it by the field's `optin`/`optout`: a required field
 * must be present (`in`, as zod tests it); an optional one is copied only when present, and its
 * issues count only then; a defaulted one is always copied.
 */
function fieldCheck(
  field: CheckField,
  v: string,
  o: string,
  path: string,
  pad: string,
  e: ObjectEmitter,
): string[] {
  const value = e.local()
  const before = e.local()
  const at = join(path, field.name)
  const inner = e.node(field.of, value, at, pad)
  const present = `${value} !== undefined || ${quote(field.name)} in ${v}`
  const lines = [
    `${pad}const ${value} = ${v}.${field.name}`,
    `${pad}const ${before} = issues.length`,
    ...inner.lines,
  ]
  const set = `${o}.${field.name} = ${inner.out}`
  if (field.optin === undefined) {
    lines.push(
      `${pad}if (${present}) ${set}`,
      `${pad}else if (issues.length === ${before}) issues.push([\`${at}\`, 'is required'])`,
    )
  } else if (field.optout === 'optional') {
    const p = e.local()
    const copy = field.optin === 'optional' ? p : `${inner.out} !== undefined || ${p}`
    lines.push(
      `${pad}const ${p} = ${present}`,
      `${pad}if (issues.length > ${before} && !${p}) issues.length = ${before}`,
      `${pad}else if (${copy}) ${set}`,
    )
  } else if (field.optin === 'defaulted') {
    lines.push(`${pad}${set}`)
  } else {
    lines.push(`${pad}if (${inner.out} !== undefined || ${present}) ${set}`)
  }
  return lines
}
