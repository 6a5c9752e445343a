import { setTimeout as sleep } from 'node:timers/promises'
import { krpcSocketOf } from '../../runtime/grape/dht-internals.js'
import { DhtNode } from '../../runtime/grape/dht-node.js'
import { type GrapeOptions, resolveGrapeOptions } from '../../runtime/grape/grape-options.js'
import { PeerTable } from '../../runtime/grape/peer-table.js'

/** A bare DHT node of a test network, with its peer table and what it was asked. */
export interface TestNode {
  node: DhtNode
  table: PeerTable
  /** `get_peers` queries this node answered. */
  getPeers: number
}

/** Bare DHT nodes on 127.0.0.1 (no Grape API): start them with `network()`, end them with `destroy()`. */
export class DhtTestNetwork {
  readonly nodes: TestNode[] = []

  async startNode(bootstrap: string[], extra: Partial<GrapeOptions> = {}): Promise<TestNode> {
    const table = new PeerTable({ maxAgeMs: 60_000 })
    const options = resolveGrapeOptions({ ...extra, apiPort: 0, dhtPort: 0, dhtHost: '127.0.0.1', bootstrap })
    const node = new DhtNode(options, table, { onNode() {}, onPeer() {}, onWarning() {} })
    const entry: TestNode = { node, table, getPeers: 0 }
    this.nodes.push(entry)
    await node.start()
    krpcSocketOf(node.dht).on('query', (message: { q?: Buffer }) => {
      if (message.q?.toString() === 'get_peers') entry.getPeers++
    })
    return entry
  }

  /** `size` DHT nodes bootstrapped from the first, each knowing every other one (bounded wait). */
  async network(size: number, extra: Partial<GrapeOptions> = {}): Promise<TestNode[]> {
    const first = await this.startNode([], extra)
    const rest: TestNode[] = []
    for (let i = 1; i < size; i++) rest.push(await this.startNode([`127.0.0.1:${first.node.port}`], extra))
    const all = [first, ...rest]
    await converge(all, size - 1)
    return all
  }

  async destroy(): Promise<void> {
    await Promise.all(this.nodes.splice(0).map(({ node }) => node.destroy()))
  }
}

/**
 * Every node looks itself up once more, so that each learns the (small) network; then waits
 * (bounded) until each knows at least `known` others.
 */
export async function converge(all: TestNode[], known: number): Promise<void> {
  await Promise.all(all.map(({ node }) => node.refresh(Buffer.alloc(20, 1).toString('hex'))))
  const begin = Date.now()
  while (all.some(({ node }) => node.dht.nodes.count() < known)) {
    if (Date.now() - begin > 10_000) throw new Error(`the test network did not converge in 10 s`)
    await sleep(20)
  }
}
