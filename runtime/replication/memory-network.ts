import { GrenacheError } from '../errors.js'
import { checkArgument, checkOption } from '../util/validate.js'
import type { DatagramAddress, DatagramEndpoint, DatagramListener, DatagramNetwork } from './endpoint.js'

/** The one host of a memory network: every endpoint's address is `{ host: 'memory', port }`. */
export const MEMORY_HOST = 'memory'

/** Options of a `MemoryNetwork`. */
export interface MemoryNetworkOptions {
  /**
   * The largest datagram `send` accepts, in bytes; a larger one is lost and reported to the
   * sender's `onError` as `ERR_PAYLOAD_TOO_LARGE` (as UDP reports EMSGSIZE). Default 65507, UDP's
   * largest IPv4 payload.
   */
  maxDatagramBytes?: number
}

/**
 * An in-process datagram network for tests: endpoints bound to ports of one host (`'memory'`),
 * groups that mirror multicast (a datagram sent to `{ host: group, port }` reaches every endpoint
 * bound to `port` that joined `group`, the sender included), and asynchronous delivery: what is
 * sent in one tick is delivered in one batch on the next `setImmediate`, in send order.
 *
 * - A datagram to `{ host: 'memory', port }` reaches the endpoint bound to `port` (the last one
 *   bound, when several share it with `reuseAddr`); any other host names a group.
 * - A datagram nobody receives is dropped silently and counted in `dropped`.
 * - `bind`'s `host` is ignored (there is one host), so code written for UDP that binds a group's
 *   address works unchanged.
 */
export class MemoryNetwork implements DatagramNetwork {
  /** Datagrams sent (each counted once, however many endpoints receive it). */
  sent = 0
  /** Datagrams handed to endpoints (a group datagram counts once per receiver). */
  delivered = 0
  /** Datagrams no endpoint received: unknown port, group without members, receiver closed meanwhile. */
  dropped = 0
  readonly maxDatagramBytes: number

  /** @internal Endpoints by port, in bind order. */
  readonly ports = new Map<number, MemoryEndpoint[]>()
  /** @internal Members by group, then by port. */
  readonly groups = new Map<string, Map<number, MemoryEndpoint[]>>()
  #nextPort = 1
  // The pending batch, as parallel arrays (no object per datagram).
  #to: MemoryEndpoint[] = []
  #bytes: Buffer[] = []
  #from: DatagramAddress[] = []
  #scheduled = false

  constructor(options: MemoryNetworkOptions = {}) {
    if (typeof options !== 'object' || options === null) checkOption.fail('', 'must be an object', options)
    this.maxDatagramBytes = checkOption.integer('maxDatagramBytes', options.maxDatagramBytes ?? 65507, 1)
  }

  bind(options: { host?: string; port?: number; reuseAddr?: boolean } = {}): Promise<MemoryEndpoint> {
    try {
      const port = checkArgument.port('port', options.port ?? 0)
      const reuseAddr = checkArgument.boolean('reuseAddr', options.reuseAddr ?? false)
      if (options.host !== undefined) checkArgument.string('host', options.host)
      return Promise.resolve(this.#bind(port, reuseAddr))
    } catch (err) {
      return Promise.reject(err)
    }
  }

  #bind(requested: number, reuseAddr: boolean): MemoryEndpoint {
    let port = requested
    if (port === 0) {
      for (let tries = 0; tries < 65535 && this.ports.has(this.#nextPort); tries++) this.#advance()
      port = this.#nextPort
      if (this.ports.has(port)) throw new GrenacheError('ERR_ADDRESS_IN_USE', 'every memory port is taken')
      this.#advance()
    }
    const bound = this.ports.get(port)
    if (bound && !(reuseAddr && bound.every((endpoint) => endpoint.reuseAddr))) {
      throw new GrenacheError('ERR_ADDRESS_IN_USE', `memory port ${port} is already bound`)
    }
    const endpoint = new MemoryEndpoint(this, port, reuseAddr)
    if (bound) bound.push(endpoint)
    else this.ports.set(port, [endpoint])
    return endpoint
  }

  #advance(): void {
    this.#nextPort = this.#nextPort === 65535 ? 1 : this.#nextPort + 1
  }

  /** @internal Routes one datagram (already copied) from `from` to `to`. */
  route(bytes: Buffer, from: DatagramAddress, to: DatagramAddress): void {
    this.sent++
    if (to.host === MEMORY_HOST) {
      const bound = this.ports.get(to.port)
      const last = bound?.[bound.length - 1]
      if (last) this.#enqueue(last, bytes, from)
      else this.dropped++
      return
    }
    const members = this.groups.get(to.host)?.get(to.port)
    if (!members || members.length === 0) {
      this.dropped++
      return
    }
    const count = members.length
    for (let i = 0; i < count; i++) {
      // Each receiver keeps its own copy; the first one takes the sender's copy.
      this.#enqueue(members[i] as MemoryEndpoint, i === 0 ? bytes : Buffer.from(bytes), from)
    }
  }

  #enqueue(to: MemoryEndpoint, bytes: Buffer, from: DatagramAddress): void {
    this.#to.push(to)
    this.#bytes.push(bytes)
    this.#from.push(from)
    if (!this.#scheduled) {
      this.#scheduled = true
      setImmediate(this.#flush)
    }
  }

  readonly #flush = (): void => {
    this.#scheduled = false
    const to = this.#to
    const bytes = this.#bytes
    const from = this.#from
    // What listeners send meanwhile goes to the next batch.
    this.#to = []
    this.#bytes = []
    this.#from = []
    const count = to.length
    for (let i = 0; i < count; i++) {
      if ((to[i] as MemoryEndpoint).deliver(bytes[i] as Buffer, from[i] as DatagramAddress)) this.delivered++
      else this.dropped++
    }
  }
}

/** One endpoint of a `MemoryNetwork`. */
export class MemoryEndpoint implements DatagramEndpoint {
  readonly address: DatagramAddress
  readonly #network: MemoryNetwork
  readonly #groups = new Set<string>()
  readonly #listeners: DatagramListener[] = []
  readonly #errorListeners: Array<(error: Error) => void> = []
  #closed: Promise<void> | undefined

  /** @internal Use `MemoryNetwork.bind`. */
  constructor(
    network: MemoryNetwork,
    port: number,
    readonly reuseAddr: boolean,
  ) {
    this.#network = network
    this.address = Object.freeze({ host: MEMORY_HOST, port })
  }

  /** True once `close()` was called. */
  get closed(): boolean {
    return this.#closed !== undefined
  }

  /** Groups joined, in join order. */
  get groups(): readonly string[] {
    return [...this.#groups]
  }

  send(bytes: Uint8Array, to: DatagramAddress): void {
    if (this.#closed) throw new GrenacheError('ERR_CLOSED', 'the memory endpoint is closed')
    if (!(bytes instanceof Uint8Array)) checkArgument.fail('bytes', 'must be a Uint8Array', bytes)
    checkAddress(to)
    const network = this.#network
    if (bytes.length > network.maxDatagramBytes) {
      const error = new GrenacheError(
        'ERR_PAYLOAD_TOO_LARGE',
        `a datagram of ${bytes.length} bytes is larger than the memory network's maxDatagramBytes (${network.maxDatagramBytes})`,
      )
      for (const listener of this.#errorListeners) listener(error)
      return
    }
    network.route(Buffer.from(bytes), this.address, to)
  }

  onMessage(listener: DatagramListener): void {
    this.#listeners.push(listener)
  }

  onError(listener: (error: Error) => void): void {
    this.#errorListeners.push(listener)
  }

  joinGroup(group: string): void {
    if (this.#closed) throw new GrenacheError('ERR_CLOSED', 'the memory endpoint is closed')
    checkGroup(group)
    if (this.#groups.has(group)) return
    this.#groups.add(group)
    const groups = this.#network.groups
    let byPort = groups.get(group)
    if (!byPort) {
      byPort = new Map()
      groups.set(group, byPort)
    }
    const members = byPort.get(this.address.port)
    if (members) members.push(this)
    else byPort.set(this.address.port, [this])
  }

  leaveGroup(group: string): void {
    checkGroup(group)
    if (!this.#groups.delete(group)) return
    const byPort = this.#network.groups.get(group)
    const members = byPort?.get(this.address.port)
    if (!byPort || !members) return
    remove(members, this)
    if (members.length === 0) byPort.delete(this.address.port)
    if (byPort.size === 0) this.#network.groups.delete(group)
  }

  close(): Promise<void> {
    if (this.#closed) return this.#closed
    for (const group of [...this.#groups]) this.leaveGroup(group)
    const bound = this.#network.ports.get(this.address.port)
    if (bound) {
      remove(bound, this)
      if (bound.length === 0) this.#network.ports.delete(this.address.port)
    }
    this.#closed = Promise.resolve()
    return this.#closed
  }

  /** @internal Hands one datagram to the listeners; false when closed. */
  deliver(bytes: Buffer, from: DatagramAddress): boolean {
    if (this.#closed) return false
    const listeners = this.#listeners
    for (let i = 0; i < listeners.length; i++) {
      try {
        ;(listeners[i] as DatagramListener)(bytes, from)
      } catch (err) {
        // As a throwing 'message' listener of a UDP socket would: uncaught, but the batch goes on.
        queueMicrotask(() => {
          throw err
        })
      }
    }
    return true
  }
}

function checkAddress(to: DatagramAddress): void {
  if (typeof to !== 'object' || to === null) checkArgument.fail('to', 'must be { host, port }', to)
  checkArgument.string('to.host', to.host)
  checkArgument.integer('to.port', to.port, 1, 65535)
}

function checkGroup(group: string): void {
  checkArgument.string('group', group)
  if (group === MEMORY_HOST)
    checkArgument.fail('group', `must not be "${MEMORY_HOST}" (the unicast host)`, group)
}

function remove<T>(list: T[], item: T): void {
  const index = list.indexOf(item)
  if (index !== -1) list.splice(index, 1)
}
