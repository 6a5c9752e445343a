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

/**
 * An object: fields in declaration order, with zod's presence rules (see `fieldCheck`). The output
 * is built once every field is checked: one object literal of the fields always set (required or
 * defaulted) up to the first that may be left out, then the rest one by one, so its keys keep
 * zod's order. A literal has the final shape at once (one hidden class, no slack), and V8 can
 * allocate a literal's objects straight into the old generation once it sees them survive, as the
 * leaves a publisher keeps do.
 */
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
  ]
  const literal: string[] = []
  const after: string[] = []
  for (const field of node.fields) {
    const check = fieldCheck(field, v, path, `${pad}  `, e)
    lines.push(...check.lines)
    if (check.when === undefined && after.length === 0) literal.push(`${field.name}: ${check.value}`)
    else {
      const set = `${out}.${field.name} = ${check.value}`
      after.push(`${pad}  ${check.when === undefined ? set : `if (${check.when}) ${set}`}`)
    }
  }
  lines.push(`${pad}  ${out} = ${literal.length === 0 ? '{}' : `{ ${literal.join(', ')} }`}`, ...after)
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
 * issues count only then; a defaulted one is always copied. Returns the checks, the parsed value,
 * and `when`: the local that says whether to copy it (undefined: always, as a required field's
 * absence is an issue and the object is then never returned).
 */
function fieldCheck(
  field: CheckField,
  v: string,
  path: string,
  pad: string,
  e: ObjectEmitter,
): { lines: string[]; value: string; when?: string } {
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
  if (field.optin === undefined) {
    lines.push(
      `${pad}if (!(${present}) && issues.length === ${before}) issues.push([\`${at}\`, 'is required'])`,
    )
    return { lines, value: inner.out }
  }
  if (field.optin === 'defaulted') return { lines, value: inner.out }
  const when = e.local()
  if (field.optout === 'optional') {
    const p = e.local()
    const copy = field.optin === 'optional' ? p : `${inner.out} !== undefined || ${p}`
    lines.push(
      `${pad}const ${p} = ${present}`,
      `${pad}let ${when} = false`,
      `${pad}if (issues.length > ${before} && !${p}) issues.length = ${before}`,
      `${pad}else ${when} = ${copy}`,
    )
  } else {
    lines.push(`${pad}const ${when} = ${inner.out} !== undefined || ${present}`)
  }
  return { lines, value: inner.out, when }
}
