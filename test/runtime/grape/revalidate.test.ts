import { afterEach, describe, expect, it } from 'vitest'
import { compactPeers } from '../../../runtime/grape/dht-node.js'
import { DhtTestNetwork, type TestNode } from '../../helpers/dht-nodes.js'

const testNetwork = new DhtTestNetwork()
const nodes = testNetwork.nodes
const network = (size: number, extra?: { dhtK: number }) => testNetwork.network(size, extra)

afterEach(() => testNetwork.destroy())

const keyOf = (name: string) => Buffer.from(name).toString('hex')
const queriesSoFar = (all: TestNode[]) => all.reduce((sum, { getPeers }) => sum + getPeers, 0)

describe('DhtNode.revalidate()', () => {
  it('asks at most 8 nodes once each, fewer than a full lookup, and finds a peer announced since', async () => {
    // The reference's K: a full lookup then asks more nodes than a revalidation's 8.
    const all = await network(14, { dhtK: 20 })
    const [, announcer, reader, later] = all as [TestNode, TestNode, TestNode, TestNode]
    const key = keyOf('svc:revalidate')
    await announcer.node.announce(Buffer.from('svc:revalidate'), 4001)

    let before = queriesSoFar(all)
    await reader.node.refresh(key)
    const fullLookup = queriesSoFar(all) - before
    expect(reader.table.get(key)).toEqual(['127.0.0.1:4001'])

    await later.node.announce(Buffer.from('svc:revalidate'), 4002)
    // The reader stores announces too: forget them, so that only the answers can bring them back.
    reader.table.clear()
    before = queriesSoFar(all)
    await reader.node.revalidate(key)
    const revalidation = queriesSoFar(all) - before

    expect(reader.table.get(key).sort()).toEqual(['127.0.0.1:4001', '127.0.0.1:4002'])
    expect(revalidation).toBeGreaterThan(0)
    expect(revalidation).toBeLessThanOrEqual(8)
    expect(revalidation).toBeLessThan(fullLookup)
    expect(reader.table.ageOf(key)).toBeLessThan(5_000)
    expect(reader.node.revalidationStats).toEqual({ done: 1, fellBack: 0 })
  })

  it('shares a full lookup of the same name already under way', async () => {
    const [seed, reader] = (await network(3)) as [TestNode, TestNode]
    const key = keyOf('svc:shared')
    await seed.node.announce(Buffer.from('svc:shared'), 4003)
    const full = reader.node.refresh(key)
    expect(reader.node.revalidate(key)).toBe(full)
    await full
  })

  it('resolves and counts nothing once the node is destroyed', async () => {
    const [seed, reader] = (await network(2)) as [TestNode, TestNode]
    await seed.node.announce(Buffer.from('svc:closed'), 4006)
    await reader.node.refresh(keyOf('svc:closed'))
    await reader.node.destroy()
    nodes.splice(nodes.indexOf(reader), 1)
    await expect(reader.node.revalidate(keyOf('svc:closed'))).resolves.toBeUndefined()
    expect(reader.node.revalidationStats).toEqual({ done: 0, fellBack: 0 })
  })

  it('falls back to a full lookup when fewer than half of the nodes it asks answer', async () => {
    const all = await network(6)
    const [seed, reader, holder] = all as [TestNode, TestNode, TestNode]
    const key = keyOf('svc:fallback')
    await holder.node.announce(Buffer.from('svc:fallback'), 4004)
    await reader.node.refresh(key)
    // Four of the five nodes the reader knows go away; its routing table still lists them.
    for (const gone of all.slice(3)) {
      await gone.node.destroy()
      nodes.splice(nodes.indexOf(gone), 1)
    }
    await seed.node.destroy()
    nodes.splice(nodes.indexOf(seed), 1)
    reader.table.clear()

    const asked = holder.getPeers
    await reader.node.revalidate(key)
    // One get_peers of the single round, and at least one more from the full lookup after it.
    expect(holder.getPeers - asked).toBeGreaterThanOrEqual(2)
    expect(reader.table.get(key)).toEqual(['127.0.0.1:4004'])
    expect(reader.table.ageOf(key)).toBeLessThan(5_000)
    expect(reader.node.revalidationStats).toEqual({ done: 0, fellBack: 1 })
  }, 20_000)
})

describe('compactPeers()', () => {
  it('reads compact IPv4 peers and skips anything else', () => {
    const peer = Buffer.from([127, 0, 0, 1, 0x1f, 0x90])
    expect(compactPeers([peer, Buffer.from([10, 0, 0, 2, 0, 0]), Buffer.alloc(5), 'text', 7])).toEqual([
      { host: '127.0.0.1', port: 8080 },
    ])
    expect(compactPeers(Buffer.alloc(6))).toEqual([])
    expect(compactPeers(undefined)).toEqual([])
  })
})
