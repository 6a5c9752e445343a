/**
 * Straight-line validators from a state's `StateChecks`: `parse<State>Delta/Key/Leaf` that accept
 * and return what `stateParsers` (zod) does, with the same patch rules, but as inline checks with
 * no per-field reflection. Issues are collected as `[path, message]` and thrown together as
 * `ERR_INVALID_DELTA`; a `zod` node calls its own schema. Output formatted as the repository's
 * formatter writes it.
 */
import type { CheckNode, SchemaSteps, StateChecks } from './check-model.js'
import { lengthFails, lengthText, literal, lowerFirst, quote, truncate } from './check-source.js'
import { type ObjectEmitter, objectCheck } from './emit-check-object.js'
import { patchSource } from './emit-check-patch.js'
import { type ScalarNames, scalarCheck } from './emit-check-scalar.js'
import { stateParseTemplate } from './templates.js'

type ObjectNode = CheckNode & { kind: 'object' }
type UnionNode = CheckNode & { kind: 'union' }

/** Names the emitted code refers to, resolved by the caller (imports and file-level names). */
export interface CheckNames {
  /** Prefix of the file-level names of this state (`OrderBook`). */
  prefix: string
  /** The imported state definition (`orderBook`). */
  state: string
  /** Runtime imports: the helpers of runtime/state/check.ts and the issue type. */
  r: Record<
    | 'zodAt'
    | 'zodDefault'
    | 'viaZod'
    | 'prefixIssues'
    | 'invalidDelta'
    | 'takeIssues'
    | 'settleIssues'
    | 'isObject'
    | 'codePointLength'
    | 'upsertDelta'
    | 'patchDelta'
    | 'deleteDelta'
    | 'CheckIssue',
    string
  >
  /** Reserves a file-level name. */
  define(name: string): string
}

/** TypeScript types of the state's values. */
export interface CheckTypes {
  Key: string
  Leaf: string
  Patch: string
  Delta: string
}

/** The emitted entry points. */
export interface CheckEntries {
  parseDelta: string
  parseKey: string
  parseLeaf: string
}

/** Writes the validator functions of one state; `code()` returns them with their constants. */
export class CheckEmitter {
  readonly #n: CheckNames
  readonly #constants: string[] = []
  readonly #chunks: string[] = []
  readonly #schemas = new Map<string, string>()
  readonly #sets = new Map<string, string>()
  readonly #unions = new Map<string, string>()
  #temp = 0
  /** `key` or `leaf`: the root `SchemaSteps` start from. */
  #root = 'leaf'
  /** What the node checks of emit-check-scalar.ts and emit-check-object.ts call back. */
  readonly #emit: ScalarNames & ObjectEmitter

  constructor(names: CheckNames) {
    this.#n = names
    this.#emit = {
      codePointLength: names.r.codePointLength,
      isObject: names.r.isObject,
      local: () => this.#local(),
      set: (values) => this.#set(values),
      node: (node, v, path, pad) => this.#node(node, v, path, pad),
    }
  }

  code(): string {
    return [...this.#constants, ...this.#chunks].join('\n\n')
  }

  /**
   * Emits the validators of `checks` and the `parse…` entry points around them (templates.ts);
   * `where` names the state in errors (`order_book v1`).
   */
  state(checks: StateChecks, types: CheckTypes, where: string): CheckEntries {
    const { prefix, r } = this.#n
    const f = {
      key: this.#entry(`check${prefix}Key`, checks.key, types.Key, 'key'),
      leaf: this.#entry(`check${prefix}Leaf`, checks.leaf, types.Leaf, 'leaf'),
      patch: this.#patch(`check${prefix}Patch`, checks.leaf as ObjectNode, types.Patch),
    }
    const entries = {
      parseKey: this.#n.define(`parse${prefix}Key`),
      parseLeaf: this.#n.define(`parse${prefix}Leaf`),
      parseDelta: this.#n.define(`parse${prefix}Delta`),
    }
    const context = {
      f,
      n: entries,
      t: types,
      r: {
        invalidDelta: r.invalidDelta,
        takeIssues: r.takeIssues,
        settleIssues: r.settleIssues,
        upsertDelta: r.upsertDelta,
        patchDelta: r.patchDelta,
        deleteDelta: r.deleteDelta,
      },
      where,
    }
    this.#chunks.push(stateParseTemplate(context).trimEnd())
    return entries
  }

  #entry(name: string, node: CheckNode, type: string, root: 'key' | 'leaf'): string {
    const fn = this.#n.define(name)
    this.#root = root
    this.#temp = 0
    const { lines, out } = this.#node(node, 'v', root, '  ')
    this.#chunks.push(
      [
        `function ${fn}(v: unknown, issues: ${this.#n.r.CheckIssue}[]): ${type} {`,
        ...lines,
        `  return ${out} as ${type}`,
        '}',
      ].join('\n'),
    )
    return fn
  }

  /** A patch: each given field checked alone, by the rules of `stateParsers`. */
  #patch(name: string, leaf: ObjectNode, type: string): string {
    const fn = this.#n.define(name)
    this.#root = 'leaf'
    this.#temp = 0
    const { isObject, CheckIssue } = this.#n.r
    const nodeOf = (node: CheckNode, path: string) => this.#node(node, 'f', path, '        ')
    this.#chunks.push(patchSource(fn, leaf, type, { isObject, CheckIssue }, nodeOf))
    return fn
  }

  /**
   * Statements that check the value in the variable `v` and the expression of the parsed value.
   * `path` is the body of a template literal (loop indices are in scope).
   */
  #node(node: CheckNode, v: string, path: string, pad: string): { lines: string[]; out: string } {
    const { r } = this.#n
    switch (node.kind) {
      case 'zod': {
        const out = this.#local()
        const call = `${r.viaZod}(${this.#schema(node.at)}, ${v}, issues, \`${path}\`)`
        return { lines: [`${pad}const ${out} = ${call}`], out }
      }
      case 'string':
      case 'number':
      case 'boolean':
      case 'bigint':
      case 'date':
      case 'values':
        return scalarCheck(node, v, path, pad, this.#emit)
      case 'optional':
      case 'nullable': {
        const out = this.#local()
        const absent = node.kind === 'optional' ? 'undefined' : 'null'
        const inner = this.#node(node.of, v, path, `${pad}  `)
        return {
          lines: [
            `${pad}let ${out}: unknown = ${v}`,
            `${pad}if (${v} !== ${absent}) {`,
            ...inner.lines,
            `${pad}  ${out} = ${inner.out}`,
            `${pad}}`,
          ],
          out,
        }
      }
      case 'readonly': {
        const out = this.#local()
        const inner = this.#node(node.of, v, path, pad)
        return { lines: [...inner.lines, `${pad}const ${out} = Object.freeze(${inner.out})`], out }
      }
      case 'default': {
        const out = this.#local()
        const fallback = `${r.zodDefault}(${this.#schema(node.at)})`
        const inner = this.#node(node.of, v, path, `${pad}  `)
        return {
          lines: [
            `${pad}let ${out}: unknown`,
            `${pad}if (${v} === undefined) ${out} = ${fallback}`,
            `${pad}else {`,
            ...inner.lines,
            `${pad}  ${out} = ${inner.out}`,
            `${pad}  if (${out} === undefined) ${out} = ${fallback}`,
            `${pad}}`,
          ],
          out,
        }
      }
      case 'object':
        return objectCheck(node, v, path, pad, this.#emit)
      case 'array':
        return this.#array(node, v, path, pad)
      case 'union': {
        const out = this.#local()
        const before = this.#local()
        const fn = this.#union(node)
        return {
          lines: [
            `${pad}const ${before} = issues.length`,
            `${pad}const ${out} = ${fn}(${v}, issues)`,
            `${pad}if (issues.length > ${before}) ${r.prefixIssues}(issues, ${before}, \`${path}\`)`,
          ],
          out,
        }
      }
    }
  }

  #array(
    node: CheckNode & { kind: 'array' },
    v: string,
    path: string,
    pad: string,
  ): { lines: string[]; out: string } {
    const out = this.#local()
    const i = this.#local()
    const item = this.#local()
    const inner = this.#node(node.of, item, `${path}.\${${i}}`, `${pad}    `)
    const lines = [
      `${pad}let ${out}: unknown[] | undefined`,
      `${pad}if (!Array.isArray(${v})) issues.push([\`${path}\`, 'expected an array'])`,
      `${pad}else {`,
      `${pad}  ${out} = new Array(${v}.length)`,
      `${pad}  for (let ${i} = 0; ${i} < ${v}.length; ${i}++) {`,
      `${pad}    const ${item}: unknown = ${v}[${i}]`,
      ...inner.lines,
      `${pad}    ${out}[${i}] = ${inner.out}`,
      `${pad}  }`,
    ]
    const bad = lengthFails(node, v, `${v}.length`)
    if (bad)
      lines.push(
        `${pad}  if (${bad}) issues.push([\`${path}\`, ${quote(`must have ${lengthText(node)} items`)}])`,
      )
    lines.push(`${pad}}`)
    return { lines, out }
  }

  /** A function per union (shared by equal unions), its issues relative to the union. */
  #union(node: UnionNode): string {
    const id = `${this.#root}|${JSON.stringify(node)}`
    const known = this.#unions.get(id)
    if (known) return known
    const fn = this.#n.define(`check${this.#n.prefix}Union${this.#unions.size + 1}`)
    this.#unions.set(id, fn)
    const { r } = this.#n
    const saved = this.#temp
    const disc = node.discriminator
    const lines = [
      `function ${fn}(v: unknown, issues: ${r.CheckIssue}[]): unknown {`,
      `  if (!${r.isObject}(v)) {`,
      "    issues.push(['', 'expected an object'])",
      '    return undefined',
      '  }',
      `  switch (v[${quote(disc)}]) {`,
    ]
    for (const option of node.options) {
      this.#temp = 0
      const body = objectCheck(option.of, 'v', '', '      ', this.#emit)
      lines.push(
        ...option.values.map((value, i) =>
          i === option.values.length - 1 ? `    case ${literal(value)}: {` : `    case ${literal(value)}:`,
        ),
        ...body.lines,
        `      return ${body.out}`,
        '    }',
      )
    }
    const allowed = truncate(node.options.flatMap((o) => o.values.map((x) => JSON.stringify(x))).join(', '))
    lines.push(
      '  }',
      `  issues.push([${quote(disc)}, ${quote(`expected one of ${allowed}`)}])`,
      '  return undefined',
      '}',
    )
    this.#chunks.push(lines.join('\n'))
    this.#temp = saved
    return fn
  }

  /** A file-level constant holding the zod schema at `steps` from the key or the leaf. */
  #schema(steps: SchemaSteps): string {
    const id = `${this.#root}|${steps.join('\u0000')}`
    const known = this.#schemas.get(id)
    if (known) return known
    const name = this.#n.define(`${lowerFirst(this.#n.prefix)}Zod${this.#schemas.size + 1}`)
    this.#schemas.set(id, name)
    const list = `[${steps.map(quote).join(', ')}]`
    this.#constants.push(`const ${name} = ${this.#n.r.zodAt}(${this.#n.state}.${this.#root}, ${list})`)
    return name
  }

  #set(values: Array<string | number | boolean>): string {
    const text = `new Set<unknown>([${values.map(literal).join(', ')}])`
    const known = this.#sets.get(text)
    if (known) return known
    const name = this.#n.define(`${lowerFirst(this.#n.prefix)}Set${this.#sets.size + 1}`)
    this.#sets.set(text, name)
    this.#constants.push(`const ${name} = ${text}`)
    return name
  }

  #local(): string {
    return `_${++this.#temp}`
  }
}
