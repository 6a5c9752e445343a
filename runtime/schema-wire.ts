/**
 * What of a zod type can travel as JSON, seen field by field: the types JSON cannot carry (refused
 * with the path of the field, `methods.m.input.items[].when`), and the checks JSON Schema cannot
 * describe (refinements, transforms), marked in the JSON Schema so the compatibility check sees
 * them and answers "cannot tell" instead of "compatible". See docs/codegen.md.
 */
import { createHash } from 'node:crypto'
import type { Fail } from './schema-rules.js'

/** The JSON Schema keyword that lists a node's opaque checks (`refine:<hash>`, `transform:<hash>`). */
export const OPAQUE_KEYWORD = 'x-grenache-opaque'

/** Why each type cannot travel as JSON, and what to write instead. */
const REFUSED: Readonly<Record<string, string>> = {
  date: 'z.date(): a Date arrives as a string; use z.iso.datetime() (or z.iso.date())',
  bigint:
    'z.bigint(): JSON numbers are doubles and JSON.stringify throws on a bigint; use z.string() or z.number().int()',
  symbol: 'z.symbol(): a symbol has no JSON form',
  function: 'z.function(): a function has no JSON form',
  promise: 'z.promise(): a promise has no JSON form (declare the value it resolves to)',
  map: 'z.map(): a Map arrives as {}; use z.record() or an array of pairs',
  set: 'z.set(): a Set arrives as {}; use z.array()',
  file: 'z.file(): a File or Blob arrives as {}; send the bytes as a base64 string',
  nan: 'z.nan(): NaN arrives as null',
  undefined: 'z.undefined(): undefined is never sent; make the field optional or remove it',
  void: 'z.void(): undefined is never sent; use z.null() or an empty object',
  custom: 'z.custom()/z.instanceof(): a function decides what it accepts, so no peer can know its JSON shape',
}

type Def = Record<string, unknown> & { type: string }

function defOf(schema: unknown): Def | undefined {
  const def = (schema as { _zod?: { def?: Def } } | null)?._zod?.def
  return def && typeof def.type === 'string' ? def : undefined
}

/** `.key`, or `["a b"]` when the key is not an identifier. */
function member(path: string, key: string): string {
  return /^[A-Za-z_$][\w$]*$/.test(key) ? `${path}.${key}` : `${path}[${JSON.stringify(key)}]`
}

/**
 * Reports (rule `json`) every place in `schema` holding a type JSON cannot carry in direction `io`,
 * by field path: `.name` a property, `[]` an array's items, `[0]` a tuple's position, `{}` a record's
 * or a catchall's values. Returns how many it reported.
 */
export function refuseUnwireable(schema: unknown, io: 'input' | 'output', path: string, fail: Fail): number {
  let count = 0
  // The types being walked: a recursive type (z.lazy, a getter) meets itself again inside.
  const walking = new Set<unknown>()
  const walk = (node: unknown, at: string): void => {
    const def = defOf(node)
    if (!def || walking.has(node)) return
    const refused = REFUSED[def.type]
    if (refused) {
      count++
      fail('json', at, `travels as JSON, which cannot carry ${refused}`)
      return
    }
    if (def.type === 'transform' && io === 'output') {
      count++
      fail('json', at, 'travels as JSON, which cannot carry a transform: its result has no known JSON shape')
    }
    walking.add(node)
    for (const [child, where] of children(def, at, io)) walk(child, where)
    walking.delete(node)
  }
  walk(schema, path)
  return count
}

/** The zod types inside one, with the path of each. */
function children(def: Def, at: string, io: 'input' | 'output'): Array<[unknown, string]> {
  switch (def.type) {
    case 'object': {
      const fields = Object.entries((def.shape ?? {}) as Record<string, unknown>)
      const out = fields.map(([key, child]): [unknown, string] => [child, member(at, key)])
      if (def.catchall !== undefined && defOf(def.catchall)?.type !== 'never')
        out.push([def.catchall, `${at}{}`])
      return out
    }
    case 'array':
      return [[def.element, `${at}[]`]]
    case 'tuple': {
      const out = (def.items as unknown[]).map((item, i): [unknown, string] => [item, `${at}[${i}]`])
      if (def.rest) out.push([def.rest, `${at}[]`])
      return out
    }
    case 'record':
      return [[def.valueType, `${at}{}`]]
    case 'union':
      return (def.options as unknown[]).map((option): [unknown, string] => [option, at])
    case 'intersection':
      return [
        [def.left, at],
        [def.right, at],
      ]
    case 'pipe':
      // The worker parses what arrives with the input side, and sends what the output side gives.
      return [[io === 'input' ? def.in : def.out, at]]
    case 'lazy':
      return [[(def.getter as () => unknown)(), at]]
    default:
      // optional, nullable, default, prefault, catch, readonly, nonoptional, success: one inner type.
      return def.innerType === undefined ? [] : [[def.innerType, at]]
  }
}

/**
 * The opaque checks of one zod node in direction `io`: each refinement (`.refine()`,
 * `.superRefine()`, `.check()` with a function), and on the input side a transform (it may reject
 * too), named by a hash of its source so that changing one is seen as well.
 */
export function opaqueChecks(schema: unknown, io: 'input' | 'output'): string[] {
  const def = defOf(schema)
  if (!def) return []
  const out: string[] = []
  for (const check of (def.checks ?? []) as unknown[]) {
    const checkDef = (check as { _zod?: { def?: { check?: string; fn?: unknown } } })._zod?.def
    if (checkDef?.check === 'custom') out.push(`refine:${sourceHash(checkDef.fn)}`)
  }
  if (io === 'input' && def.type === 'transform') out.push(`transform:${sourceHash(def.transform)}`)
  // An input's pipe is described by its input side only, while its output side may reject too.
  if (io === 'input' && def.type === 'pipe') {
    const after = defOf(def.out)
    if (after?.type === 'transform') out.push(`transform:${sourceHash(after.transform)}`)
    else if (after) out.push(`pipe:${after.type}`)
  }
  return out
}

/** 12 hex digits of the SHA-256 of a function's source without whitespace (reformatting is no change). */
function sourceHash(fn: unknown): string {
  const source = typeof fn === 'function' ? fn.toString().replace(/\s+/g, '') : ''
  return createHash('sha256').update(source).digest('hex').slice(0, 12)
}
