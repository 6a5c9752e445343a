import { GrenacheError } from '../errors.js'
import type { MapResult } from '../peer/rpc-client.js'
import { RpcClient, type RpcClientOptions } from '../peer/rpc-client.js'
import { type ServiceDefinition, serviceDiscovery, serviceKey, serviceWire } from '../schema.js'
import type { CallOptions } from '../util/deadline.js'
import { assertService } from './check.js'

/** Options of a service client: those of an `RpcClient`, less the discovery, which the service decides. */
export type ServiceClientOptions = Omit<RpcClientOptions, 'discovery'> & {
  /** Check each input with the method's schema before sending it (the worker checks it anyway). Default false. */
  validateInput?: boolean
}

/** Options of one call. */
export interface ServiceCallOptions extends CallOptions {
  /** Other workers to try after a worker failed (this call only). */
  retry?: number
}

/** Options of one `map` call. */
export interface ServiceMapOptions extends CallOptions {
  /** Call at most this many workers, chosen at random. */
  limit?: number
}

/**
 * Calls the methods of one service: `{ action, args: [input] }` under the service key, retried on
 * another worker after a dropped connection only when the method is `idempotent`. Generated clients
 * are typed wrappers over this.
 */
export class ServiceClient<S extends ServiceDefinition = ServiceDefinition> {
  readonly service: S
  readonly key: string
  readonly #rpc: RpcClient
  readonly #validateInput: boolean
  readonly #bare: boolean

  constructor(service: S, options: ServiceClientOptions) {
    assertService(service)
    this.service = service
    this.key = serviceKey(service)
    const { validateInput = false, ...rpcOptions } = options
    this.#validateInput = validateInput
    this.#bare = serviceWire(service) === 'bare'
    this.#rpc = new RpcClient({ ...rpcOptions, discovery: serviceDiscovery(service) })
  }

  /** Calls `method` on one worker and resolves with its output. */
  async call(method: string, input: unknown, options: ServiceCallOptions = {}): Promise<unknown> {
    const definition = this.#method(method)
    if (this.#validateInput) await this.#check(method, input)
    return this.#rpc.request(this.key, this.#payload(method, input), {
      ...options,
      idempotent: definition.idempotent === true,
    })
  }

  /** Calls `method` on every worker (or `limit` of them); one settled result per worker. */
  async map(method: string, input: unknown, options: ServiceMapOptions = {}): Promise<MapResult[]> {
    this.#method(method)
    if (this.#validateInput) await this.#check(method, input)
    return this.#rpc.map(this.key, this.#payload(method, input), options)
  }

  #payload(method: string, input: unknown): unknown {
    return this.#bare ? input : { action: method, args: [input] }
  }

  close(): Promise<void> {
    return this.#rpc.close()
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
      error?: { issues: ReadonlyArray<{ path: PropertyKey[]; message: string }> }
    }>)
    if (!parsed.success) {
      throw new GrenacheError(
        'ERR_INVALID_INPUT',
        `${this.service.name}.${method}: ${describeIssue(parsed.error?.issues[0])}`,
      )
    }
  }
}

/** `n: Too big: expected number to be <=1476`, or `(input): …` for the value itself. */
export function describeIssue(issue: { path: PropertyKey[]; message: string } | undefined): string {
  if (!issue) return 'invalid'
  const path = issue.path.map(String).join('.')
  return `${path || '(input)'}: ${issue.message}`
}
