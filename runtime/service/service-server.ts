import { type Action, actionHandler, replyWith } from '../peer/action-handler.js'
import { type Handler, RpcServer, type RpcServerOptions } from '../peer/rpc-server.js'
import { type ServiceDefinition, serviceDiscovery, serviceKey, serviceWire } from '../schema.js'
import type { RpcRequest, TransportKind } from '../transport/types.js'
import type { CallOptions } from '../util/deadline.js'
import { assertService } from './check.js'
import { describeIssue } from './service-client.js'
import type { Implementation } from './types.js'

/** Options of `serveService`: those of an `RpcServer`, and output checking. */
export type ServeOptions = RpcServerOptions & {
  /** Check each result with the method's output schema before replying (catches worker bugs). Default false. */
  validateOutput?: boolean
  /** For a service with a legacy key on several transport kinds: the one to announce it on. */
  plainOn?: TransportKind
}

type Parsed =
  | { success: true; data: unknown }
  | { success: false; error: { issues: ReadonlyArray<{ path: PropertyKey[]; message: string }> } }

/**
 * Serves one service: dispatches `{ action, args: [input] }`, checks the input with the method's
 * zod schema (an invalid one is answered `ERR_INVALID_INPUT: <field>: <rule>`), calls the worker's
 * function and replies with what it returns or throws. Generated `serveX` functions call this.
 */
export class ServiceServer<S extends ServiceDefinition = ServiceDefinition> {
  readonly service: S
  readonly key: string
  readonly #rpc: RpcServer
  readonly #implementation: Implementation<S>
  readonly #validateOutput: boolean
  readonly #bare: boolean

  constructor(service: S, implementation: Implementation<S>, options: ServeOptions) {
    assertService(service)
    this.service = service
    this.key = serviceKey(service)
    this.#implementation = implementation
    const { validateOutput = false, plainOn, ...rpcOptions } = options
    this.#validateOutput = validateOutput
    this.#bare = serviceWire(service) === 'bare'
    for (const name of Object.keys(service.methods)) {
      if (typeof (implementation as Record<string, unknown>)[name] !== 'function') {
        throw new TypeError(`the worker of ${service.name} has no function for method ${name}`)
      }
    }
    const actions: Record<string, Action> = {}
    for (const [name, method] of Object.entries(service.methods) as Array<[string, S['methods'][string]]>) {
      actions[name] = (args, request) => this.#call(name, method, args[0], request)
    }
    // A bare service's payload is the input of its one method, not { action, args }.
    const [bare] = Object.values(actions) as [Action]
    const handler: Handler = this.#bare
      ? (request, reply) => replyWith(reply, bare, [request.payload], request)
      : actionHandler(actions)
    this.#rpc = new RpcServer(rpcOptions)
    this.#rpc.handle(this.key, handler, {
      discovery: serviceDiscovery(service),
      ...(plainOn ? { transport: plainOn } : {}),
    })
  }

  /** Listens and announces; resolves with the bound ports. */
  start(options?: CallOptions): Promise<Array<{ transport: TransportKind; port: number }>> {
    return this.#rpc.start(options)
  }

  get ports(): Array<{ transport: TransportKind; port: number }> {
    return this.#rpc.ports
  }

  close(): Promise<void> {
    return this.#rpc.close()
  }

  /** The method's input parsed, the worker's function run, its output checked when asked. */
  #call(name: string, method: S['methods'][string], input: unknown, request: RpcRequest): unknown {
    let parsed: Parsed
    try {
      parsed = method.input.safeParse(input) as Parsed
    } catch {
      // A schema with async refinements cannot be parsed synchronously (zod throws): parse it async.
      return (method.input.safeParseAsync(input) as Promise<Parsed>).then((result) =>
        this.#run(name, method, result, request),
      )
    }
    return this.#run(name, method, parsed, request)
  }

  #run(name: string, method: S['methods'][string], parsed: Parsed, request: RpcRequest): unknown {
    if (!parsed.success) throw new Error(`ERR_INVALID_INPUT: ${describeIssue(parsed.error.issues[0])}`)
    const run = (this.#implementation as Record<string, (input: unknown, context: object) => unknown>)[name]
    const result = run?.(parsed.data, { method: name, request })
    if (!this.#validateOutput) return result
    return result instanceof Promise
      ? result.then((value) => checkOutput(method, value))
      : checkOutput(method, result)
  }
}

function checkOutput(method: ServiceDefinition['methods'][string], value: unknown): unknown {
  const checked = method.output.safeParse(value) as Parsed
  if (!checked.success) throw new Error(`ERR_INVALID_OUTPUT: ${describeIssue(checked.error.issues[0])}`)
  return value
}

/** Serves `service` with `implementation`; call `start()` on the result. */
export function serveService<S extends ServiceDefinition>(
  service: S,
  implementation: Implementation<S>,
  options: ServeOptions,
): ServiceServer<S> {
  return new ServiceServer(service, implementation, options)
}
