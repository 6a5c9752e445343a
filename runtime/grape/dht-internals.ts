import type DHT from 'bittorrent-dht'
import { GrenacheError } from '../errors.js'
import type { KrpcSocket } from './krpc-dispatch.js'
import { type RoundCallback, StoreRound } from './store-round.js'

/**
 * The few internals of bittorrent-dht 11 (and its k-rpc 5) the Grape reaches into, in one place
 * with their shapes, because the public API offers no way to do what recovery needs: forget the
 * nodes and tokens cached for a target, and run the bootstrap again.
 */
interface DhtInternals {
  /** Per target (hex): the closest nodes of its last lookup, with their write tokens. */
  _tables: { get(key: string): ClosestTable | undefined; remove(key: string): unknown }
  /** The `host` option: an announce through this node is also stored here, as `host:port`. */
  _host: string | null
  /** Stores a peer of `infoHash` here and emits `announce`, as an `announce_peer` received would. */
  _addPeer(peer: { host: string; port: number }, infoHash: Buffer, from: { host: string; port: number }): void
  _rpc: {
    id: Buffer
    /** The configured bootstrap nodes; k-rpc queries them whenever its routing table runs short. */
    bootstrap: unknown[]
    nodes: RoutingTable
    /** k-rpc-socket, which owns the UDP socket and the pending queries. */
    socket: KrpcSocket
    populate(target: Buffer, message: unknown, callback: (err: Error | null) => void): void
    /** One query (queued behind k-rpc's concurrency limit); sets `message.a.token` from the node's. */
    query(
      node: KnownNode,
      message: unknown,
      callback: (err: (Error & { code?: unknown }) | null) => void,
    ): void
    /** One query to each node, in parallel (k-rpc's concurrency limit applies); `hits` answered. */
    queryAll(
      nodes: KnownNode[],
      message: unknown,
      visit: (
        reply: { r?: { values?: unknown } },
        from: { address?: string; host?: string; port: number },
      ) => void,
      callback: (err: Error | null, hits: number) => void,
    ): void
  }
}

/** A DHT node as the routing table and the per-target tables hold it. */
export interface KnownNode {
  id: Buffer
  host: string
  port: number
  /** The write token it gave this node's `get_peers` (the per-target tables only). */
  token?: Buffer
}

/** A k-bucket: the nodes it holds, closest to a target first. */
interface ClosestTable {
  closest(target: Buffer, count: number): KnownNode[]
}

/** The routing table (a k-bucket), as far as recovery watches it. */
export interface RoutingTable extends ClosestTable {
  count(): number
  remove(id: Buffer): unknown
  on(event: 'removed', listener: () => void): unknown
  off(event: 'removed', listener: () => void): unknown
}

const internals = (dht: DHT) => dht as unknown as DhtInternals

/**
 * Checks that `dht` has the internals above, so that another bittorrent-dht or k-rpc-socket than
 * the one this Grape was written against fails at start, naming what is missing, instead of
 * misbehaving later (the package range allows minor updates of both).
 */
export function checkInternals(dht: DHT): void {
  const at = (path: string): unknown =>
    path
      .split('.')
      .reduce<unknown>((value, key) => (value as Record<string, unknown> | undefined)?.[key], dht)
  const isFunction = (path: string) => typeof at(path) === 'function'
  const missing = [
    ['_tables.get', isFunction('_tables.get')],
    ['_tables.remove', isFunction('_tables.remove')],
    ['_addPeer', isFunction('_addPeer')],
    ['_host', at('_host') === null || typeof at('_host') === 'string'],
    ['_rpc.id', Buffer.isBuffer(at('_rpc.id'))],
    ['_rpc.bootstrap', Array.isArray(at('_rpc.bootstrap'))],
    ['_rpc.populate', isFunction('_rpc.populate')],
    ['_rpc.query', isFunction('_rpc.query')],
    ['_rpc.queryAll', isFunction('_rpc.queryAll')],
    ['_rpc.nodes.closest', isFunction('_rpc.nodes.closest')],
    ['_rpc.nodes.count', isFunction('_rpc.nodes.count')],
    ['_rpc.nodes.remove', isFunction('_rpc.nodes.remove')],
    ['_rpc.socket._ids', Array.isArray(at('_rpc.socket._ids'))],
    ['_rpc.socket._reqs', Array.isArray(at('_rpc.socket._reqs'))],
    ['_rpc.socket._cancel', isFunction('_rpc.socket._cancel')],
    ['_rpc.socket.query', isFunction('_rpc.socket.query')],
    ['_rpc.socket.timeout', typeof at('_rpc.socket.timeout') === 'number'],
    ['_rpc.socket._timer', at('_rpc.socket._timer') !== undefined],
  ]
    .filter(([, ok]) => !ok)
    .map(([name]) => name)
  if (missing.length > 0) {
    throw new GrenacheError(
      'ERR_INTERNAL',
      `the installed bittorrent-dht (or its k-rpc-socket) lacks what the Grape relies on: ${missing.join(', ')}; install the versions package-lock.json names (bittorrent-dht 11.0, k-rpc-socket 1.11)`,
    )
  }
}

/** Drops the cached closest nodes of `target`: the next announce or put runs a fresh lookup first. */
export function forgetTarget(dht: DHT, target: Buffer): void {
  internals(dht)._tables.remove(target.toString('hex'))
}

export function routingTable(dht: DHT): RoutingTable {
  return internals(dht)._rpc.nodes
}

export function krpcSocketOf(dht: DHT): KrpcSocket {
  return internals(dht)._rpc.socket
}

export function bootstrapCount(dht: DHT): number {
  return internals(dht)._rpc.bootstrap.length
}

/**
 * Runs the bootstrap again (what bittorrent-dht does once at start, and on its own only after a
 * quiet `timeBucketOutdated`): a `find_node` of the own id, which starts from the configured
 * bootstrap nodes when the routing table is empty. Calls back when the query is done.
 */
export function rebootstrap(dht: DHT, callback: (err: Error | null) => void): void {
  const rpc = internals(dht)._rpc
  rpc.populate(rpc.id, { q: 'find_node', a: { id: rpc.id, target: rpc.id } }, callback)
}

/**
 * bittorrent-dht's `announce` (a lookup first when no nodes and tokens are cached for the target,
 * then `announce_peer` to every node that gave a token), calling back at the quorum of
 * `StoreRound` instead of after the slowest node.
 */
export function announceToClosest(dht: DHT, infoHash: Buffer, port: number, callback: RoundCallback): void {
  const dhtInternals = internals(dht)
  const key = infoHash.toString('hex')
  const cached = dhtInternals._tables.get(key)
  if (cached) {
    announceTo(dht, cached, infoHash, port, callback)
    return
  }
  dht.lookup(infoHash, (err) => {
    if (dht.destroyed) return callback(new Error('dht is destroyed'), { hits: 0, pending: 0 })
    if (err) return callback(err, { hits: 0, pending: 0 })
    const table = dhtInternals._tables.get(key)
    if (!table) return callback(new Error('No nodes to query'), { hits: 0, pending: 0 })
    announceTo(dht, table, infoHash, port, callback)
  })
}

function announceTo(
  dht: DHT,
  table: ClosestTable,
  infoHash: Buffer,
  port: number,
  callback: RoundCallback,
): void {
  const dhtInternals = internals(dht)
  const { _rpc: rpc, _host: host } = dhtInternals
  if (host) {
    const dhtPort = dht.listening ? dht.address().port : 0
    dhtInternals._addPeer({ host, port: port || dhtPort }, infoHash, { host, port: dhtPort })
  }
  // One message for all, as k-rpc's queryAll: `query` sets each node's token as it sends.
  const message = {
    q: 'announce_peer',
    a: { id: rpc.id, token: null, info_hash: infoHash, port, implied_port: port ? 0 : 1 },
  }
  const round = new StoreRound<KnownNode>((node, done) => rpc.query(node, message, done), callback)
  const nodes = table.closest(infoHash, Number.POSITIVE_INFINITY)
  const addresses = nodes.map((node) => `${node.host}:${node.port}`)
  for (const [i, node] of nodes.entries()) round.send(addresses[i] as string, node)
  // Closest first: the round takes the quorum among the first QUORUM_NODES.
  round.finish(addresses)
}

/**
 * Up to `count` nodes closest to `target`: those that answered its last lookup here (they hold its
 * announces), else the closest of the routing table. Without their write tokens, which a
 * `get_peers` does not take.
 */
export function closestKnown(dht: DHT, target: Buffer, count: number): KnownNode[] {
  const answered = internals(dht)._tables.get(target.toString('hex'))?.closest(target, count) ?? []
  const nodes = answered.length >= count ? answered : internals(dht)._rpc.nodes.closest(target, count)
  return nodes.map(({ id, host, port }) => ({ id, host, port }))
}

/**
 * One `get_peers` of `infoHash` to each of `nodes`, no further hops; `onPeers` gets each answer's
 * `values`, and `callback` how many nodes answered.
 */
export function askPeersOnce(
  dht: DHT,
  nodes: KnownNode[],
  infoHash: Buffer,
  onPeers: (values: unknown) => void,
  callback: (answered: number) => void,
): void {
  const rpc = internals(dht)._rpc
  const message = { q: 'get_peers', a: { id: rpc.id, info_hash: infoHash } }
  rpc.queryAll(
    nodes,
    message,
    (reply) => {
      if (reply.r?.values !== undefined) onPeers(reply.r.values)
    },
    (_err, hits) => callback(hits),
  )
}
