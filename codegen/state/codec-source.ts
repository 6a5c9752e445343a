/**
 * Source fragments of the generated codecs (emit-codec.ts): range checks and quoting, so a path or
 * a value from a schema cannot break out of the string or template it is written into.
 */
import type { WireType } from '../model.js'
import { quote } from './check-source.js'

// The same escaping as the generated validators: one copy of it.
export { escapeTemplate, literal, quote, truncate } from './check-source.js'

/** The conditions under which a decoded number is out of the layout's bounds. */
export function numberChecks(
  type: WireType & {
    minimum?: number
    maximum?: number
    exclusiveMinimum?: number
    exclusiveMaximum?: number
  },
  x: string,
): string[] {
  const checks: string[] = []
  if (type.minimum !== undefined) checks.push(`${x} < ${type.minimum}`)
  if (type.maximum !== undefined) checks.push(`${x} > ${type.maximum}`)
  if (type.exclusiveMinimum !== undefined) checks.push(`${x} <= ${type.exclusiveMinimum}`)
  if (type.exclusiveMaximum !== undefined) checks.push(`${x} >= ${type.exclusiveMaximum}`)
  return checks
}

export function escapeQuote(text: string): string {
  return quote(text).slice(1, -1)
}

/** The absent values a presence tag counts, in tag order: the value's own tag comes after them. */
export type Absent = readonly ('undefined' | 'null')[]
export const ABSENT_UNDEFINED: Absent = ['undefined']
export const ABSENT_NULL: Absent = ['null']
export const ABSENT_BOTH: Absent = ['undefined', 'null']
