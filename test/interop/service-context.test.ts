import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { z } from 'zod'
import { defineService } from '../../runtime/schema.js'
import { ServiceClient, type ServiceContext, ServiceServer } from '../../runtime/service/index.js'
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
 * The `ctx` our ServiceClient adds to `{ action, args }` (deadline, metadata) against the
 * reference peers (grenache-nodejs-http 0.7.13, grenache-nodejs-ws 0.7.10): their svc-js style
 * workers read `action` and `args` and ignore it; their clients call our ServiceServer without it
 * and read our masked errors and refusals (issues in the result slot) as plain error messages.
 */
const echoService = (key: string) =>
  defineService({
    name: 'echo',
    version: 1,
    key,
    methods: {
      echo: { input: z.object({ text: z.string() }), output: z.object({ text: z.string() }) },
      fail: { input: z.object({}), output: z.object({}) },
    },
  })

describe('the ctx of { action, args, ctx } against the reference peers', () => {
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

  for (const [transport, kind] of [
    ['http', referenceHttp],
    ['ws', referenceWs],
  ] as const) {
    it(`a reference ${transport} worker answers our ServiceClient that sends ctx (ignored)`, async () => {
      const key = `ctx_theirs_${transport}`
      const link = theirLink(0)
      const peer = new kind.PeerRPCServer(link, { timeout: 300_000 })
      peers.push(peer)
      peer.init()
      const port = await freePort()
      const server = onLoopback(() => peer.transport('server').listen(port))
      const seen: unknown[] = []
      // An svc-js style worker: dispatches on payload.action with payload.args.
      server.on('request', (_rid, _key, payload, handler) => {
        seen.push(payload)
        const { action, args } = payload as { action: string; args: [{ text: string }] }
        if (action === 'echo') handler.reply(null, { text: args[0].text })
        else handler.reply(new Error(`ERR_UNKNOWN_ACTION: ${action}`))
      })
      await promised((cb) => link.announce(key, server.port, {}, cb))
      const client = new ServiceClient(echoService(key), {
        link: net.link(1),
        transport,
        metadata: { traceparent: '00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01' },
      })
      ours.push(client)
      await expect(client.call('echo', { text: 'hi' }, { timeoutMs: 5000 })).resolves.toEqual({ text: 'hi' })
      expect(seen[0]).toMatchObject({
        action: 'echo',
        args: [{ text: 'hi' }],
        ctx: { timeoutMs: expect.any(Number), metadata: { traceparent: expect.any(String) } },
      })
      // What was left of the 5000 ms budget when the call was sent (after its lookup).
      const { timeoutMs } = (seen[0] as { ctx: { timeoutMs: number } }).ctx
      expect(timeoutMs).toBeGreaterThan(4000)
      expect(timeoutMs).toBeLessThanOrEqual(5000)
    })

    it(`the reference ${transport} client calls our ServiceServer: no ctx, masked errors, refusals`, async () => {
      const key = `ctx_ours_${transport}`
      const contexts: ServiceContext[] = []
      const server = new ServiceServer(
        echoService(key),
        {
          echo: ({ text }, context) => {
            contexts.push(context)
            return { text }
          },
          fail: () => {
            throw new Error('password=hunter2')
          },
        },
        { link: net.link(0), listen: [{ transport }], onError: () => {} },
      )
      ours.push(server)
      await server.start()
      const client = new kind.PeerRPCClient(theirLink(1), {})
      peers.push(client)
      client.init()
      const call = (payload: unknown) =>
        promised<unknown>((cb) => client.request(key, payload, { timeout: 10_000 }, cb))
      await expect(call({ action: 'echo', args: [{ text: 'hi' }] })).resolves.toEqual({ text: 'hi' })
      expect(contexts[0]).toMatchObject({ deadline: undefined, metadata: {} })
      const failed = await call({ action: 'fail', args: [{}] }).catch((err: Error) => err.message)
      expect(failed).toMatch(/^ERR_WORKER: echo\.fail failed \(error id [0-9a-f-]+\)$/)
      const refused = await call({ action: 'echo', args: [{ text: 1 }] }).catch((err: Error) => err.message)
      expect(refused).toMatch(/^ERR_INVALID_INPUT: text: /)
    })
  }
})
