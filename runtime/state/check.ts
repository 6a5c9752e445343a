/**
 * Helpers of the generated delta validators (codegen/state/emit-check.ts): they mirror zod's parse
 * in straight-line code and come here for what they share. An issue is `[path, message]`, the
 * path dotted as `stateParsers` writes it (`leaf.tags.2`).
 */
import { type $ZodType, safeParse, util } from 'zod/v4/core'
import { GrenacheError } from '../errors.js'

export type CheckIssue = [path: string, message: string]

/** zod's length of a string: code points, a lone surrogate counting as one. */
export const codePointLength: (text: string) => number = util.codePointLength

/** The schema reached from `root` by reading `steps` one after another (resolved once, at load). */
export function zodAt(root: unknown, steps: readonly string[]): $ZodType {
  let at = root as Record<string, unknown>
  for (const step of steps) at = at[step] as Record<string, unknown>
  return at as unknown as $ZodType
}

/** What zod's `.default()` at `schema` gives for `undefined` (a fresh copy, as zod makes it). */
export function zodDefault(schema: $ZodType): unknown {
  return (schema._zod.def as { defaultValue?: unknown }).defaultValue
}

/**
 * Parses `value` with a node's own zod schema, for checks the generator does not mirror
 * (refinements, formats, catch, records): its output, or its issues under `path`.
 */
export function viaZod(schema: $ZodType, value: unknown, issues: CheckIssue[], path: string): unknown {
  const parsed = safeParse(schema, value)
  if (parsed.success) return parsed.data
  for (const issue of parsed.error.issues) {
    issues.push([[path, ...issue.path.map(String)].filter((p) => p !== '').join('.'), issue.message])
  }
  return undefined
}

/** Puts `path` in front of the issues from `from` on (those of a shared function). */
export function prefixIssues(issues: CheckIssue[], from: number, path: string): void {
  for (let i = from; i < issues.length; i++) {
    const issue = issues[i] as CheckIssue
    issue[0] = issue[0] === '' ? path : `${path}.${issue[0]}`
  }
}

/** `ERR_INVALID_DELTA` listing every issue, as `stateParsers` words its errors. */
export function invalidDelta(where: string, issues: CheckIssue[]): GrenacheError {
  const text = issues.map(([path, message]) => (path === '' ? message : `${path}: ${message}`)).join('; ')
  return new GrenacheError('ERR_INVALID_DELTA', `${where}: ${text}`)
}

/** The issues list a passed check leaves empty, kept for the next check: one object less per delta. */
let spareIssues: CheckIssue[] | undefined

/**
 * An empty issues list for a check (generated `parse…` functions): the spare one when there is one
 * (a check within a check, from a getter, gets a new one).
 */
export function takeIssues(): CheckIssue[] {
  const issues = spareIssues ?? []
  spareIssues = undefined
  return issues
}

/** Throws `ERR_INVALID_DELTA` when `issues` has any; the list, emptied, is kept for the next check. */
export function settleIssues(where: string, issues: CheckIssue[]): void {
  if (issues.length === 0) {
    spareIssues = issues
    return
  }
  const error = invalidDelta(where, issues)
  issues.length = 0
  spareIssues = issues
  throw error
}

/** zod's object test: an object, not null, not an array. */
export function isObject(value: unknown): value is Record<string, unknown> {
  return typeof value === 'object' && value !== null && !Array.isArray(value)
}
