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
