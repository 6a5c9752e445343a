/** A rule a service or state breaks: which one, where (`methods.fib.input`, `leaf.price`), and why. */
export interface SchemaProblem {
  rule: string
  path: string
  message: string
}

/** Reports a broken rule. */
export type Fail = (rule: string, path: string, message: string) => void

/** The rules every definition's name and major version follow (services and states alike). */
export function checkNameAndVersion(definition: { name?: unknown; version?: unknown }, fail: Fail): void {
  const { name, version } = definition
  if (typeof name !== 'string' || !/^[a-z][a-zA-Z0-9_]*$/.test(name)) {
    fail('name', 'name', `must be lower camel or snake case letters and digits, got ${JSON.stringify(name)}`)
  }
  if (typeof version !== 'number' || !Number.isInteger(version) || version < 1) {
    fail('version', 'version', `must be a positive integer, got ${JSON.stringify(version)}`)
  }
}

/**
 * Why `value`, which is not a zod 4 type, is refused: a zod 3 type is named as such, since "must be
 * a zod type" would puzzle whoever wrote it with `z`. Undefined for anything else (the caller's rule
 * says what).
 */
export function zod3Problem(value: unknown): string | undefined {
  if (typeof value !== 'object' || value === null || '_zod' in value) return undefined
  const def = (value as { _def?: { typeName?: unknown } })._def
  if (typeof def?.typeName !== 'string' || !def.typeName.startsWith('Zod')) return undefined
  return `is a zod 3 type; ${NEEDS_ZOD_4}`
}

const NEEDS_ZOD_4 = 'grenache-gen needs zod ^4.0.0 (npm install zod@^4.0.0)'

/**
 * What is wrong with the zod grenache-gen itself loads (`zod` is a peer dependency: the app's copy),
 * given as its module namespace: zod 3 has no `toJSONSchema`, and every schema check would fail
 * inside zod. Undefined for zod 4.
 */
export function zodModuleProblem(zod: object): string | undefined {
  return typeof (zod as { toJSONSchema?: unknown }).toJSONSchema === 'function'
    ? undefined
    : `the zod loaded from the app is not zod 4; ${NEEDS_ZOD_4}`
}
