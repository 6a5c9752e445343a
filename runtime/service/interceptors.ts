import type { Metadata, ServiceContext } from './context.js'
import type { ServiceCallOptions } from './service-client.js'

/**
 * Interceptors wrap calls as Connect's do: `(next) => async (request) => …`, each around the
 * next, the first given outermost. They see the call, may change it (add metadata), refuse it
 * (throw), call `next` again (retry) or time it.
 */

/** One call as a client interceptor sees it. */
export interface ClientCallRequest {
  readonly service: string
  readonly method: string
  /** `call` resolves with the output; `map` with one settled result per worker. */
  readonly kind: 'call' | 'map'
  readonly input: unknown
  /** Sent to the worker as `ctx.metadata`; an interceptor may add to it (auth tokens, trace ids). */
  metadata: Record<string, string>
  readonly options: ServiceCallOptions
}
export type ClientCall = (request: ClientCallRequest) => Promise<unknown>
export type ClientInterceptor = (next: ClientCall) => ClientCall

/** One call as a server interceptor sees it: the input is already checked against its schema. */
export interface ServerCallRequest {
  readonly service: string
  readonly method: string
  readonly input: unknown
  readonly context: ServiceContext
  /** Shortcut to `context.metadata`. */
  readonly metadata: Metadata
}
/** Resolves with the method's output; the worker checks it against the schema after the chain. */
export type ServerCall = (request: ServerCallRequest) => Promise<unknown>
export type ServerInterceptor = (next: ServerCall) => ServerCall

/** Wraps `call` in `interceptors`, the first outermost; `call` itself when there are none. */
export function intercept<C>(call: C, interceptors: ReadonlyArray<(next: C) => C>): C {
  let chained = call
  for (let i = interceptors.length - 1; i >= 0; i--) chained = (interceptors[i] as (next: C) => C)(chained)
  return chained
}
