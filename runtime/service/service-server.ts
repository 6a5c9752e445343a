import { type Action, actionHandler, replyWith } from '../peer/action-handler.js'
import { type Handler, RpcServer, type RpcServerOptions } from '../peer/rpc-server.js'
import { type ServiceDefinition, serviceDiscovery, serviceKey, serviceWire } from '../schema.js'
import type { RpcRequest, TransportKind } from '../transport/types.js'
import type { CallOptions } from '../util/deadline.js'
import { checkOption } from '../util/validate.js'
import { assertService } from './check.js'
import { CallContext } from './context.js'
import { intercept, type ServerCall, type ServerInterceptor } from './interceptors.js'
import { describeIssues, toIssues } from './issues.js'
import type { Implementation } from './types.js'
import {
  logWorkerError,
  type MaskOptions,
  Refusal,
  type WorkerErrorInfo,
  wireError,
} from './worker-errors.js'

/** Options of `serveService`: those of an `RpcServer`, and how calls are checked and answered. */
export type ServeOptions = RpcServerOptions & {
  /**
   * Check each result with the method's output schema and send the parsed value (unknown fields
   * stripped, `.default()`s applied); a result that fails is answered `ERR_INVALID_OUTPUT` and
   * reported to `onError`. Default true; `false` sends what the worker returns, unchecked.
   */
  validateOutput?: boolean
  /**
   * Send the message of an undeclared error to the caller (after `ERR_WORKER: `). Default false:
   * the caller gets only `ERR_WORKER` and a correlation id. For development only: messages leak
   * paths, queries and secrets.
   */
  exposeErrors?: boolean
  /**
   * Receives every undeclared error a method (or interceptor) throws, and every invalid output, with
   * the correlation id the caller got. Default: one line on stderr per error, with its id.
   */
  onError?: (error: unknown, info: WorkerErrorInfo) => void
  /** Wrap every call, outermost first, after its input is checked (auth, tracing, metrics). */
  interceptors?: readonly ServerInterceptor[]
  /** For a service with a legacy key on several transport kinds: the one to announce it on. */
  plainOn?: TransportKind
}

type Method = ServiceDefinition['methods'][string]
type Schema = Method['input']
type Parsed =
  | { success: true; data: unknown }
  | {
      success: false
      error: { issues: ReadonlyArray<{ path: PropertyKey[]; message: string; code?: string }> }
    }
type Run = (input: unknown, context: CallContext) => unknown

/**
 * Serves one service: dispatches `{ action, args: [input], ctx? }`, checks the input with the
 * method's zod schema (an invalid one is answered `ERR_INVALID_INPUT` listing every issue), runs the
 * interceptors and the worker's function with a context (deadline, signal, peer, metadata), checks
 * the output, and answers with the parsed output, a declared `ServiceError`, or a masked
 * `ERR_WORKER`. Generated `serveX` functions call this.
 */
export class ServiceServer<S extends ServiceDefinition = ServiceDefinition> {
  readonly service: S
  readonly key: string
  readonly #rpc: RpcServer
  readonly #validateOutput: boolean
  readonly #mask: MaskOptions
  readonly #bare: boolean

  constructor(service: S, implementation: Implementation<S>, options: ServeOptions) {
    assertService(service)
    this.service = service
    this.key = serviceKey(service)
    const {
      validateOutput = true,
      exposeErrors = false,
      onError,
      interceptors = [],
      plainOn,
      ...rpcOptions
    } = options
    this.#validateOutput = checkOption.boolean('validateOutput', validateOutput)
    this.#bare = serviceWire(service) === 'bare'
    checkOption.boolean('exposeErrors', exposeErrors)
    if (onError !== undefined && typeof onError !== 'function')
      checkOption.fail('onError', 'must be a function', onError)
    if (!Array.isArray(interceptors) || interceptors.some((i) => typeof i !== 'function')) {
      checkOption.fail('interceptors', 'must be an array of functions', interceptors)
    }
    const declared = Object.values(service.methods).flatMap((m) => Object.keys(m.errors ?? {}))
    this.#mask = { declared: new Set(declared), exposeErrors, onError: onError ?? logWorkerError }
    const actions: Record<string, Action> = {}
    for (const [name, method] of Object.entries(service.methods)) {
      const fn = (implementation as Record<string, unknown>)[name]
      if (typeof fn !== 'function')
        throw new TypeError(`the worker of ${service.name} has no function for method ${name}`)
      const handler = fn.bind(implementation) as (input: unknown, context: CallContext) => unknown
      const run: Run =
        interceptors.length === 0
          ? handler
          : chain(
              intercept<ServerCall>(async (r) => handler(r.input, r.context as CallContext), interceptors),
              service.name,
              name,
            )
      actions[name] = (args, request) => this.#call(name, method, run, args[0], request)
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

  /** One call: its context, the pipeline, and what travels when it throws. Sync when all of it is. */
  #call(name: string, method: Method, run: Run, input: unknown, request: RpcRequest): unknown {
    // A bare service's payload is the input itself: no ctx in it.
    const ctx = this.#bare ? undefined : (request.payload as { ctx?: unknown }).ctx
    const context = new CallContext(this.service.name, name, request, ctx)
    let result: unknown
    try {
      result = this.#pipeline(method, run, input, context)
    } catch (err) {
      context.finish()
      throw wireError(err, context, this.#mask)
    }
    if (!(result instanceof Promise)) {
      context.finish()
      return result
    }
    return result.then(
      (value) => {
        context.finish()
        return value
      },
      (err: unknown) => {
        context.finish()
        throw wireError(err, context, this.#mask)
      },
    )
  }

  // Input parsed, `run` called with the parsed input, output parsed when asked. No closures on the
  // sync path: it is every call's, and the typed-layer bench sees each allocation.
  #pipeline(method: Method, run: Run, input: unknown, context: CallContext): unknown {
    const parsed = parse(method.input, input)
    if (parsed instanceof Promise) return parsed.then((p) => this.#afterInput(method, run, p, context))
    return this.#afterInput(method, run, parsed, context)
  }

  #afterInput(method: Method, run: Run, parsed: Parsed, context: CallContext): unknown {
    if (!parsed.success) throw refusal('ERR_INVALID_INPUT', parsed)
    const result = run(parsed.data, context)
    if (!this.#validateOutput) return result
    if (result instanceof Promise) return result.then((value) => checkOutput(method, value))
    return checkOutput(method, result)
  }
}

/** The parsed output (unknown fields stripped, defaults applied), or `ERR_INVALID_OUTPUT`. */
function checkOutput(method: Method, value: unknown): unknown {
  const out = parse(method.output, value)
  return out instanceof Promise ? out.then(outputOf) : outputOf(out)
}

function outputOf(out: Parsed): unknown {
  if (!out.success) throw refusal('ERR_INVALID_OUTPUT', out)
  return out.data
}

/** Parses synchronously, or asynchronously when the schema has async refinements (zod throws then). */
function parse(schema: Schema, value: unknown): Parsed | Promise<Parsed> {
  try {
    return schema.safeParse(value) as Parsed
  } catch {
    return schema.safeParseAsync(value) as Promise<Parsed>
  }
}

/** `ERR_INVALID_INPUT: a: …; b: …` with every issue: the text reference clients have always got. */
function refusal(code: 'ERR_INVALID_INPUT' | 'ERR_INVALID_OUTPUT', parsed: Parsed): Refusal {
  const issues = toIssues(parsed.success ? [] : parsed.error.issues)
  return new Refusal(code, `${code}: ${describeIssues(issues)}`, { issues })
}

/** A `ServerCall` chain as a `Run`: the request the interceptors see, built per call. */
function chain(call: ServerCall, service: string, method: string): Run {
  return (input, context) => call({ service, method, input, context, metadata: context.metadata })
}

/** Serves `service` with `implementation`; call `start()` on the result. */
export function serveService<S extends ServiceDefinition>(
  service: S,
  implementation: Implementation<S>,
  options: ServeOptions,
): ServiceServer<S> {
  return new ServiceServer(service, implementation, options)
}
