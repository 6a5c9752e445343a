/**
 * The checks of the scalar nodes of a generated validator (emit-check.ts): string, number,
 * boolean, bigint, date and values, each a check of the value itself with no nested node.
 */
import type { CheckNode } from './check-model.js'
import { lengthFails, lengthText, literal, numberFails, numberText, quote, truncate } from './check-source.js'

/** A node with no nested node. */
export type ScalarNode = CheckNode & { kind: 'string' | 'number' | 'boolean' | 'bigint' | 'date' | 'values' }

/** What a scalar check refers to, resolved by `CheckEmitter`. */
export interface ScalarNames {
  /** The runtime's `codePointLength`, as imported. */
  codePointLength: string
  /** The file-level constant holding a set of `values` (shared by equal sets). */
  set(values: Array<string | number | boolean>): string
}

/**
 * Statements that check the value in the variable `v`, which is also the parsed value.
 * `path` is the body of a template literal (loop indices are in scope).
 */
export function scalarCheck(
  node: ScalarNode,
  v: string,
  path: string,
  pad: string,
  n: ScalarNames,
): { lines: string[]; out: string } {
  const fail = (message: string) => `issues.push([\`${path}\`, ${quote(message)}])`
  switch (node.kind) {
    case 'string': {
      const lines = [`${pad}if (typeof ${v} !== 'string') ${fail('expected a string')}`]
      const bad = lengthFails(node, v, `${n.codePointLength}(${v})`)
      if (bad) lines.push(`${pad}else if (${bad}) ${fail(`must be ${lengthText(node)} characters long`)}`)
      return { lines, out: v }
    }
    case 'number': {
      const lines = [
        `${pad}if (typeof ${v} !== 'number' || !Number.isFinite(${v})) ${fail('expected a finite number')}`,
      ]
      const rules = node.checks.flatMap((check) => {
        const bad = numberFails(check, v)
        return bad ? [`${pad}  if (${bad}) ${fail(numberText(check))}`] : []
      })
      // Every failing rule is named, as zod names them.
      if (rules.length > 0) lines.push(`${pad}else {`, ...rules, `${pad}}`)
      return { lines, out: v }
    }
    case 'boolean':
    case 'bigint':
      return {
        lines: [`${pad}if (typeof ${v} !== '${node.kind}') ${fail(`expected a ${node.kind}`)}`],
        out: v,
      }
    case 'date':
      return {
        lines: [
          `${pad}if (!(${v} instanceof Date) || Number.isNaN(${v}.getTime())) ${fail('expected a valid Date')}`,
        ],
        out: v,
      }
    case 'values': {
      const allowed = truncate(node.values.map((x) => JSON.stringify(x)).join(', '))
      const bad =
        node.values.length <= 8
          ? node.values.map((x) => `${v} !== ${literal(x)}`).join(' && ') || 'true'
          : `!${n.set(node.values)}.has(${v} as never)`
      return { lines: [`${pad}if (${bad}) ${fail(`expected one of ${allowed}`)}`], out: v }
    }
  }
}
