import { GrenacheError } from '../../errors.js'
import type { TransportRequestOptions } from '../types.js'

/**
 * What every client transport checks before it sends: a string key, a deadline above 0 ms (the
 * peer computes it; a number of 0 or less, or NaN, is a caller's bug) and a signal not aborted.
 * Throws the coded error; `what` names the worker (`ws 127.0.0.1:1337`).
 */
export function checkRequest(key: unknown, options: TransportRequestOptions, what: string): void {
  if (typeof key !== 'string') {
    throw new GrenacheError('ERR_INVALID_ARGUMENT', `key must be a string, got ${typeof key}`)
  }
  if (typeof options !== 'object' || options === null) {
    throw new GrenacheError('ERR_INVALID_ARGUMENT', 'options must be an object with timeoutMs')
  }
  const { timeoutMs, signal } = options
  if (typeof timeoutMs !== 'number' || !(timeoutMs > 0)) {
    throw new GrenacheError(
      'ERR_INVALID_ARGUMENT',
      `timeoutMs must be a number above 0, got ${typeof timeoutMs === 'number' ? timeoutMs : typeof timeoutMs}`,
    )
  }
  if (signal?.aborted) {
    throw new GrenacheError('ERR_ABORTED', `${what}: aborted`, { cause: signal.reason })
  }
}
