import { once } from 'node:events'
import { createServer } from 'node:net'
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest'
import type { GrenacheError } from '../../../runtime/errors.js'
import { type MapResult, RpcClient, RpcServer } from '../../../runtime/peer/index.js'
import { settledHandles, socketHandles } from '../../helpers/handles.js'
import { StaticDiscovery } from '../../helpers/static-discovery.js'
import { createTestnet, type Testnet } from '../../helpers/testnet.js'

/** An address where nothing listens: a port the OS gave us and we closed again. */
async function deadAddress(): Promise<string> {
  const server = createServer()
  server.listen(0, '127.0.0.1')
  await once(server, 'listening')
  const { port } = server.address() as { port: number }
  await new Promise((resolve) => server.close(resolve))
  return `127.0.0.1:${port}`
}

describe('RpcClient when workers restart (http on 127.0.0.1)', () => {
  const open: Array<{ close(): Promise<void> }> = []
  const before = socketHandles()
  let net: Testnet

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

  async function worker(link: StaticDiscovery | ReturnType<Testnet['link']>, answer = 'live') {
    const server = new RpcServer({ link, listen: [{ transport: 'http' }], drainTimeoutMs: 0 })
    server.handle('svc', (_request, reply) => (answer === 'fail' ? reply('BROKEN') : reply(null, answer)))
    await server.start()
    return server
  }

  function client(link: StaticDiscovery | ReturnType<Testnet['link']>): RpcClient {
    const rpc = new RpcClient({ link, transport: 'http', timeoutMs: 5000 })
    open.push(rpc)
    return rpc
  }

  it('reaches the one live worker among five stale addresses, with the default retry', async () => {
    const link = new StaticDiscovery()
    open.push(await worker(link))
    for (let i = 0; i < 5; i++) link.add('svc/http', await deadAddress())
    // A fresh client knows nothing yet: each of them must get through on its first call.
    for (let i = 0; i < 20; i++) {
      await expect(client(link).request('svc', i)).resolves.toBe('live')
    }
  })

  it('leaves a refused address out of later calls', async () => {
    const link = new StaticDiscovery()
    const live = await worker(link)
    open.push(live)
    const dead = await deadAddress()
    link.add('svc/http', dead)
    const rpc = client(link)
    await expect(rpc.request('svc', 1, { retry: 0 })).resolves.toBe('live')
    // retry: 0 would fail a call that tried the dead address; it is not tried again within its hold.
    for (let i = 0; i < 30; i++) await expect(rpc.request('svc', i, { retry: 0 })).resolves.toBe('live')
  })

  it('reports refused addresses in map as gone, apart from workers that failed', async () => {
    const link = new StaticDiscovery()
    open.push(await worker(link, 'a'), await worker(link, 'fail'))
    const dead = await deadAddress()
    link.add('svc/http', dead)
    const results = await client(link).map('svc', 1)
    const summary = (r: MapResult) =>
      r.ok ? 'ok' : r.gone ? `gone ${r.error.code}` : `failed ${r.error.code}`
    expect(results.map(summary).sort()).toEqual(['failed ERR_REMOTE', 'gone ERR_CONNECTION_REFUSED', 'ok'])
    expect(results.find((r) => !r.ok && r.gone)?.worker).toBe(dead)
  })

  it('fails no idempotent call through a rolling restart of three workers announced on the DHT', async () => {
    const workerLink = net.link(0, { announceIntervalMs: 60_000 })
    const clientLink = net.link(1, { lookupRefreshMs: 100 })
    const workers = [await worker(workerLink), await worker(workerLink), await worker(workerLink)]
    const rpc = client(clientLink)
    await expect.poll(() => clientLink.lookup('svc/http').then((a) => a.length), { timeout: 10_000 }).toBe(3)
    let calls = 0
    const failures: string[] = []
    let running = true
    const loop = async (): Promise<void> => {
      while (running) {
        calls++
        await rpc.request('svc', calls, { idempotent: true }).catch((err: GrenacheError) => {
          failures.push(err.code)
        })
      }
    }
    const loops = [loop(), loop()]
    for (let i = 0; i < workers.length; i++) {
      // A restart: the old process is gone (its address stays in the DHT), a new one takes a new port.
      await (workers[i] as RpcServer).close()
      await new Promise((resolve) => setTimeout(resolve, 300))
      workers[i] = await worker(workerLink)
      await new Promise((resolve) => setTimeout(resolve, 300))
    }
    await new Promise((resolve) => setTimeout(resolve, 1000))
    running = false
    await Promise.all(loops)
    open.push(...workers)
    // The DHT still holds the three stopped workers' addresses.
    expect((await clientLink.lookup('svc/http')).length).toBe(6)
    expect(calls).toBeGreaterThan(50)
    expect(failures).toEqual([])
  })

  it('rejects an invalid goneMaxMs with ERR_INVALID_OPTION', () => {
    expect(() => new RpcClient({ link: new StaticDiscovery(), transport: 'http', goneMaxMs: 10 })).toThrow(
      expect.objectContaining({ code: 'ERR_INVALID_OPTION', message: expect.stringMatching(/goneMaxMs/) }),
    )
  })
})
