/**
 * The patch check of a generated validator (emit-check.ts): each field a patch gives is checked
 * alone, by the rules of `stateParsers` (runtime/state/parse.ts): an unknown field is refused,
 * `undefined` removes an optional field and is refused for a required one (a default is not
 * "optional" there: zod would fill it in, so a patch could not leave the field alone).
 */
import type { CheckNode } from './check-model.js'
import { escapeTemplate, quote } from './check-source.js'

type ObjectNode = CheckNode & { kind: 'object' }

/** The function `fn(v, issues)`; `nodeOf` emits one field's check of the variable `f`. */
export function patchSource(
  fn: string,
  leaf: ObjectNode,
  type: string,
  r: { isObject: string; CheckIssue: string },
  nodeOf: (node: CheckNode, path: string) => { lines: string[]; out: string },
): string {
  const lines = [
    `function ${fn}(v: unknown, issues: ${r.CheckIssue}[]): ${type} {`,
    `  const o: Record<string, unknown> = {}`,
    `  if (!${r.isObject}(v)) {`,
    "    issues.push(['fields', 'must be an object of leaf fields'])",
    `    return o as ${type}`,
    '  }',
    '  for (const name of Object.keys(v)) {',
    '    const f = v[name]',
    '    switch (name) {',
  ]
  for (const field of leaf.fields) {
    const path = `fields.${escapeTemplate(field.name)}`
    lines.push(`      case ${quote(field.name)}: {`)
    if (field.optout === 'optional') {
      lines.push(
        '        if (f === undefined) {',
        `          o.${field.name} = undefined`,
        '          break',
        '        }',
      )
    } else if (field.optin !== 'optional') {
      lines.push(
        '        if (f === undefined) {',
        `          issues.push([\`${path}\`, 'is required: a patch cannot remove it (send an upsert)'])`,
        '          break',
        '        }',
      )
    }
    const { lines: body, out } = nodeOf(field.of, path)
    lines.push(...body, `        o.${field.name} = ${out}`, '        break', '      }')
  }
  lines.push(
    '      default:',
    `        issues.push([\`fields.\${name}\`, 'is not a field of the leaf'])`,
    '    }',
    '  }',
    `  return o as ${type}`,
    '}',
  )
  return lines.join('\n')
}
