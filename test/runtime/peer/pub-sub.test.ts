import { once } from 'node:events'
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest'
import { PubServer, SubClient, type SubMessage } from '../../../runtime/peer/index.js'
import { settledHandles, socketHandles } from '../../helpers/handles.js'
import { createTestnet, type Testnet } from '../../helpers/testnet.js'

/** Publishes `probe` until `sub` has received one (ZeroMQ subscriptions take a moment to reach the publisher). */
async function untilReceiving(pub: PubServer, sub: SubClient, topic?: string): Promise<void> {
  const received = once(sub, 'sub:message', { signal: AbortSignal.timeout(10_000) })
  const timer = setInterval(() => pub.publish('probe', topic), 20)
  try {
    await received
  } finally {
    clearInterval(timer)
  }
}

/** Collects the data of the next `count` messages that are not probes. */
function collect(sub: SubClient, count: number): Promise<SubMessage[]> {
  return new Promise((resolve) => {
    const seen: SubMessage[] = []
    const onMessage = (message: SubMessage): void => {
      if (String(message.data) === 'probe') return
      seen.push(message)
      if (seen.length === count) {
        sub.off('sub:message', onMessage)
        resolve(seen)
      }
    }
    sub.on('sub:message', onMessage)
  })
}

describe('PubServer and SubClient', () => {
  let net: Testnet
  const open: Array<{ close(): Promise<void> }> = []
  const before = socketHandles()

  beforeAll(async () => {
    net = await createTestnet(2)
  })
  afterEach(async () => {
    await Promise.all(open.splice(0).map((o) => o.close()))
  })
  afterAll(async () => {
    await net.close()
    expect(await settledHandles(before)).toEqual(before)
  })

  function pub(name: string, transport: 'ws' | 'zmq'): PubServer {
    const server = new PubServer({ link: net.link(0), name, transport })
    open.push(server)
    return server
  }

  function sub(
    name: string,
    transport: 'ws' | 'zmq',
    options: { topics?: string[]; refreshMs?: number } = {},
  ) {
    const client = new SubClient({ link: net.link(1), name, transport, ...options })
    open.push(client)
    return client
  }

  describe('over WebSocket', () => {
    it('delivers every message to every subscriber, in order, text as strings and bytes as bytes', async () => {
      const publisher = pub('ticker', 'ws')
      await publisher.start()
      const a = sub('ticker', 'ws')
      const b = sub('ticker', 'ws')
      await Promise.all([a.start(), b.start()])
      await expect.poll(() => publisher.subscribers).toBe(2)
      const gotA = collect(a, 4)
      const gotB = collect(b, 4)
      for (const data of ['1', '2', '3']) publisher.publish(data)
      publisher.publish(Buffer.from([0xff, 0x00]))
      for (const got of [await gotA, await gotB]) {
        expect(got.slice(0, 3).map((m) => m.data)).toEqual(['1', '2', '3'])
        expect(Buffer.isBuffer(got[3]?.data)).toBe(true)
        expect(Buffer.from(got[3]?.data ?? '').equals(Buffer.from([0xff, 0x00]))).toBe(true)
        expect(got.every((m) => m.topic === undefined)).toBe(true)
      }
    })

    it('can be read with for await, which ends on close()', async () => {
      const publisher = pub('iterated', 'ws')
      await publisher.start()
      const client = sub('iterated', 'ws')
      await client.start()
      await expect.poll(() => publisher.subscribers).toBe(1)
      const read = (async () => {
        const seen: unknown[] = []
        for await (const message of client) {
          seen.push(message.data)
          if (seen.length === 2) await client.close()
        }
        return seen
      })()
      await new Promise((resolve) => setTimeout(resolve, 20))
      publisher.publish('x')
      publisher.publish('y')
      await expect(read).resolves.toEqual(['x', 'y'])
    })

    it('refuses a topic, which the reference protocol cannot carry', async () => {
      const publisher = pub('no-topics', 'ws')
      await publisher.start()
      expect(() => publisher.publish('x', 'topic')).toThrow(
        expect.objectContaining({ code: 'ERR_INVALID_ARGUMENT' }),
      )
    })

    it('moves to another publisher when its own is gone, and says so with events', async () => {
      const first = pub('moving', 'ws')
      await first.start()
      const client = sub('moving', 'ws', { refreshMs: 100 })
      await client.start()
      const disconnected = once(client, 'sub:disconnected')
      await first.close()
      await disconnected
      const second = pub('moving', 'ws')
      const port = await second.start()
      const [address] = (await once(client, 'sub:connected', { signal: AbortSignal.timeout(15_000) })) as [
        string,
      ]
      expect(address).toBe(`127.0.0.1:${port}`)
      const got = collect(client, 1)
      await expect.poll(() => second.subscribers).toBe(1)
      second.publish('from the second')
      expect((await got)[0]?.data).toBe('from the second')
    })
    it('hears every publisher of the name, and one that appears later', async () => {
      const one = pub('fanin-ws', 'ws')
      const two = pub('fanin-ws', 'ws')
      await Promise.all([one.start(), two.start()])
      const client = sub('fanin-ws', 'ws', { refreshMs: 100 })
      await client.start()
      await expect.poll(() => [one.subscribers, two.subscribers], { timeout: 10_000 }).toEqual([1, 1])
      const got = collect(client, 10)
      for (let i = 0; i < 5; i++) {
        one.publish(`one ${i}`)
        two.publish(`two ${i}`)
      }
      expect((await got).map((m) => String(m.data)).sort()).toEqual(
        [0, 1, 2, 3, 4].flatMap((i) => [`one ${i}`, `two ${i}`]).sort(),
      )
      const late = pub('fanin-ws', 'ws')
      await late.start()
      await expect.poll(() => late.subscribers, { timeout: 10_000 }).toBe(1)
      const fromLate = collect(client, 1)
      late.publish('late')
      expect((await fromLate)[0]?.data).toBe('late')
    })

    it("connects to one publisher only with publishers: 'one'", async () => {
      const one = pub('single-ws', 'ws')
      const two = pub('single-ws', 'ws')
      await Promise.all([one.start(), two.start()])
      const client = new SubClient({
        link: net.link(1),
        name: 'single-ws',
        transport: 'ws',
        publishers: 'one',
        refreshMs: 100,
      })
      open.push(client)
      await client.start()
      await new Promise((resolve) => setTimeout(resolve, 500))
      expect((one.subscribers ?? 0) + (two.subscribers ?? 0)).toBe(1)
      expect(
        () => new SubClient({ link: net.link(1), name: 'x', transport: 'ws', publishers: 'some' as never }),
      ).toThrow(/options\.publishers/)
    })
  })

  describe('over ZeroMQ', () => {
    it('filters by topic prefix', async () => {
      const publisher = pub('prices', 'zmq')
      await publisher.start()
      const client = sub('prices', 'zmq', { topics: ['btc'] })
      await client.start()
      await untilReceiving(publisher, client, 'btc:probe')
      const got = collect(client, 2)
      publisher.publish('1', 'eth:usd')
      publisher.publish('2', 'btc:usd')
      publisher.publish('3', 'btc:eur')
      expect((await got).map((m) => [m.topic, String(m.data)])).toEqual([
        ['btc:usd', '2'],
        ['btc:eur', '3'],
      ])
    })

    it('receives from every publisher of the name', async () => {
      const one = pub('fanin', 'zmq')
      const two = pub('fanin', 'zmq')
      await Promise.all([one.start(), two.start()])
      const client = sub('fanin', 'zmq', { refreshMs: 100 })
      await client.start()
      await untilReceiving(one, client)
      await untilReceiving(two, client)
      const got = collect(client, 2)
      one.publish('from one')
      two.publish('from two')
      expect((await got).map((m) => String(m.data)).sort()).toEqual(['from one', 'from two'])
    })
  })

  it('rejects start() once timeoutMs passes with nobody announced, and leaves nothing open', async () => {
    // Each lookup may take up to refreshMs: a short one would time out on a loaded machine.
    const client = sub('nobody', 'ws', { refreshMs: 250 })
    await expect(client.start({ timeoutMs: 1000 })).rejects.toMatchObject({ code: 'ERR_LOOKUP_EMPTY' })
  })

  it('finds a publisher announced just after start() without waiting a whole refreshMs', async () => {
    const client = sub('announced-late', 'ws', { refreshMs: 20_000 })
    const begin = performance.now()
    const started = client.start({ timeoutMs: 15_000 })
    await new Promise((resolve) => setTimeout(resolve, 300))
    await pub('announced-late', 'ws').start()
    await started
    // Asked again 100, 200, 400… ms after each empty answer, not 20 s later.
    expect(performance.now() - begin).toBeLessThan(10_000)
  })

  it('keeps start()’s deadline when the Grape is slow to answer a lookup', async () => {
    // A lookup that answers only at its own timeout (here refreshMs, 20 s) or when aborted.
    const slow = {
      startAnnouncing: async () => {},
      stopAnnouncing: () => false,
      lookup: (_name: string, options?: { timeoutMs?: number; signal?: AbortSignal }) =>
        new Promise<readonly string[]>((_resolve, reject) => {
          const timer = setTimeout(() => reject(new Error('lookup timed out')), options?.timeoutMs)
          options?.signal?.addEventListener('abort', () => {
            clearTimeout(timer)
            reject(options.signal?.reason)
          })
        }),
    }
    const client = new SubClient({ link: slow, name: 'slow', transport: 'ws', refreshMs: 20_000 })
    open.push(client)
    const begin = performance.now()
    await expect(client.start({ timeoutMs: 300 })).rejects.toMatchObject({ code: 'ERR_TIMEOUT' })
    expect(performance.now() - begin).toBeLessThan(5_000)
  })

  it('rejects invalid options with ERR_INVALID_OPTION', () => {
    expect(() => new PubServer({ name: '', transport: 'ws' })).toThrow(/options\.name/)
    expect(() => new PubServer({ name: 'x', transport: 'http' as never })).toThrow(/options\.transport/)
    expect(() => new PubServer({ name: 'x', transport: 'wss' })).toThrow(/options\.tls/)
    expect(() => new SubClient({ link: net.link(0), name: 'x', transport: 'zmq', tls: {} })).toThrow(
      /options\.tls/,
    )
  })
})
