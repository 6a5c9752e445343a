import { performance } from 'node:perf_hooks'
import { afterEach, describe, expect, it } from 'vitest'
import { DhtTestNetwork, type TestNode } from '../../helpers/dht-nodes.js'

const testNetwork = new DhtTestNetwork()
afterEach(() => testNetwork.destroy())

/** Makes `node` answer `get_peers` (with a token) but never `announce_peer`: a node dying mid-announce. */
function silenceAnnounces({ node }: TestNode): void {
  ;(node.dht as unknown as { _onannouncepeer: () => void })._onannouncepeer = () => undefined
}

async function timed<T>(run: () => Promise<T>): Promise<{ value: T; ms: number }> {
  const begin = performance.now()
  const value = await run()
  return { value, ms: performance.now() - begin }
}

describe('DhtNode.announce(): the quorum', () => {
  it('is acknowledged without waiting for a node that never answers, and is found from every node', async () => {
    const all = await testNetwork.network(7)
    const [announcer, silent, ...others] = all as [TestNode, TestNode, ...TestNode[]]
    silenceAnnounces(silent)

    const ours = await timed(() => announcer.node.announce(Buffer.from('svc:quorum'), 4100))
    // Six nodes were asked, five stored it: acknowledged at three (half of the closest six).
    expect(ours.value).toBeGreaterThanOrEqual(3)
    expect(ours.ms).toBeLessThan(1000)
    for (const { node, table } of others) {
      await node.refresh(Buffer.from('svc:quorum').toString('hex'))
      expect(table.get(Buffer.from('svc:quorum').toString('hex'))).toEqual(['127.0.0.1:4100'])
    }

    // bittorrent-dht's own announce waits for the silent node: k-rpc-socket's timeout, about 2 s.
    const theirs = await timed(
      () =>
        new Promise<number>((resolve, reject) =>
          announcer.node.dht.announce(Buffer.from('svc:classic'), 4101, (err, count) =>
            err ? reject(err) : resolve(count ?? 0),
          ),
        ),
    )
    expect(theirs.value).toBe(5)
    expect(theirs.ms).toBeGreaterThan(1000)
  })

  it('answers with every node when too few of the closest can store it, and fails when none can', async () => {
    const all = await testNetwork.network(4)
    const [announcer, ...rest] = all as [TestNode, ...TestNode[]]
    // Two of three silent: the quorum (two) is never reached, so the answer waits for the timeouts.
    for (const node of rest.slice(0, 2)) silenceAnnounces(node)
    const some = await timed(() => announcer.node.announce(Buffer.from('svc:few'), 4102))
    expect(some.value).toBe(1)
    expect(some.ms).toBeGreaterThan(1000)

    silenceAnnounces(rest[2] as TestNode)
    await expect(announcer.node.announce(Buffer.from('svc:none'), 4103)).rejects.toThrow('All queries failed')
  })
})
