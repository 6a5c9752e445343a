import { GrenacheError } from '../errors.js'
import type { MapResult } from '../peer/rpc-client.js'
import { RpcClient, type RpcClientOptions } from '../peer/rpc-client.js'
import { type ServiceDefinition, serviceDiscovery, serviceKey, serviceWire } from '../schema.js'
import type { CallOptions } from '../util/deadline.js'
import { checkArgument, checkOption } from '../util/validate.js'
import { assertService } from './check.js'
import { type Metadata, metadataProblem, type WireContext } from './context.js'
import { type ClientCall, type ClientCallRequest, type ClientInterceptor, intercept } from './interceptors.js'
import { liftRemote, validationError } from './issues.js'

export { describeIssue } from './issues.js'

const EMPTY: Metadata = Object.freeze({})

/** Options of a service client: those of an `RpcClient`, less the discovery, which the service decides. */
export type ServiceClientOptions = Omit<RpcClientOptions, 'discovery'> & {
  /** Check each input with the method's schema before sending it (the worker checks it anyway). Default false. */
  validateInput?: boolean
  /** Metadata sent with every call (merged under each call's own `metadata`). Default none. */
  metadata?: Metadata
  /** Wrap every call and map, outermost first (auth, tracing, retries). */
  interceptors?: readonly ClientInterceptor[]
}

/** Options of one call. */
export interface ServiceCallOptions extends CallOptions {
  /** Other workers to try after a worker failed (this call only). */
  retry?: number
  /** Sent to the worker (`context.metadata`): tracing ids, auth tokens. String values only. */
  metadata?: Metadata
}

/** Options of one `map` call. */
export interface ServiceMapOptions extends CallOptions {
  /** Call at most this many workers, chosen at random. */
  limit?: number
  /** Sent to every worker (`context.metadata`). */
  metadata?: Metadata
}

/**
 * Calls the methods of one service: `{ action, args: [input], ctx }` under the service key, where
 * `ctx` carries the caller's budget (`timeoutMs`) and metadata (reference workers ignore it),
 * retried on another worker after a dropped connection only when the method is `idempotent`. A
 * worker's `ERR_INVALID_INPUT`, `ERR_INVALID_OUTPUT`, `ERR_WORKER` and `ERR_PERMISSION_DENIED`
 * reject with that code, as the client's own check would; declared errors are `ERR_REMOTE` with
 * `remoteCode`. Generated clients are typed wrappers over this.
 */
export class ServiceClient<S extends ServiceDefinition = ServiceDefinition> {
  readonly service: S
  readonly key: string
  readonly #rpc: RpcClient
  readonly #validateInput: boolean
  readonly #bare: boolean
  readonly #timeoutMs: number
  readonly #metadata: Metadata
  readonly #send: ClientCall | undefined

  constructor(service: S, options: ServiceClientOptions) {
    assertService(service)
    this.service = service
    this.key = serviceKey(service)
    const { validateInput = false, metadata = {}, interceptors = [], ...rpcOptions } = options
    this.#validateInput = validateInput
    const problem = metadataProblem(metadata)
    if (problem) checkOption.fail('metadata', problem, metadata)
    if (!Array.isArray(interceptors) || interceptors.some((i) => typeof i !== 'function')) {
      checkOption.fail('interceptors', 'must be an array of functions', interceptors)
    }
    this.#metadata = Object.keys(metadata).length === 0 ? EMPTY : metadata
    this.#bare = serviceWire(service) === 'bare'
    this.#rpc = new RpcClient({ ...rpcOptions, discovery: serviceDiscovery(service) })
    // The RpcClient's default, repeated here to tell the worker the caller's budget.
    this.#timeoutMs = rpcOptions.timeoutMs ?? 10_000
    this.#send =
      interceptors.length === 0
        ? undefined
        : intercept<ClientCall>((request) => this.#dispatch(request), interceptors)
  }

  /** Calls `method` on one worker and resolves with its output. */
  call(method: string, input: unknown, options: ServiceCallOptions = {}): Promise<unknown> {
    return this.#start('call', method, input, options)
  }

  /** Calls `method` on every worker (or `limit` of them); one settled result per worker. */
  map(method: string, input: unknown, options: ServiceMapOptions = {}): Promise<MapResult[]> {
    return this.#start('map', method, input, options) as Promise<MapResult[]>
  }

  close(): Promise<void> {
    return this.#rpc.close()
  }

  // Not async, and without interceptors straight to #dispatch: this is every call's path, and each
  // async frame or object on it shows in the typed-layer bench.
  #start(
    kind: 'call' | 'map',
    method: string,
    input: unknown,
    options: ServiceCallOptions,
  ): Promise<unknown> {
    const own = options.metadata
    try {
      this.#method(method)
      const problem = own === undefined ? undefined : metadataProblem(own)
      if (problem) checkArgument.fail('options.metadata', problem, own)
    } catch (err) {
      return Promise.reject(err)
    }
    const metadata = own === undefined ? this.#metadata : { ...this.#metadata, ...own }
    if (this.#send === undefined)
      return this.#dispatch({ service: this.service.name, method, kind, input, metadata, options })
    // Interceptors may add to the metadata: they get a copy of their own.
    return this.#send({ service: this.service.name, method, kind, input, metadata: { ...metadata }, options })
  }

  /** The innermost call, under every interceptor: check, send, and lift the worker's refusals. */
  #dispatch(request: ClientCallRequest): Promise<unknown> {
    if (!this.#validateInput) return this.#transmit(request)
    return this.#check(request.method, request.input).then(() => this.#transmit(request))
  }

  #transmit(request: ClientCallRequest): Promise<unknown> {
    const { method, options } = request
    const timeoutMs = options.timeoutMs ?? this.#timeoutMs
    const payload = this.#payload(request, timeoutMs)
    const where = `${this.service.name}.${method}`
    if (request.kind === 'map') {
      return this.#rpc
        .map(this.key, payload, { ...options, timeoutMs })
        .then((results) =>
          results.map((r) => (r.ok ? r : { ...r, error: liftRemote(r.error, where) as GrenacheError })),
        )
    }
    const idempotent = this.#method(method).idempotent === true
    return this.#rpc
      .request(this.key, payload, { ...options, timeoutMs, idempotent })
      .then(undefined, (err) => {
        throw liftRemote(err, where)
      })
  }

  #payload(request: ClientCallRequest, timeoutMs: number): unknown {
    if (this.#bare) return request.input
    const { metadata } = request
    const deadline = Date.now() + timeoutMs
    // A getter, read when the envelope is encoded: each attempt tells the worker what is left of the
    // budget after the lookup and any earlier attempt, not the whole of it.
    const ctx: WireContext = {
      get timeoutMs() {
        return Math.max(0, deadline - Date.now())
      },
    }
    if (metadata !== EMPTY && Object.keys(metadata).length > 0) ctx.metadata = metadata
    return { action: request.method, args: [request.input], ctx }
  }

  #method(name: string) {
    const definition = Object.hasOwn(this.service.methods, name) ? this.service.methods[name] : undefined
    if (!definition)
      throw new GrenacheError('ERR_INVALID_ARGUMENT', `${this.service.name} has no method ${name}`)
    return definition
  }

  async #check(method: string, input: unknown): Promise<void> {
    const parsed = await (this.#method(method).input.safeParseAsync(input) as Promise<{
      success: boolean
      error?: { issues: ReadonlyArray<{ path: PropertyKey[]; message: string; code?: string }> }
    }>)
    if (!parsed.success) {
      throw validationError('ERR_INVALID_INPUT', `${this.service.name}.${method}`, parsed.error?.issues ?? [])
    }
  }
}
