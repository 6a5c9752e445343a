/**
 * Bind and announce agree (issue 15): the Grape tells where announces through it are stored, the
 * Link reads it, and RpcServer, PubServer and Publisher bind it by default and refuse a bind it
 * does not reach. On loopback, 127.0.0.2 stands for "the address the other Grapes see".
 */
import { networkInterfaces } from 'node:os'
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest'
import { isGrenacheError } from '../../../runtime/errors.js'
import { Grape } from '../../../runtime/grape/index.js'
import { Link } from '../../../runtime/link/index.js'
import { PubServer, RpcServer } from '../../../runtime/peer/index.js'
import { Publisher } from '../../../runtime/replication/publisher.js'
import type { CallOptions } from '../../../runtime/util/deadline.js'
import { freePort, startReferenceGrape } from '../../helpers/reference.js'
import { OrderBookCodec } from '../../helpers/replication.js'
import { StaticDiscovery } from '../../helpers/static-discovery.js'
import { createTestnet, loopbackGrape, type Testnet } from '../../helpers/testnet.js'

/** Discovery whose Grape is seen at `hosts`. */
class SeenAt extends StaticDiscovery {
  constructor(readonly hosts: readonly string[] | undefined) {
    super()
  }
  async announceHosts(): Promise<readonly string[] | undefined> {
    return this.hosts
  }
}

async function rejection(promise: Promise<unknown>): Promise<Error> {
  return promise.then(
    () => {
      throw new Error('expected a rejection')
    },
    (err: Error) => err,
  )
}

/** An IPv4 address of a non-loopback interface of this host, if it has one. */
const lan = Object.values(networkInterfaces())
  .flat()
  .find((entry) => entry && entry.family === 'IPv4' && !entry.internal)?.address

const open: Array<{ close(): Promise<void> }> = []
afterEach(async () => {
  for (const thing of open.splice(0).reverse()) await thing.close()
})

describe('the Grape’s POST /addresses and Link.announceHosts()', () => {
  let net: Testnet
  beforeAll(async () => {
    net = await createTestnet(2)
  })
  afterAll(async () => net?.close())

  it('answers the address its DHT packets leave from, and the DHT port', async () => {
    const response = await fetch(`${net.urls[0]}/addresses`, { method: 'POST', body: '{"rid":"x"}' })
    expect(await response.json()).toEqual({
      announce: ['127.0.0.1'],
      dhtPort: net.grapes[0]?.address.dhtPort,
    })
    expect(await net.link(1).announceHosts()).toEqual(['127.0.0.1'])
  })

  it('answers the route’s source towards each known node when the DHT binds every interface', async () => {
    const grape = new Grape({
      apiPort: 0,
      dhtPort: 0,
      dhtHost: '0.0.0.0',
      bootstrap: [`127.0.0.1:${net.grapes[0]?.address.dhtPort}`],
    })
    open.push(grape)
    const link = new Link({ grape: (await grape.start()).url })
    open.push(link)
    expect(await link.announceHosts()).toEqual(['127.0.0.1'])
  })

  it('is undefined through a reference Grape on this host, which does not have the extension', async () => {
    const reference = await startReferenceGrape()
    open.push({ close: () => reference.stop() })
    const link = new Link({ grape: reference.url })
    open.push(link)
    expect(await link.announceHosts()).toBeUndefined()
  })
})

describe('a worker started before its Grape', () => {
  it('asks again until the Grape is up, then binds and announces', async () => {
    const seed = new Grape(loopbackGrape())
    open.push(seed)
    const seedAddress = await seed.start()
    const apiPort = await freePort()
    let refused!: () => void
    const firstRefusal = new Promise<void>((resolve) => {
      refused = resolve
    })
    /** A Link that says when its Grape first refused. */
    class Watched extends Link {
      override async announceHosts(options?: CallOptions): Promise<readonly string[] | undefined> {
        try {
          return await super.announceHosts(options)
        } catch (err) {
          refused()
          throw err
        }
      }
    }
    const link = new Watched({ grape: `http://127.0.0.1:${apiPort}` })
    open.push(link)
    const server = new RpcServer({ link, listen: [{ transport: 'http' }] })
    server.handle('early', (_request, reply) => reply(null, 'ok'))
    open.push(server)
    const started = server.start({ timeoutMs: 20_000 })
    await firstRefusal
    const grape = new Grape(loopbackGrape({ apiPort, bootstrap: [`127.0.0.1:${seedAddress.dhtPort}`] }))
    open.push(grape)
    await grape.start()
    await started
    expect(server.bound[0]?.host).toBe('127.0.0.1')
  })
})

describe('a Grape’s own binds', () => {
  it('refuses a DHT on loopback that bootstraps from another host with ERR_UNREACHABLE_BIND', async () => {
    const grape = new Grape(loopbackGrape({ bootstrap: ['192.0.2.1:20001'] }))
    const err = await rejection(grape.start())
    expect(isGrenacheError(err, 'ERR_UNREACHABLE_BIND')).toBe(true)
    expect(err.message).toContain('the DHT binds 127.0.0.1 (options.dhtHost, --dht_host)')
    expect(err.message).toContain('192.0.2.1:20001')
  })

  it('warns that a wildcard -b stores its own announces at an address nobody can dial', async () => {
    const grape = new Grape(loopbackGrape({ host: '0.0.0.0' }))
    open.push(grape)
    const warnings: string[] = []
    grape.on('warning', (err) => warnings.push(`${err.code} ${err.message}`))
    await grape.start()
    expect(warnings.some((w) => w.startsWith('ERR_ANNOUNCE_MISMATCH') && w.includes('-b'))).toBe(true)
  })
})

describe('RpcServer bind and announce', () => {
  it('binds the announced address by default and announces there', async () => {
    const link = new SeenAt(['127.0.0.2'])
    const server = new RpcServer({ link, listen: [{ transport: 'http' }, { transport: 'zmq' }] })
    server.handle('svc', (_request, reply) => reply(null, 'ok'))
    open.push(server)
    const [http, zmq] = await server.start()
    expect([...(link.names.get('svc/http') ?? [])]).toEqual([`127.0.0.1:${http?.port}`])
    expect(zmq?.port).toBeGreaterThan(0)
    const reply = await fetch(`http://127.0.0.2:${http?.port}/`, {
      method: 'POST',
      body: JSON.stringify(['r', 'svc', null]),
    })
    expect(await reply.json()).toEqual(['r', null, 'ok'])
  })

  it('refuses at start a host the announced address does not reach, with ERR_ANNOUNCE_MISMATCH', async () => {
    const server = new RpcServer({
      link: new SeenAt(['127.0.0.2']),
      listen: [{ transport: 'ws', host: '127.0.0.1' }],
    })
    server.handle('svc', (_request, reply) => reply(null, 'ok'))
    const err = await rejection(server.start())
    expect(isGrenacheError(err, 'ERR_ANNOUNCE_MISMATCH')).toBe(true)
    expect(err.message).toContain('RpcServer listen[0] (ws): it binds 127.0.0.1 (listen[0].host)')
    expect(err.message).toContain('announced at 127.0.0.2')
  })

  it('starts with checkAnnounce: false, and announces an explicit announcePort', async () => {
    const link = new SeenAt(['127.0.0.2'])
    const server = new RpcServer({
      link,
      checkAnnounce: false,
      listen: [{ transport: 'http', host: '127.0.0.1', announcePort: 40123 }],
    })
    server.handle('svc', (_request, reply) => reply(null, 'ok'))
    open.push(server)
    await server.start()
    expect([...(link.names.get('svc/http') ?? [])]).toEqual(['127.0.0.1:40123'])
  })

  it('keeps 127.0.0.1 when the Grape cannot tell', async () => {
    const server = new RpcServer({ link: new SeenAt(undefined), listen: [{ transport: 'http' }] })
    server.handle('svc', (_request, reply) => reply(null, 'ok'))
    open.push(server)
    const [http] = await server.start()
    const reply = await fetch(`http://127.0.0.1:${http?.port}/`, { method: 'POST', body: '["r","svc",null]' })
    expect(await reply.json()).toEqual(['r', null, 'ok'])
  })
})

describe('PubServer and Publisher bind and announce', () => {
  it('a PubServer binds the announced address by default and refuses one it does not reach', async () => {
    const pub = new PubServer({ link: new SeenAt(['127.0.0.2']), name: 'ticks', transport: 'zmq' })
    open.push(pub)
    expect(await pub.start()).toBeGreaterThan(0)
    const wrong = new PubServer({
      link: new SeenAt(['127.0.0.2']),
      name: 'ticks',
      transport: 'ws',
      host: '127.0.0.1',
    })
    const err = await rejection(wrong.start())
    expect(isGrenacheError(err, 'ERR_ANNOUNCE_MISMATCH')).toBe(true)
    expect(err.message).toContain('PubServer ticks: it binds 127.0.0.1 (host)')
    await wrong.close()
  })

  it('a Publisher binds its control endpoint at the announced address', async () => {
    const publisher = new Publisher(OrderBookCodec, {
      link: new SeenAt(['127.0.0.2']),
      transport: { kind: 'unicast' },
    })
    open.push(publisher)
    expect((await publisher.start()).host).toBe('127.0.0.2')
  })

  // Needs an address of this host besides loopback (a sandbox may have none).
  it.skipIf(lan === undefined)(
    'a Publisher refuses a loopback multicast interface for a feed announced elsewhere',
    async () => {
      const publisher = new Publisher(OrderBookCodec, {
        link: new SeenAt([lan as string]),
        transport: { kind: 'multicast', interface: '127.0.0.1' },
      })
      const err = await rejection(publisher.start())
      expect(isGrenacheError(err, 'ERR_ANNOUNCE_MISMATCH')).toBe(true)
      expect(err.message).toContain('multicasts on 127.0.0.1 (transport.interface)')
      await publisher.close()
    },
  )
})
