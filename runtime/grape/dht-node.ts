import { createSocket, type Socket } from 'node:dgram'
import { once } from 'node:events'
import { debuglog } from 'node:util'
import DHT, {
  type DhtError,
  type DhtGetOptions,
  type DhtItem,
  type DhtOptions,
  type DhtPeer,
  type DhtPutOptions,
} from 'bittorrent-dht'
import { GrenacheError } from '../errors.js'
import { ipLookup } from '../util/ip-lookup.js'
import { DhtGuard, type DhtGuardStats } from './dht-guard.js'
import {
  announceToClosest,
  askPeersOnce,
  bootstrapCount,
  checkInternals,
  closestKnown,
  forgetTarget,
  krpcSocketOf,
  rebootstrap,
  routingTable,
} from './dht-internals.js'
import type { ResolvedGrapeOptions, VerifyFunction } from './grape-options.js'
import { createKrpcDispatch } from './krpc-dispatch.js'
import { checkTimeoutsWhileBusy, type KrpcTimeoutState } from './krpc-timeouts.js'
import type { PeerTable } from './peer-table.js'

const debug = debuglog('grenache')

/** Re-bootstraps of an emptied routing table are at least this far apart, in ms. */
const REBOOTSTRAP_INTERVAL_MS = 1000

/**
 * Nodes a revalidation asks. A name is announced to the 20 nodes closest to it; asking 8 of them
 * finds its peers with a wide margin, at under half the datagrams of a full lookup.
 */
const REVALIDATE_NODES = 8

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
  readonly #revalidations = new Map<string, Promise<void>>()
  /** Revalidations done in their one round, and those that needed a full lookup after it. */
  readonly revalidationStats = { done: 0, fellBack: 0 }
  readonly #options: ResolvedGrapeOptions
  #joined = false
  #joining: Promise<void> | undefined
  /** Ends the wait for the join (a bind error, close): operations then fail on their own. */
  #stopJoining: (() => void) | undefined
  #rebootstrapping: Promise<void> | undefined
  #rebootstrapTimer: NodeJS.Timeout | undefined
  #resolveRebootstrap: (() => void) | undefined
  #lastRebootstrap = 0
  /** Nodes replaced or dropped from the routing table so far: a failed operation retries after one. */
  #routingChanges = 0
  /** The routing table just lost a node: when it was the last one, join again from the bootstrap list. */
  readonly #onRemoved = (): void => {
    this.#routingChanges++
    if (this.dht.nodes.count() === 0 && this.dht.listening) {
      this.#rebootstrap().catch(() => undefined)
    }
  }

  constructor(options: ResolvedGrapeOptions, table: PeerTable, listener: DhtNodeListener) {
    this.#options = options
    this.#table = table
    const verify = options.verify
    const socket = createSocket({ type: 'udp4', lookup: ipLookup })
    const dhtOptions: DhtSocketOptions = {
      // Always an explicit list: k-rpc falls back to the public BitTorrent routers on a falsy one.
      bootstrap: [...options.bootstrap],
      host: options.selfAnnounce ? options.host : null,
      concurrency: options.dhtConcurrency,
      k: options.dhtK,
      maxTables: options.dhtMaxTables,
      maxValues: options.dhtMaxValues,
      maxAge: options.dhtPeerMaxAgeMs,
      timeBucketOutdated: options.dhtNodeLivenessMs,
      ...(verify ? { verify: neverThrowing(verify, listener) } : {}),
      socket,
    }
    this.dht = new DHT(dhtOptions)
    checkInternals(this.dht)
    const krpc = krpcSocketOf(this.dht)
    checkTimeoutsWhileBusy(krpc as KrpcTimeoutState)
    const dispatch = createKrpcDispatch(krpc, (oldId, node) => {
      // The address now answers as another node: keep the new one, or every query to it fails.
      debug('node %s:%d restarted as %s', node.host, node.port, node.id.toString('hex'))
      this.dht.addNode(node)
      routingTable(this.dht).remove(oldId)
    })
    this.#guard = new DhtGuard(socket, (err) => listener.onWarning(err), dispatch)
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
      table.markStored(key)
      listener.onPeer(key, address, true)
    })
    this.dht.on('warning', (err: Error) => listener.onWarning(err))
    routingTable(this.dht).on('removed', this.#onRemoved)
    // After the bind, k-rpc reports only recoverable socket problems; never let one crash us.
    this.dht.on('error', (err: Error) => listener.onWarning(err))
  }

  /**
   * Binds the UDP socket; rejects on a bind error. The join (the bootstrap) goes on in the
   * background: DHT operations wait for it, so `start()` costs no network round trip (a Grape
   * started in a loop would otherwise wait for each join in turn).
   */
  async start(): Promise<void> {
    const bound = once(this.dht, 'listening')
    // Plain listeners, not an aborted `once()`: the AbortError it would make costs a Grape's start
    // more than the rest of it (a stack trace per Grape).
    this.#joining = new Promise<void>((resolve) => {
      const stop = () => {
        this.dht.off('ready', joined)
        this.dht.off('node', joined)
        this.#stopJoining = undefined
        resolve()
      }
      const joined = () => {
        this.#joined = true
        stop()
      }
      this.dht.on('ready', joined)
      this.dht.on('node', joined)
      this.#stopJoining = stop
    })
    this.dht.listen(this.#options.dhtPort, this.#options.dhtHost)
    try {
      await bound
    } catch (err) {
      this.#stopJoining?.()
      throw err
    }
  }

  /**
   * Resolves once the DHT can serve: the bootstrap finished, or a first node answered (a bootstrap
   * peer that is down would otherwise hold every operation for k-rpc's 2 s timeout).
   */
  joined(): Promise<void> {
    return this.#joined ? Promise.resolve() : (this.#joining ?? Promise.resolve())
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

  /**
   * Announces `infoHash` at `port` (this node's DHT port for 0) to the nodes closest to it; resolves
   * with how many stored it once half of the closest 8 did (see `StoreRound`), rejects when none did.
   */
  announce(infoHash: Buffer, port: number): Promise<number> {
    return this.#recovering(
      () => infoHash,
      () =>
        callback<number>((done) =>
          announceToClosest(this.dht, infoHash, port || this.port, (err, outcome) => {
            if (outcome.pending > 0 && !err)
              debug('announce acknowledged, %d node(s) still storing', outcome.pending)
            done(err, outcome.hits)
          }),
        ),
    )
  }

  /** Runs (or joins) a DHT lookup of `key`; its peers land in the table. */
  refresh(key: string): Promise<void> {
    let pending = this.#lookups.get(key)
    if (pending) return pending
    pending = this.#afterJoin(
      () =>
        new Promise<void>((resolve, reject) => {
          // bittorrent-dht emits the local store's peers on a tick queued before its own callback's,
          // and the answers' peers as they come: all of them are in the table by now.
          this.dht.lookup(Buffer.from(key, 'hex'), (err) => {
            this.#lookups.delete(key)
            if (err) return reject(err)
            this.#table.markRefreshed(key)
            resolve()
          })
        }),
    )
    this.#lookups.set(key, pending)
    return pending
  }

  /**
   * Refreshes a name that already has live peers, for a background refresh: one `get_peers` to
   * the nodes closest to it, which hold its announces, instead of a full iterative lookup. Falls
   * back to `refresh()` when fewer than half of them answer, or none is known.
   */
  revalidate(key: string): Promise<void> {
    const pending = this.#lookups.get(key) ?? this.#revalidations.get(key)
    if (pending) return pending
    const infoHash = Buffer.from(key, 'hex')
    const run = this.#afterJoin(() => this.#askClosest(infoHash))
      .then((answered) => {
        if (this.dht.destroyed) return
        if (answered > 0) {
          this.revalidationStats.done++
          this.#table.markRefreshed(key, false)
          return
        }
        this.revalidationStats.fellBack++
        return this.refresh(key)
      })
      .finally(() => this.#revalidations.delete(key))
    this.#revalidations.set(key, run)
    return run
  }

  /** One round of `get_peers` to the nodes closest to `infoHash`: how many answered, 0 when under half. */
  #askClosest(infoHash: Buffer): Promise<number> {
    if (this.dht.destroyed) return Promise.resolve(0)
    return new Promise((resolve) => {
      const nodes = closestKnown(this.dht, infoHash, REVALIDATE_NODES)
      const asked = nodes.length
      askPeersOnce(
        this.dht,
        nodes,
        infoHash,
        (values) => {
          for (const peer of compactPeers(values)) this.dht.emit('peer', peer, infoHash)
        },
        (answered) => resolve(asked > 0 && answered * 2 >= asked ? answered : 0),
      )
    })
  }

  put(options: DhtPutOptions): Promise<Buffer> {
    let target: Buffer | undefined
    return this.#recovering(
      () => target,
      () =>
        callback<Buffer>((done) => {
          target = this.dht.put(options, done)
        }),
    )
  }

  /** The item, or null when not found; rejects only when nothing could be asked and nothing is stored. */
  get(hash: Buffer, options: DhtGetOptions): Promise<DhtItem | null> {
    return this.#afterJoin(
      () =>
        new Promise((resolve, reject) => {
          this.dht.get(hash, options, (err, item) =>
            item ? resolve(item) : err ? reject(err) : resolve(null),
          )
        }),
    )
  }

  #afterJoin<T>(run: () => Promise<T>): Promise<T> {
    return this.#joined ? run() : this.joined().then(run)
  }

  /**
   * Runs an announce or a put. When no node it asked answered (k-rpc's "All queries failed", or
   * "No nodes to query"), forgets the nodes and write tokens cached for the target, so that the
   * next attempt starts with a fresh lookup (bittorrent-dht would reuse them for minutes: a node
   * restarted on the same port with a new id fails every query to its old id until then). It
   * tries once more at once when that can succeed: the routing table lost or replaced a node
   * meanwhile, or it is empty (then after a re-bootstrap).
   */
  async #recovering<T>(targetOf: () => Buffer | undefined, run: () => Promise<T>): Promise<T> {
    await this.joined()
    const changes = this.#routingChanges
    try {
      return await run()
    } catch (err) {
      if (!isUnreached(err) || this.dht.destroyed) throw err
      const target = targetOf()
      if (target) forgetTarget(this.dht, target)
      const empty = this.dht.nodes.count() === 0
      if (!empty && changes === this.#routingChanges) throw err
      debug('%s failed (%s): retrying with a fresh lookup', target?.toString('hex'), (err as Error).message)
      if (empty) await this.#rebootstrap()
      return run()
    }
  }

  /** One re-bootstrap at a time, at most one a second; resolves when its query is done. */
  #rebootstrap(): Promise<void> {
    if (this.#rebootstrapping) return this.#rebootstrapping
    if (bootstrapCount(this.dht) === 0 || this.dht.destroyed) return Promise.resolve()
    const wait = Math.max(0, this.#lastRebootstrap + REBOOTSTRAP_INTERVAL_MS - Date.now())
    const run = new Promise<void>((resolve) => {
      const go = () => {
        this.#rebootstrapTimer = undefined
        if (this.dht.destroyed) return resolve()
        this.#lastRebootstrap = Date.now()
        debug('routing table empty: bootstrapping again from %d node(s)', bootstrapCount(this.dht))
        rebootstrap(this.dht, () => resolve())
      }
      if (wait === 0) return go()
      this.#rebootstrapTimer = setTimeout(go, wait)
      this.#rebootstrapTimer.unref()
      this.#resolveRebootstrap = resolve
    }).finally(() => {
      this.#rebootstrapping = undefined
      this.#resolveRebootstrap = undefined
    })
    this.#rebootstrapping = run
    return run
  }

  destroy(): Promise<void> {
    this.#stopJoining?.()
    routingTable(this.dht).off('removed', this.#onRemoved)
    clearTimeout(this.#rebootstrapTimer)
    this.#resolveRebootstrap?.()
    return new Promise((resolve) => this.dht.destroy(() => resolve()))
  }
}

/** The peers of a `get_peers` answer's `values` (compact IPv4 + port); anything else is skipped. */
export function compactPeers(values: unknown): DhtPeer[] {
  if (!Array.isArray(values)) return []
  const peers: DhtPeer[] = []
  for (const value of values) {
    if (!(value instanceof Uint8Array) || value.length !== 6) continue
    const port = (value[4] as number) * 256 + (value[5] as number)
    if (port !== 0) peers.push({ host: `${value[0]}.${value[1]}.${value[2]}.${value[3]}`, port })
  }
  return peers
}

/** k-rpc's failures when no node answered: every one asked failed, or there was none to ask. */
function isUnreached(err: unknown): boolean {
  const message = (err as Error | null)?.message
  return message === 'All queries failed' || message === 'No nodes to query'
}

/** A node-style callback call as a promise; a synchronous throw rejects it. */
function callback<T>(call: (done: (err: Error | null, value: T) => void) => void): Promise<T> {
  return new Promise((resolve, reject) => {
    try {
      call((err, value) => (err ? reject(err) : resolve(value)))
    } catch (err) {
      reject(err)
    }
  })
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
