import { randomUUID } from 'node:crypto'
import { GrenacheError } from '../errors.js'
import { errorMessage } from '../transport/envelope.js'
import type { ServiceContext } from './context.js'
import { ServiceError } from './service-error.js'

/** What the `onError` hook of a worker gets with the error: where it happened and its id. */
export interface WorkerErrorInfo {
  /** The correlation id the client received in its `ERR_WORKER` (`errorId`). */
  errorId: string
  service: string
  method: string
  context: ServiceContext
}

/** The default `onError`: one line on stderr per error, with its id, then the error (stack included). */
export function logWorkerError(error: unknown, info: WorkerErrorInfo): void {
  console.error(`grenache-gen: ${info.service}.${info.method} failed, error id ${info.errorId}:`, error)
}

/**
 * An error the worker itself raises and sends as it is: a refused input, an invalid output, a bad
 * `ctx`. Its message starts with its code, as it travels. Not exported from the package, so no
 * handler can throw one to bypass masking.
 */
export class Refusal extends GrenacheError {}

/** How a worker turns what a handler threw into what travels. */
export interface MaskOptions {
  declared: ReadonlySet<string>
  exposeErrors: boolean
  onError: (error: unknown, info: WorkerErrorInfo) => void
}

/**
 * What travels for `err`: a declared `ServiceError` (`CODE: message`) and the worker's own
 * refusals as they are; a `GrenacheError` `ERR_PERMISSION_DENIED` (an interceptor's refusal) as
 * `ERR_PERMISSION_DENIED: message`; anything else, an undeclared `ServiceError` included, is
 * reported to `onError` and answered `ERR_WORKER` with a correlation id, its message only with
 * `exposeErrors` (and then after the code, so it cannot pose as a declared error).
 */
export function wireError(err: unknown, context: ServiceContext, options: MaskOptions): Error {
  if (err instanceof Refusal) {
    if (err.code === 'ERR_INVALID_OUTPUT') report(err, context, options, randomUUID())
    return err
  }
  if (err instanceof ServiceError && options.declared.has(err.code)) return err
  if (err instanceof GrenacheError && err.code === 'ERR_PERMISSION_DENIED') {
    return new Refusal('ERR_PERMISSION_DENIED', `ERR_PERMISSION_DENIED: ${err.message}`)
  }
  const errorId = randomUUID()
  report(err, context, options, errorId)
  const what = options.exposeErrors
    ? (errorMessage(err) ?? String(err))
    : `${context.service}.${context.method} failed`
  return new Refusal('ERR_WORKER', `ERR_WORKER: ${what} (error id ${errorId})`, { errorId })
}

function report(err: unknown, context: ServiceContext, options: MaskOptions, errorId: string): void {
  try {
    options.onError(err, { errorId, service: context.service, method: context.method, context })
  } catch (hookError) {
    // A failing hook must not change the answer; its own failure still reaches stderr.
    logWorkerError(hookError, { errorId, service: context.service, method: context.method, context })
  }
}
