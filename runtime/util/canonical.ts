/** JSON with object keys sorted at every level: the same value always gives the same text. */
export function canonical(value: unknown): string {
  return JSON.stringify(sortKeys(value))
}

/** `value` with object keys sorted at every level. */
export function sortKeys(value: unknown): unknown {
  if (Array.isArray(value)) return value.map(sortKeys)
  if (typeof value !== 'object' || value === null) return value
  return Object.fromEntries(
    Object.keys(value)
      .sort()
      .map((key) => [key, sortKeys((value as Record<string, unknown>)[key])]),
  )
}
