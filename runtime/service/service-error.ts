import { GrenacheError } from '../errors.js'

/**
 * An error a service declares (`errors: { TOO_SLOW: '…' }`): throw it from a worker method and it
 * travels as `TOO_SLOW: <message>`; the client receives `ERR_REMOTE` with `remoteCode: 'TOO_SLOW'`.
 * Only a `ServiceError` whose code the service declares travels with its code: anything else a
 * worker throws (a plain `Error('TOO_SLOW: …')`, a `ServiceError` with an undeclared code) is
 * masked as `ERR_WORKER`. Generated files export a subclass per service (`FibonacciError`) whose
 * constructor accepts only the declared codes, so a typo does not compile.
 */
export class ServiceError<C extends string = string> extends Error {
  override readonly name = 'ServiceError'
  readonly code: C

  constructor(code: C, message?: string) {
    super(message ? `${code}: ${message}` : code)
    this.code = code
  }
}

/**
 * Whether `error` is a worker's answer with one of the declared `codes` (and `code`, when given):
 * what generated `isXError` functions check.
 */
export function isDeclaredError<C extends string>(
  error: unknown,
  codes: readonly C[],
  code?: C,
): error is GrenacheError & { readonly remoteCode: C } {
  if (!(error instanceof GrenacheError) || error.code !== 'ERR_REMOTE') return false
  const remote = error.remoteCode as C | undefined
  return remote !== undefined && codes.includes(remote) && (code === undefined || remote === code)
}
