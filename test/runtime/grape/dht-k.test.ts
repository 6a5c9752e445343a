import { afterEach, describe, expect, it } from 'vitest'
import { converge, DhtTestNetwork, type TestNode } from '../../helpers/dht-nodes.js'

const testNetwork = new DhtTestNetwork()
afterEach(() => testNetwork.destroy())

const keyOf = (name: string) => Buffer.from(name).toString('hex')

/** What nodes of both Ks find of `name` with a full lookup each. */
async function foundBy(nodes: TestNode[], name: string): Promise<string[][]> {
  return Promise.all(
    nodes.map(async ({ node, table }) => {
      table.clear()
      await node.refresh(keyOf(name))
      return table.get(keyOf(name))
    }),
  )
}

describe('dhtK: BEP 5 K = 8 next to the reference K = 20', () => {
  it('finds announces both ways in a network larger than either K, asking fewer nodes per lookup', async () => {
    const seed = await testNetwork.startNode([], { dhtK: 20 })
    const bootstrap = [`127.0.0.1:${seed.node.port}`]
    const wide: TestNode[] = [seed]
    const narrow: TestNode[] = []
    for (let i = 0; i < 14; i++) wide.push(await testNetwork.startNode(bootstrap, { dhtK: 20 }))
    for (let i = 0; i < 15; i++) narrow.push(await testNetwork.startNode(bootstrap))
    await converge([...wide, ...narrow], 7)

    await (wide[3] as TestNode).node.announce(Buffer.from('svc:from-k20'), 4201)
    await (narrow[3] as TestNode).node.announce(Buffer.from('svc:from-k8'), 4202)
    for (const peers of await foundBy([...wide, ...narrow], 'svc:from-k20'))
      expect(peers).toEqual(['127.0.0.1:4201'])
    for (const peers of await foundBy([...wide, ...narrow], 'svc:from-k8'))
      expect(peers).toEqual(['127.0.0.1:4202'])

    const queries = () => testNetwork.nodes.reduce((sum, { getPeers }) => sum + getPeers, 0)
    let before = queries()
    await (narrow[5] as TestNode).node.refresh(keyOf('svc:nobody'))
    const asked8 = queries() - before
    before = queries()
    await (wide[5] as TestNode).node.refresh(keyOf('svc:nobody-either'))
    const asked20 = queries() - before
    expect(asked8).toBeLessThan(asked20)
  })
})
