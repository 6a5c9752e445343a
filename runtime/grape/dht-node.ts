import { createSocket, type Socket } from 'node:dgram'
import { once } from 'node:events'
import DHT, {
  type DhtError,
  type DhtGetOptions,
  type DhtItem,
  type DhtOptions,
  type DhtPeer,
  type DhtPutOptions,
} from 'bittorrent-dht'
import { GrenacheError } from '../errors.js'
import { DhtGuard, type DhtGuardStats } from './dht-guard.js'
import type { ResolvedGrapeOptions, VerifyFunction } from './grape-options.js'
import type { PeerTable } from './peer-table.js'

/** What the DHT reports, for the Grape to re-emit. */
export interface DhtNodeListener {
  onNode(node: DhtPeer): void
  /** A peer seen for the name whose info_hash hex is `key`; `stored` when this node stored its announce. */
  onPeer(key: string, address: string, stored: boolean): void
  onWarning(error: Error): void
}

/** The DHT's own UDP socket, which k-rpc-socket takes as `socket` (bittorrent-dht passes it on). */
type DhtSocketOptions = DhtOptions & { socket: Socket }

/**
 * One bittorrent-dht node with promise-returning calls. Every peer the DHT reports goes into the
 * peer table, and concurrent lookups of one name share a single DHT query.
 */
export class DhtNode {
  readonly dht: DHT
  readonly #guard: DhtGuard
  readonly #table: PeerTable
  readonly #lookups = new Map<string, Promise<void>>()
  readonly #options: ResolvedGrapeOptions

  constructor(options: ResolvedGrapeOptions, table: PeerTable, listener: DhtNodeListener) {
    this.#options = options
    this.#table = table
    const verify = options.verify
    const socket = createSocket('udp4')
    const dhtOptions: DhtSocketOptions = {
      // Always an explicit list: k-rpc falls back to the public BitTorrent routers on a falsy one.
      bootstrap: [...options.bootstrap],
      host: options.selfAnnounce ? options.host : null,
      concurrency: options.dhtConcurrency,
      maxTables: options.dhtMaxTables,
      maxValues: options.dhtMaxValues,
      maxAge: options.dhtPeerMaxAgeMs,
      timeBucketOutdated: options.dhtNodeLivenessMs,
      ...(verify ? { verify: neverThrowing(verify, listener) } : {}),
      socket,
    }
    this.dht = new DHT(dhtOptions)
    this.#guard = new DhtGuard(socket, (err) => listener.onWarning(err))
    this.dht.on('node', (node: DhtPeer) => listener.onNode(node))
    this.dht.on('peer', (peer: DhtPeer, infoHash: Buffer) => {
      const key = infoHash.toString('hex')
      const address = `${peer.host}:${peer.port}`
      if (table.add(key, address)) listener.onPeer(key, address, false)
    })
    this.dht.on('announce', (peer: DhtPeer, infoHash: Buffer) => {
      const key = infoHash.toString('hex')
      const address = `${peer.host}:${peer.port}`
      table.add(key, address)
      listener.onPeer(key, address, true)
    })
    this.dht.on('warning', (err: Error) => listener.onWarning(err))
    // After the bind, k-rpc reports only recoverable socket problems; never let one crash us.
    this.dht.on('error', (err: Error) => listener.onWarning(err))
  }

  /**
   * Binds the UDP socket and waits until the Grape can serve: the bootstrap finished, or a first
   * node answered (a bootstrap peer that is down would otherwise hold start for k-rpc's 2 s timeout).
   */
  async start(): Promise<void> {
    const bound = once(this.dht, 'listening')
    const joined = new AbortController()
    const serving = Promise.race([
      once(this.dht, 'ready', { signal: joined.signal }),
      once(this.dht, 'node', { signal: joined.signal }),
    ])
    // All of them reject on a bind error; awaiting them together leaves none unhandled.
    const started = Promise.all([bound, serving])
    this.dht.listen(this.#options.dhtPort, this.#options.dhtHost)
    try {
      await started
    } finally {
      joined.abort()
      serving.catch(() => undefined)
    }
  }

  /** What the guard in front of the DHT refused so far. */
  get guardStats(): Readonly<DhtGuardStats> {
    return this.#guard.stats
  }

  /** The signature check mutable puts are held to before they leave this node. */
  get verify(): VerifyFunction | null {
    return this.#options.verify
  }

  get port(): number {
    return this.dht.address().port
  }

  announce(infoHash: Buffer, port: number): Promise<number> {
    return new Promise((resolve, reject) => {
      this.dht.announce(infoHash, port || this.port, (err, count) =>
        err ? reject(err) : resolve(count ?? 0),
      )
    })
  }

  /** Runs (or joins) a DHT lookup of `key`; its peers land in the table. */
  refresh(key: string): Promise<void> {
    let pending = this.#lookups.get(key)
    if (pending) return pending
    pending = new Promise<void>((resolve, reject) => {
      this.dht.lookup(Buffer.from(key, 'hex'), (err) => {
        // The local store's peers are emitted on the next tick: let them land first.
        setImmediate(() => {
          this.#lookups.delete(key)
          if (err) return reject(err)
          this.#table.markRefreshed(key)
          resolve()
        })
      })
    })
    this.#lookups.set(key, pending)
    return pending
  }

  put(options: DhtPutOptions): Promise<Buffer> {
    return new Promise((resolve, reject) => {
      try {
        this.dht.put(options, (err, key) => (err ? reject(err) : resolve(key)))
      } catch (err) {
        reject(err)
      }
    })
  }

  /** The item, or null when not found; rejects only when nothing could be asked and nothing is stored. */
  get(hash: Buffer, options: DhtGetOptions): Promise<DhtItem | null> {
    return new Promise((resolve, reject) => {
      this.dht.get(hash, options, (err, item) => (item ? resolve(item) : err ? reject(err) : resolve(null)))
    })
  }

  destroy(): Promise<void> {
    return new Promise((resolve) => this.dht.destroy(() => resolve()))
  }
}

/**
 * `verify` as bittorrent-dht may call it: with whatever a response carried, from inside a socket
 * event, where a throw would end the process. Anything but bytes is not a valid signature, and a
 * verify function that throws (the embedder's own) says "invalid" and is reported.
 */
function neverThrowing(verify: VerifyFunction, listener: DhtNodeListener): VerifyFunction {
  return (signature, message, publicKey) => {
    if (
      !(signature instanceof Uint8Array && message instanceof Uint8Array && publicKey instanceof Uint8Array)
    ) {
      return false
    }
    try {
      return verify(signature, message, publicKey) === true
    } catch (err) {
      const text = err instanceof Error ? err.message : String(err)
      listener.onWarning(new GrenacheError('ERR_ITEM_INVALID', `verify threw: ${text}`, { cause: err }))
      return false
    }
  }
}

export type { DhtError }
