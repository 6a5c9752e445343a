import { setTimeout as sleep } from 'node:timers/promises'
import { afterEach, describe, expect, it } from 'vitest'
import { Grape } from '../../../runtime/grape/index.js'
import { loopbackGrape, waitForNodes } from '../../helpers/testnet.js'

async function post(url: string, op: string, data: unknown): Promise<unknown> {
  const response = await fetch(`${url}/${op}`, {
    method: 'POST',
    body: JSON.stringify({ rid: 'test', data }),
    headers: { connection: 'close' },
  })
  const text = await response.text()
  return text === '' ? undefined : JSON.parse(text)
}

/** Calls `attempt` until it returns a value `accept`s; resolves with the ms it took, or the last value. */
async function untilAccepted(
  attempt: () => Promise<unknown>,
  accept: (value: unknown) => boolean,
  capMs: number,
): Promise<{ ms: number; last: unknown }> {
  const begin = Date.now()
  let last: unknown
  while (Date.now() - begin < capMs) {
    last = await attempt()
    if (accept(last)) return { ms: Date.now() - begin, last }
    await sleep(50)
  }
  return { ms: Number.POSITIVE_INFINITY, last }
}

const isCount = (value: unknown) => typeof value === 'number' && value > 0
const isHash = (value: unknown) => typeof value === 'string' && /^[0-9a-f]{40}$/.test(value)

describe('Grape', () => {
  describe('a peer restarted on the same port with a new node id', () => {
    const grapes: Grape[] = []
    afterEach(async () => {
      await Promise.all(grapes.splice(0).map((grape) => grape.close()))
    })

    async function start(options: Parameters<typeof loopbackGrape>[0]): Promise<Grape> {
      const grape = new Grape(loopbackGrape(options))
      grapes.push(grape)
      await grape.start()
      return grape
    }

    /** A seed and a Grape bootstrapped from it, which has announced and put through the seed. */
    async function restartedSeed(): Promise<{ peer: Grape; seed: Grape }> {
      const first = await start({})
      const dhtPort = first.address.dhtPort
      const peer = await start({ bootstrap: [`127.0.0.1:${dhtPort}`] })
      await waitForNodes(peer, 1)
      await waitForNodes(first, 1)
      expect(await post(peer.address.url, 'announce', ['rpc:restart', 40001])).toBe(1)
      expect(isHash(await post(peer.address.url, 'put', { v: 'before the restart' }))).toBe(true)
      await first.close()
      grapes.splice(grapes.indexOf(first), 1)
      // Same address, new node id; it bootstraps from nobody, as a lone seed does.
      const seed = await start({ dhtPort })
      return { peer, seed }
    }

    it("recovers the peer's announces within 2 s", async () => {
      const { peer } = await restartedSeed()
      const { ms, last } = await untilAccepted(
        () => post(peer.address.url, 'announce', ['rpc:restart', 40001]),
        isCount,
        10_000,
      )
      expect(ms, `last answer: ${JSON.stringify(last)}`).toBeLessThan(2000)
    })

    it("recovers the peer's puts within 2 s, and the restarted seed stores them", async () => {
      const { peer, seed } = await restartedSeed()
      const { ms, last } = await untilAccepted(
        () => post(peer.address.url, 'put', { v: 'after the restart' }),
        isHash,
        10_000,
      )
      expect(ms, `last answer: ${JSON.stringify(last)}`).toBeLessThan(2000)
      const item = (await post(seed.address.url, 'get', last)) as { v?: string } | undefined
      expect(item?.v).toBe('after the restart')
    })

    it('re-bootstraps from its configured list when its routing table empties', async () => {
      const { peer, seed } = await restartedSeed()
      await untilAccepted(() => post(peer.address.url, 'announce', ['rpc:restart', 40001]), isCount, 10_000)
      await waitForNodes(peer, 1)
      await waitForNodes(seed, 1)
      expect(peer.nodeCount).toBeGreaterThan(0)
      expect(await post(seed.address.url, 'lookup', 'rpc:restart')).toEqual(['127.0.0.1:40001'])
    })
  })
})
