import type { z } from 'zod'
import type { Events, Methods, ServiceDefinition } from '../schema.js'
import type { ServiceContext } from './context.js'

type MethodsOf<S extends ServiceDefinition> = S['methods']
type EventsOf<S extends ServiceDefinition> = NonNullable<S['events']>

/** What a client sends to `method` (the input schema's input side). */
export type MethodInput<S extends ServiceDefinition, K extends keyof MethodsOf<S>> = z.input<
  MethodsOf<S>[K]['input']
>
/** What a worker's `method` receives (the input schema's output side, after parsing). */
export type ParsedInput<S extends ServiceDefinition, K extends keyof MethodsOf<S>> = z.output<
  MethodsOf<S>[K]['input']
>
/** What `method` returns, and what the client receives. */
export type MethodOutput<S extends ServiceDefinition, K extends keyof MethodsOf<S>> = z.output<
  MethodsOf<S>[K]['output']
>
/** The payload of an event. */
export type EventPayload<S extends ServiceDefinition, K extends keyof EventsOf<S>> = z.output<
  EventsOf<S>[K]['payload']
>

/** A worker: one function per method of the service. */
export type Implementation<S extends ServiceDefinition> = {
  [K in keyof MethodsOf<S>]: (
    input: ParsedInput<S, K>,
    context: ServiceContext,
  ) => MethodOutput<S, K> | Promise<MethodOutput<S, K>>
}

export type { Events, Methods, ServiceContext }
