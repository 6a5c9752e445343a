import { once } from 'node:events'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { PubServer, RpcClient, RpcServer, SubClient, type SubMessage } from '../../runtime/peer/index.js'
import { freePort, type ReferenceLink, referenceLink } from '../helpers/reference.js'
import {
  onLoopback,
  promised,
  type ReferencePeer,
  referenceHttp,
  referenceWs,
} from '../helpers/reference-peers.js'
import { createTestnet, type Testnet } from '../helpers/testnet.js'

/**
 * Our peers and the reference peers on one Grape network, through legacy (plain) keys: reference
 * clients call our workers (request and map), our clients call reference workers, and pub/sub
 * crosses both ways. Reference peers use the reference Link (grenache-nodejs-link 1.0.2).
 */
describe('peers against the reference peers', () => {
  let net: Testnet
  const links: ReferenceLink[] = []
  const peers: ReferencePeer[] = []
  const ours: Array<{ close(): Promise<void> }> = []

  beforeAll(async () => {
    net = await createTestnet(2)
  })
  afterAll(async () => {
    for (const peer of peers) peer.stop()
    for (const link of links) link.stop()
    await Promise.all(ours.map((o) => o.close()))
    await net.close()
  })

  function theirLink(index: number): ReferenceLink {
    const link = referenceLink(net.urls[index] as string)
    links.push(link)
    return link
  }

  /** Two of our workers of `key` on `transport`, announced under the plain key. */
  async function ourWorkers(key: string, transport: 'http' | 'ws'): Promise<void> {
    for (const name of ['one', 'two']) {
      const server = new RpcServer({ link: net.link(0), listen: [{ transport }] })
      server.handle(
        key,
        (request, reply) =>
          request.payload === 'fail'
            ? reply(new Error('ERR_BUSINESS'))
            : reply(null, `${name}:${request.payload}`),
        { discovery: 'plain' },
      )
      ours.push(server)
      await server.start()
    }
  }

  /** A reference worker of `key`, announced through the reference Link. */
  async function theirWorker(key: string, kind: typeof referenceHttp | typeof referenceWs): Promise<void> {
    const link = theirLink(0)
    const peer = new kind.PeerRPCServer(link, { timeout: 300_000 })
    peers.push(peer)
    peer.init()
    // Its listen(0) would announce port 0: give it a free port.
    const port = await freePort()
    const service = onLoopback(() => peer.transport('server').listen(port))
    service.on('request', (_rid, _key, payload, handler) =>
      payload === 'fail'
        ? handler.reply(new Error('ERR_BUSINESS'))
        : handler.reply(null, `theirs:${payload}`),
    )
    await promised((cb) => link.announce(key, service.port, {}, cb))
  }

  for (const [transport, kind] of [
    ['http', referenceHttp],
    ['ws', referenceWs],
  ] as const) {
    describe(`over ${transport}`, () => {
      it(`the reference PeerRPCClient calls our workers: request, map, and an error`, async () => {
        await ourWorkers(`legacy_${transport}`, transport)
        const client = new kind.PeerRPCClient(theirLink(1), {})
        peers.push(client)
        client.init()
        const reply = await promised<string>((cb) =>
          client.request(`legacy_${transport}`, 'hi', { timeout: 10_000 }, cb),
        )
        expect(reply).toMatch(/^(one|two):hi$/)
        await expect
          .poll(
            async () =>
              (
                await promised<unknown[]>((cb) =>
                  client.map(`legacy_${transport}`, 'all', { timeout: 10_000 }, cb),
                )
              ).length,
            {
              timeout: 10_000,
            },
          )
          .toBe(2)
        const all = await promised<string[]>((cb) =>
          client.map(`legacy_${transport}`, 'all', { timeout: 10_000 }, cb),
        )
        expect([...all].sort()).toEqual(['one:all', 'two:all'])
        await expect(
          promised((cb) => client.request(`legacy_${transport}`, 'fail', { timeout: 10_000 }, cb)),
        ).rejects.toThrow('ERR_BUSINESS')
      })

      it('our RpcClient calls a reference worker: request, map, and an error', async () => {
        await theirWorker(`their_${transport}`, kind)
        const client = new RpcClient({ link: net.link(1), transport, discovery: 'plain' })
        ours.push(client)
        await expect(client.request(`their_${transport}`, 'hi')).resolves.toBe('theirs:hi')
        const results = await client.map(`their_${transport}`, 'all')
        expect(results).toEqual([
          { worker: expect.stringMatching(/^127\.0\.0\.1:\d+$/), ok: true, value: 'theirs:all' },
        ])
        await expect(client.request(`their_${transport}`, 'fail')).rejects.toMatchObject({
          code: 'ERR_REMOTE',
          remoteCode: 'ERR_BUSINESS',
        })
      })
    })
  }

  describe('pub/sub over WebSocket', () => {
    it('the reference PeerSub receives what our PubServer publishes', async () => {
      const publisher = new PubServer({
        link: net.link(0),
        name: 'our_feed',
        transport: 'ws',
        discovery: 'plain',
      })
      ours.push(publisher)
      await publisher.start()
      const subscriber = new referenceWs.PeerSub(theirLink(1), {})
      peers.push(subscriber)
      subscriber.init()
      const connected = once(subscriber as never, 'connected')
      subscriber.sub('our_feed', { timeout: 10_000 })
      await connected
      await expect.poll(() => publisher.subscribers).toBe(1)
      const received: unknown[] = []
      subscriber.on('message', (message) => received.push(message))
      publisher.publish('tick-1')
      publisher.publish('tick-2')
      await expect.poll(() => received).toEqual(['tick-1', 'tick-2'])
    })

    it('our SubClient receives what the reference PeerPub publishes', async () => {
      const link = theirLink(0)
      const publisher = new referenceWs.PeerPub(link, {})
      peers.push(publisher)
      publisher.init()
      const port = await freePort()
      const service = onLoopback(() => publisher.transport('server').listen(port))
      await promised((cb) => link.announce('their_feed', port, {}, cb))
      const subscriber = new SubClient({
        link: net.link(1),
        name: 'their_feed',
        transport: 'ws',
        discovery: 'plain',
      })
      ours.push(subscriber)
      await subscriber.start()
      const received: SubMessage[] = []
      subscriber.on('sub:message', (message) => received.push(message))
      await expect
        .poll(
          () => {
            service.pub?.('tick')
            return received.length > 0
          },
          { timeout: 10_000 },
        )
        .toBe(true)
      expect(received[0]?.data).toBe('tick')
    })
  })
})
