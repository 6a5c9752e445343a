import { GrenacheError } from '../errors.js'

/** The longest delay `setTimeout` honours (about 24.8 days). */
export const MAX_TIMER_MS = 2 ** 31 - 1

/**
 * `setTimeout(fn, ms, ...args)`, except that a delay no timer can hold (over `MAX_TIMER_MS`, or
 * NaN) gets no timer at all: Node would fire it after 1 ms, and a deadline that far away is none.
 * The one place every deadline of the runtime starts its timer.
 */
export function startTimer<A extends unknown[]>(
  ms: number,
  fn: (...args: A) => void,
  ...args: A
): NodeJS.Timeout | undefined {
  return ms <= MAX_TIMER_MS ? setTimeout(fn, ms, ...args) : undefined
}

/** The last argument of every network call. */
export interface CallOptions {
  /** Aborts the call; it then rejects with `ERR_ABORTED`. */
  signal?: AbortSignal | undefined
  /** Deadline of the whole call in milliseconds (retries included); it then rejects with `ERR_TIMEOUT`. */
  timeoutMs?: number | undefined
}

/**
 * One call's deadline: a signal that aborts when the caller's signal aborts or the time is up,
 * with a `GrenacheError` as its reason. `dispose()` must be called when the call settles, so that
 * no timer or listener outlives it.
 */
export interface Deadline {
  readonly signal: AbortSignal
  /** The error the call should reject with now that the signal has aborted. */
  reason(): GrenacheError
  dispose(): void
}

/** Creates the deadline of a call; `what` names the call in the timeout message. */
export function createDeadline(
  opts: CallOptions | undefined,
  defaultTimeoutMs: number,
  what: string,
): Deadline {
  const timeoutMs = opts?.timeoutMs ?? defaultTimeoutMs
  checkTimeout(timeoutMs)
  const controller = new AbortController()
  const parent = opts?.signal
  let timer: NodeJS.Timeout | undefined
  const onParentAbort = (): void => {
    controller.abort(new GrenacheError('ERR_ABORTED', `${what}: aborted`, { cause: parent?.reason }))
  }
  if (parent?.aborted) onParentAbort()
  else {
    parent?.addEventListener('abort', onParentAbort, { once: true })
    timer = startTimer(timeoutMs, () => {
      controller.abort(new GrenacheError('ERR_TIMEOUT', `${what}: no answer within ${timeoutMs} ms`))
    })
  }
  return {
    signal: controller.signal,
    reason: () => controller.signal.reason as GrenacheError,
    dispose: () => {
      if (timer !== undefined) clearTimeout(timer)
      parent?.removeEventListener('abort', onParentAbort)
    },
  }
}

function checkTimeout(timeoutMs: number): void {
  if (typeof timeoutMs !== 'number' || Number.isNaN(timeoutMs) || timeoutMs <= 0) {
    throw new GrenacheError(
      'ERR_INVALID_ARGUMENT',
      `timeoutMs must be a number above 0, got ${String(timeoutMs)}`,
    )
  }
}

/** Resolves after `ms`, or rejects with the deadline's reason as soon as its signal aborts. */
export function sleep(ms: number, signal: AbortSignal): Promise<void> {
  return new Promise((resolve, reject) => {
    if (signal.aborted) return reject(signal.reason)
    const onAbort = (): void => {
      clearTimeout(timer)
      reject(signal.reason)
    }
    const timer = setTimeout(() => {
      signal.removeEventListener('abort', onAbort)
      resolve()
    }, ms)
    signal.addEventListener('abort', onAbort, { once: true })
  })
}

/** Settles with `promise`, or rejects with the signal's reason as soon as it aborts. */
export function raceSignal<T>(promise: Promise<T>, signal: AbortSignal): Promise<T> {
  if (signal.aborted) return Promise.reject(signal.reason)
  return new Promise<T>((resolve, reject) => {
    const onAbort = (): void => reject(signal.reason)
    signal.addEventListener('abort', onAbort, { once: true })
    promise.then(
      (value) => {
        signal.removeEventListener('abort', onAbort)
        resolve(value)
      },
      (err: unknown) => {
        signal.removeEventListener('abort', onAbort)
        reject(err)
      },
    )
  })
}
