import dgram from 'node:dgram'
import { isIPv4 } from 'node:net'
import { GrenacheError, toGrenacheError } from '../errors.js'
import { ipLookup } from '../util/ip-lookup.js'
import { checkArgument, checkOption } from '../util/validate.js'
import type { DatagramAddress, DatagramEndpoint, DatagramListener, DatagramNetwork } from './endpoint.js'

/** Options of a `UdpNetwork` (IPv4 only). */
export interface UdpNetworkOptions {
  /**
   * The local IPv4 address of the interface that joins groups (`addMembership`) and sends
   * multicast (`setMulticastInterface`). Default `'0.0.0.0'`: the system's choice, the interface
   * of the route to the group (usually the default route's). Use `'127.0.0.1'` to keep a feed on
   * this host (tests do). An address no interface has is `ERR_MULTICAST` at `bind`/`joinGroup`.
   */
  interface?: string
  /** Multicast TTL: how many routers a multicast datagram may cross. Default 1 (this subnet). 0 to 255. */
  ttl?: number
  /** Whether multicast sent from this host is also delivered to its own members. Default true. */
  loopback?: boolean
  /**
   * Receive buffer asked for each socket, in bytes (`SO_RCVBUF`). Default 4 MiB. The kernel caps
   * it (Linux: `net.core.rmem_max`) and reports double what it grants; `recvBufferBytes` of an
   * endpoint holds what the kernel reports.
   */
  recvBufferBytes?: number
  /** Send buffer asked for each socket, in bytes (`SO_SNDBUF`). Default: the system's. */
  sendBufferBytes?: number
}

interface ResolvedUdpOptions {
  interface: string
  ttl: number
  loopback: boolean
  recvBufferBytes: number
  sendBufferBytes: number | undefined
}

const ANY = '0.0.0.0'
const MAX_BUFFER_BYTES = 1 << 30

/** True for an IPv4 address in 224.0.0.0/4. */
export function isMulticastAddress(host: string): boolean {
  if (!isIPv4(host)) return false
  const first = Number(host.slice(0, host.indexOf('.')))
  return first >= 224 && first <= 239
}

/**
 * Datagram endpoints over real UDP sockets (`udp4`).
 *
 * A multicast receiver binds the group's port with `reuseAddr: true` and, as host, the group
 * address itself (`bind({ host: group, port, reuseAddr: true })`, then `joinGroup(group)`): on
 * Linux and macOS the socket then gets only that group's datagrams (not another group's on the same
 * port, nor unicast), several receivers in one process or host all get every datagram, and
 * `leaveGroup` stops delivery to that endpoint even while another socket on the host stays a
 * member. On Windows, where a socket cannot bind a multicast address, `0.0.0.0` is bound instead.
 * Binding `0.0.0.0` works everywhere but receives every group joined on the host at that port.
 */
export class UdpNetwork implements DatagramNetwork {
  readonly options: Readonly<ResolvedUdpOptions>

  constructor(options: UdpNetworkOptions = {}) {
    if (typeof options !== 'object' || options === null) checkOption.fail('', 'must be an object', options)
    const iface = checkOption.string('interface', options.interface ?? ANY)
    if (!isIPv4(iface) || isMulticastAddress(iface)) {
      checkOption.fail(
        'interface',
        'must be the IPv4 address of a local interface, such as "127.0.0.1"',
        iface,
      )
    }
    this.options = Object.freeze({
      interface: iface,
      ttl: checkOption.integer('ttl', options.ttl ?? 1, 0, 255),
      loopback: checkOption.boolean('loopback', options.loopback ?? true),
      recvBufferBytes: checkOption.integer(
        'recvBufferBytes',
        options.recvBufferBytes ?? 4 * 1024 * 1024,
        1,
        MAX_BUFFER_BYTES,
      ),
      sendBufferBytes:
        options.sendBufferBytes === undefined
          ? undefined
          : checkOption.integer('sendBufferBytes', options.sendBufferBytes, 1, MAX_BUFFER_BYTES),
    })
  }

  /**
   * A socket bound to `host:port` (default `0.0.0.0`, port 0: a free one), set up for multicast
   * (interface, TTL, loopback) and with the buffer sizes asked for. A taken port is
   * `ERR_ADDRESS_IN_USE`; an `interface` that cannot multicast is `ERR_MULTICAST`.
   */
  async bind(options: { host?: string; port?: number; reuseAddr?: boolean } = {}): Promise<UdpEndpoint> {
    const host = options.host ?? ANY
    if (!isIPv4(host)) checkArgument.fail('host', 'must be an IPv4 address', host)
    const port = checkArgument.port('port', options.port ?? 0)
    const reuseAddr = checkArgument.boolean('reuseAddr', options.reuseAddr ?? false)
    const bindHost = process.platform === 'win32' && isMulticastAddress(host) ? ANY : host
    const socket = dgram.createSocket({ type: 'udp4', reuseAddr, lookup: ipLookup })
    try {
      await new Promise<void>((resolve, reject) => {
        socket.once('error', reject)
        socket.bind({ address: bindHost, port, exclusive: true }, () => {
          socket.off('error', reject)
          resolve()
        })
      })
    } catch (err) {
      await closeSocket(socket)
      throw toGrenacheError(err, `bind udp4 ${host}:${port}`)
    }
    try {
      return new UdpEndpoint(socket, this.options)
    } catch (err) {
      await closeSocket(socket)
      throw err
    }
  }
}

/** One UDP socket; made by `UdpNetwork.bind`. */
export class UdpEndpoint implements DatagramEndpoint {
  readonly address: DatagramAddress
  /** The receive buffer the kernel granted, in bytes (as it reports it: Linux doubles). */
  readonly recvBufferBytes: number
  /** The send buffer the kernel granted, in bytes (as it reports it: Linux doubles). */
  readonly sendBufferBytes: number
  readonly #socket: dgram.Socket
  readonly #interface: string
  readonly #groups = new Set<string>()
  readonly #listeners: DatagramListener[] = []
  readonly #errorListeners: Array<(error: Error) => void> = []
  /** When bound to a group's address: deliver only while that group is joined. */
  readonly #boundGroup: string | undefined
  #closed: Promise<void> | undefined

  /** @internal Use `UdpNetwork.bind`. */
  constructor(socket: dgram.Socket, options: Readonly<ResolvedUdpOptions>) {
    this.#socket = socket
    this.#interface = options.interface
    const bound = socket.address()
    this.address = Object.freeze({ host: bound.address, port: bound.port })
    this.#boundGroup = isMulticastAddress(bound.address) ? bound.address : undefined
    if (options.interface !== ANY) {
      try {
        socket.setMulticastInterface(options.interface)
      } catch (err) {
        throw multicastError(err, options.interface, 'send multicast from')
      }
    }
    socket.setMulticastTTL(options.ttl)
    socket.setMulticastLoopback(options.loopback)
    this.recvBufferBytes = setBuffer(socket, 'recv', options.recvBufferBytes)
    this.sendBufferBytes = setBuffer(socket, 'send', options.sendBufferBytes)
    socket.on('message', this.#onMessage)
    socket.on('error', this.#onSocketError)
  }

  /** Groups joined, in join order. */
  get groups(): readonly string[] {
    return [...this.#groups]
  }

  #pending = 0
  #drained: (() => void) | undefined

  send(bytes: Uint8Array, to: DatagramAddress): void {
    if (this.#closed) throw new GrenacheError('ERR_CLOSED', 'the UDP endpoint is closed')
    if (!(bytes instanceof Uint8Array)) checkArgument.fail('bytes', 'must be a Uint8Array', bytes)
    if (typeof to !== 'object' || to === null) checkArgument.fail('to', 'must be { host, port }', to)
    if (typeof to.host !== 'string' || !isIPv4(to.host)) {
      checkArgument.fail('to.host', 'must be an IPv4 address', to.host)
    }
    checkArgument.integer('to.port', to.port, 1, 65535)
    this.#pending++
    this.#socket.send(bytes, to.port, to.host, this.#onSent)
  }

  onMessage(listener: DatagramListener): void {
    this.#listeners.push(listener)
  }

  onError(listener: (error: Error) => void): void {
    this.#errorListeners.push(listener)
  }

  /** Joins an IPv4 multicast group (224.0.0.0/4) on the network's `interface`; idempotent. */
  joinGroup(group: string): void {
    if (this.#closed) throw new GrenacheError('ERR_CLOSED', 'the UDP endpoint is closed')
    checkGroup(group)
    if (this.#groups.has(group)) return
    try {
      if (this.#interface === ANY) this.#socket.addMembership(group)
      else this.#socket.addMembership(group, this.#interface)
    } catch (err) {
      throw multicastError(err, this.#interface, `join group ${group} on`)
    }
    this.#groups.add(group)
  }

  /** Leaves a group joined before; a group not joined is ignored. */
  leaveGroup(group: string): void {
    checkGroup(group)
    if (!this.#groups.delete(group) || this.#closed) return
    try {
      if (this.#interface === ANY) this.#socket.dropMembership(group)
      else this.#socket.dropMembership(group, this.#interface)
    } catch (err) {
      this.#emitError(multicastError(err, this.#interface, `leave group ${group} on`))
    }
  }

  /**
   * Closes the socket once the datagrams already handed to it are sent (at most 100 ms later):
   * a publisher's last words, its closing heartbeat, must not die with the socket.
   */
  close(): Promise<void> {
    if (this.#closed) return this.#closed
    const drained =
      this.#pending === 0
        ? Promise.resolve()
        : new Promise<void>((resolve) => {
            const timer = setTimeout(resolve, 100)
            this.#drained = () => {
              clearTimeout(timer)
              resolve()
            }
          })
    this.#closed = drained.then(() => closeSocket(this.#socket))
    return this.#closed
  }

  readonly #onMessage = (bytes: Buffer, rinfo: dgram.RemoteInfo): void => {
    if (this.#boundGroup !== undefined && !this.#groups.has(this.#boundGroup)) return
    const from: DatagramAddress = { host: rinfo.address, port: rinfo.port }
    const listeners = this.#listeners
    for (let i = 0; i < listeners.length; i++) (listeners[i] as DatagramListener)(bytes, from)
  }

  readonly #onSent = (err: Error | null): void => {
    this.#pending--
    if (this.#pending === 0) this.#drained?.()
    if (err) this.#emitError(toGrenacheError(err, 'udp send'))
  }

  readonly #onSocketError = (err: Error): void => {
    this.#emitError(toGrenacheError(err, `udp socket ${this.address.host}:${this.address.port}`))
  }

  #emitError(error: GrenacheError): void {
    for (const listener of this.#errorListeners) listener(error)
  }
}

/**
 * Closes a socket and resolves once its handle is gone: Node calls back (on the next tick) before
 * libuv's close phase releases the handle, which comes after the next `setImmediate` callbacks,
 * hence two of them.
 */
function closeSocket(socket: dgram.Socket): Promise<void> {
  return new Promise((resolve) => {
    const gone = (): void => {
      setImmediate(() => setImmediate(resolve))
    }
    try {
      socket.close(gone)
    } catch {
      gone() // already closed by Node (after a failed bind)
    }
  })
}

function checkGroup(group: string): void {
  if (typeof group !== 'string' || !isMulticastAddress(group)) {
    checkArgument.fail('group', 'must be an IPv4 multicast address (224.0.0.0/4)', group)
  }
}

function multicastError(err: unknown, iface: string, what: string): GrenacheError {
  const code = (err as { code?: unknown } | null)?.code
  const reason = typeof code === 'string' ? code : err instanceof Error ? err.message : String(err)
  const subject =
    iface === ANY ? 'the default interface (options.interface "0.0.0.0")' : `options.interface "${iface}"`
  return new GrenacheError(
    'ERR_MULTICAST',
    `cannot ${what} ${subject} (${reason}): set options.interface to the IPv4 address of a local interface that can multicast`,
    { cause: err },
  )
}

function setBuffer(socket: dgram.Socket, which: 'recv' | 'send', bytes: number | undefined): number {
  // Best effort: the kernel caps the size silently; a platform that refuses keeps its default.
  try {
    if (bytes !== undefined) {
      if (which === 'recv') socket.setRecvBufferSize(bytes)
      else socket.setSendBufferSize(bytes)
    }
  } catch {}
  try {
    return which === 'recv' ? socket.getRecvBufferSize() : socket.getSendBufferSize()
  } catch {
    return 0
  }
}
