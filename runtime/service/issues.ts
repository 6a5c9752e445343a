import { type ErrorCode, GrenacheError, type ValidationIssue } from '../errors.js'

/** Issues kept on an error (and carried in a reply): enough to fix a call, bounded for the wire. */
export const MAX_ISSUES = 100

/** zod's issues as plain `{ path, message, code }` (symbol keys as their text), at most `MAX_ISSUES`. */
export function toIssues(
  issues: ReadonlyArray<{ path: PropertyKey[]; message: string; code?: string }>,
): ValidationIssue[] {
  return issues.slice(0, MAX_ISSUES).map((issue) => ({
    path: issue.path.map((key) => (typeof key === 'number' ? key : String(key))),
    message: issue.message,
    code: issue.code ?? 'custom',
  }))
}

/** `n: Too big: expected number to be <=1476`, or `(input): …` for the value itself. */
export function describeIssue(issue: { path: PropertyKey[]; message: string } | undefined): string {
  if (!issue) return 'invalid'
  const path = issue.path.map(String).join('.')
  return `${path || '(input)'}: ${issue.message}`
}

/** Every issue in one readable line: `a: …; items.0.qty: …`. */
export function describeIssues(issues: ReadonlyArray<{ path: PropertyKey[]; message: string }>): string {
  return issues.length === 0 ? 'invalid' : issues.map(describeIssue).join('; ')
}

/**
 * The error of a value a schema refused: `ERR_INVALID_INPUT`/`ERR_INVALID_OUTPUT`, a message naming
 * the method and listing every issue, and the issues themselves. The same shape whether the client
 * or the worker found them (the client lifts the worker's answer, see `liftRemote`).
 */
export function validationError(
  code: 'ERR_INVALID_INPUT' | 'ERR_INVALID_OUTPUT',
  method: string,
  zodIssues: ReadonlyArray<{ path: PropertyKey[]; message: string; code?: string }>,
): GrenacheError {
  const issues = toIssues(zodIssues)
  return new GrenacheError(code, `${method}: ${describeIssues(issues)}`, { issues })
}

/** The runtime codes a worker answers that a `ServiceClient` raises as its own code (not `ERR_REMOTE`). */
const LIFTED = new Set<ErrorCode>([
  'ERR_INVALID_INPUT',
  'ERR_INVALID_OUTPUT',
  'ERR_WORKER',
  'ERR_PERMISSION_DENIED',
])

/**
 * A worker's `ERR_INVALID_INPUT: a: …` (an `ERR_REMOTE`) as the error a local check of `where`
 * (`calc.divide`) raises: code `ERR_INVALID_INPUT`, message `calc.divide: a: …`, the same
 * `issues`, the reply as `cause`. Likewise `ERR_INVALID_OUTPUT`, and `ERR_WORKER` (with its
 * `errorId`) and `ERR_PERMISSION_DENIED` with the worker's text. Anything else is returned as is.
 */
export function liftRemote(err: unknown, where: string): unknown {
  if (!(err instanceof GrenacheError) || err.code !== 'ERR_REMOTE') return err
  const code = err.remoteCode as ErrorCode | undefined
  if (code === undefined || !LIFTED.has(code)) return err
  const text = err.message.slice(code.length).replace(/^:\s*/, '')
  const validation = code === 'ERR_INVALID_INPUT' || code === 'ERR_INVALID_OUTPUT'
  const message = validation ? `${where}: ${text || 'invalid'}` : text || undefined
  return new GrenacheError(code, message, { cause: err, issues: err.issues, errorId: err.errorId })
}
