import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { z } from 'zod'
import { defineService } from '../../../runtime/schema.js'
import { ServicePublisher, ServiceSubscriber } from '../../../runtime/service/index.js'
import { settledHandles, socketHandles } from '../../helpers/handles.js'
import { createTestnet, type Testnet } from '../../helpers/testnet.js'

const ticker = defineService({
  name: 'ticker',
  version: 1,
  methods: { ping: { input: z.object({}), output: z.string() } },
  events: { tick: { payload: z.object({ from: z.string(), n: z.number() }) } },
})

describe('ServiceSubscriber', () => {
  let net: Testnet
  const before = socketHandles()

  beforeAll(async () => {
    net = await createTestnet(2)
  })
  afterAll(async () => {
    await net.close()
    expect(await settledHandles(before)).toEqual(before)
  })

  for (const transport of ['ws', 'zmq'] as const) {
    it(`hears every publishing worker over ${transport}`, async () => {
      const publishers = [0, 1].map(() => new ServicePublisher(ticker, { link: net.link(0), transport }))
      const subscriber = new ServiceSubscriber(ticker, { link: net.link(1), transport, refreshMs: 100 })
      try {
        await Promise.all(publishers.map((p) => p.start()))
        await expect
          .poll(
            () =>
              net
                .link(1)
                .lookup(`ticker@1.events/${transport}`)
                .then((a) => a.length),
            {
              timeout: 10_000,
            },
          )
          .toBe(2)
        const heard = new Set<string>()
        subscriber.on('event', (_event, payload) => {
          const { from, n } = payload as { from: string; n: number }
          heard.add(`${from} ${n}`)
        })
        await subscriber.start()
        // Subscriptions take a moment to reach each publisher: publish until one of each arrives.
        let n = 0
        const deadline = Date.now() + 15_000
        const from = (who: string) => [...heard].some((h) => h.startsWith(`${who} `))
        while (!(from('a') && from('b')) && Date.now() < deadline) {
          n++
          publishers[0]?.publish('tick', { from: 'a', n })
          publishers[1]?.publish('tick', { from: 'b', n })
          await new Promise((resolve) => setTimeout(resolve, 50))
        }
        heard.clear()
        for (let i = 1000; i < 1005; i++) {
          publishers[0]?.publish('tick', { from: 'a', n: i })
          publishers[1]?.publish('tick', { from: 'b', n: i })
        }
        await expect.poll(() => heard.size, { timeout: 10_000 }).toBe(10)
      } finally {
        await subscriber.close()
        await Promise.all(publishers.map((p) => p.close()))
      }
    })
  }
})
