/**
 * Source fragments of the generated validators (emit-check.ts): the conditions under which zod's
 * checks fail, their messages, and quoting.
 */
import type { LengthChecks, NumberCheck } from './check-model.js'

/** The condition under which zod's length checks fail, `count` the code point count (lazy). */
export function lengthFails(checks: LengthChecks, v: string, count: string): string {
  const out: string[] = []
  // zod counts code points only when the UTF-16 length leaves the bound in doubt.
  if (checks.min !== undefined && checks.min > 0)
    out.push(`(${v}.length < ${checks.min * 2} && ${count} < ${checks.min})`)
  if (checks.max !== undefined) out.push(`(${v}.length > ${checks.max} && ${count} > ${checks.max})`)
  if (checks.exact !== undefined) {
    const n = checks.exact
    out.push(`!(${v}.length >= ${n} && ${v}.length <= ${n * 2} && ${count} === ${n})`)
  }
  return out.join(' || ')
}

export function lengthText(checks: LengthChecks): string {
  if (checks.exact !== undefined) return `exactly ${checks.exact}`
  return `${checks.min ?? 0} to ${checks.max ?? 'any'}`
}

const RANGES: Record<string, [number, number]> = {
  int32: [-2147483648, 2147483647],
  uint32: [0, 4294967295],
  float32: [-3.4028234663852886e38, 3.4028234663852886e38],
}

export function numberFails(check: NumberCheck, v: string): string {
  if (check.op !== 'format') {
    const fails = check.op === 'gt' ? (check.inclusive ? '<' : '<=') : check.inclusive ? '>' : '>='
    return `${v} ${fails} ${check.value}`
  }
  const range = RANGES[check.format]
  const fails = check.format.includes('int') ? [`!Number.isSafeInteger(${v})`] : []
  if (range) fails.push(`${v} < ${range[0]}`, `${v} > ${range[1]}`)
  return fails.join(' || ')
}

export function numberText(check: NumberCheck): string {
  if (check.op === 'format') return `expected a ${check.format} number`
  return `must be ${check.op === 'gt' ? '>' : '<'}${check.inclusive ? '=' : ''} ${check.value}`
}

export function join(path: string, name: string): string {
  return path === '' ? escapeTemplate(name) : `${path}.${escapeTemplate(name)}`
}

export function literal(value: string | number | boolean): string {
  return typeof value === 'string' ? quote(value) : String(value)
}

export function quote(text: string): string {
  return `'${text.replaceAll('\\', '\\\\').replaceAll("'", "\\'").replaceAll('\n', '\\n')}'`
}

export function escapeTemplate(text: string): string {
  return text.replaceAll('\\', '\\\\').replaceAll('`', '\\`').replaceAll('${', '\\${')
}

export function truncate(text: string): string {
  return text.length > 80 ? `${text.slice(0, 77)}…` : text
}

export function lowerFirst(text: string): string {
  return `${text[0]?.toLowerCase()}${text.slice(1)}`
}
