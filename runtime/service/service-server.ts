import { RpcServer, type RpcServerOptions } from '../peer/rpc-server.js'
import { type ServiceDefinition, serviceDiscovery, serviceKey, serviceWire } from '../schema.js'
import type { Reply, RpcRequest, TransportKind } from '../transport/types.js'
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
    this.#rpc = new RpcServer(rpcOptions)
    this.#rpc.handle(this.key, (request, reply) => this.#handle(request, reply), {
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

  #handle(request: RpcRequest, reply: Reply): void {
    if (this.#bare) {
      // The payload is the input of the one method.
      const [name, method] = Object.entries(this.service.methods)[0] as [string, S['methods'][string]]
      this.#parse(request, reply, name, method, request.payload)
      return
    }
    const payload = request.payload as { action?: unknown; args?: unknown } | null
    if (typeof payload !== 'object' || payload === null || typeof payload.action !== 'string') {
      reply('ERR_BAD_REQUEST: the payload is not { action, args }')
      return
    }
    const { action } = payload
    const args = payload.args ?? []
    if (!Array.isArray(args)) {
      reply(`ERR_BAD_REQUEST: the args of ${action} are not an array`)
      return
    }
    const methods = this.service.methods
    if (!Object.hasOwn(methods, action)) {
      reply(`ERR_UNKNOWN_ACTION: ${action}`)
      return
    }
    this.#parse(request, reply, action, methods[action] as S['methods'][string], args[0])
  }

  #parse(
    request: RpcRequest,
    reply: Reply,
    action: string,
    method: S['methods'][string],
    input: unknown,
  ): void {
    let parsed: Parsed
    try {
      parsed = method.input.safeParse(input) as Parsed
    } catch (err) {
      // A schema with async refinements cannot be parsed synchronously (zod throws): parse it async.
      ;(method.input.safeParseAsync(input) as Promise<Parsed>).then(
        (result) => this.#run(request, reply, action, method, result),
        () => reply(err as Error),
      )
      return
    }
    this.#run(request, reply, action, method, parsed)
  }

  #run(
    request: RpcRequest,
    reply: Reply,
    action: string,
    method: S['methods'][string],
    parsed: Parsed,
  ): void {
    if (!parsed.success) {
      reply(`ERR_INVALID_INPUT: ${describeIssue(parsed.error.issues[0])}`)
      return
    }
    const run = (this.#implementation as Record<string, (input: unknown, context: object) => unknown>)[action]
    let result: unknown
    try {
      result = run?.(parsed.data, { method: action, request })
    } catch (err) {
      reply(err as Error)
      return
    }
    if (result instanceof Promise) {
      result.then(
        (value) => this.#reply(reply, method, value),
        (err: unknown) => reply(err instanceof Error || typeof err === 'string' ? err : String(err)),
      )
    } else this.#reply(reply, method, result)
  }

  #reply(reply: Reply, method: S['methods'][string], value: unknown): void {
    if (this.#validateOutput) {
      const checked = method.output.safeParse(value) as Parsed
      if (!checked.success) {
        reply(`ERR_INVALID_OUTPUT: ${describeIssue(checked.error.issues[0])}`)
        return
      }
    }
    reply(null, value)
  }
}

/** Serves `service` with `implementation`; call `start()` on the result. */
export function serveService<S extends ServiceDefinition>(
  service: S,
  implementation: Implementation<S>,
  options: ServeOptions,
): ServiceServer<S> {
  return new ServiceServer(service, implementation, options)
}
