/**
 * Publisher and replicas over real UDP sockets in one process: unicast fan-out (for networks
 * without multicast), multicast with loss injected on the replica's receive side, and the
 * multicast interface refused with a coded error naming the option.
 */
import { afterEach, describe, expect, it } from 'vitest'
import { GrenacheError } from '../../../runtime/errors.js'
import { lossyNetwork } from '../../../runtime/replication/lossy-network.js'
import { Publisher, type PublisherOptions } from '../../../runtime/replication/publisher.js'
import { Replica, type ReplicaOptions } from '../../../runtime/replication/replica.js'
import { UdpNetwork } from '../../../runtime/replication/udp-endpoint.js'
import { settledHandles, socketHandles } from '../../helpers/handles.js'
import {
  type Book,
  type BookReplica,
  converged,
  OrderBookCodec,
  orderBookWorkload,
  plain,
  publish,
} from '../../helpers/replication.js'

const open: Array<{ close(): Promise<void> }> = []
let before: Record<string, number> = {}
afterEach(async () => {
  for (const thing of open.splice(0).reverse()) await thing.close()
  expect(await settledHandles(before)).toEqual(before)
})

function group(): string {
  return `239.255.${1 + Math.floor(Math.random() * 250)}.${1 + Math.floor(Math.random() * 250)}`
}

async function publisher(options: PublisherOptions): Promise<Book> {
  before = socketHandles()
  const pub = new Publisher(OrderBookCodec, options)
  open.push(pub)
  await pub.start()
  return pub
}

async function replica(pub: Book, options: Partial<ReplicaOptions>): Promise<BookReplica> {
  const address = pub.address
  if (!address) throw new Error('publisher not started')
  const rep = new Replica(OrderBookCodec, { publisher: `${address.host}:${address.port}`, ...options })
  open.push(rep)
  await rep.start({ timeoutMs: 10_000 })
  await rep.synced({ timeoutMs: 10_000 })
  return rep
}

function expectSame(pub: Book, rep: BookReplica): void {
  expect(rep.seq).toBe(pub.seq)
  expect(rep.stats.digest).toBe(pub.stats.digest)
  expect(plain(rep.leaves)).toEqual(plain(pub.leaves))
}

describe('replication over UDP', () => {
  it('fans out over unicast to every subscribed replica, and stops sending to one that left', async () => {
    const pub = await publisher({ transport: { kind: 'unicast' } })
    await publish(pub, orderBookWorkload(31), 2000, 200)
    const a = await replica(pub, { transport: { kind: 'unicast' } })
    const b = await replica(pub, { transport: { kind: 'unicast' } })
    expect(pub.stats.subscribers).toBe(2)
    await publish(pub, orderBookWorkload(32), 5000, 200)
    await converged(pub, a)
    await converged(pub, b)
    expectSame(pub, a)
    expectSame(pub, b)
    await b.close()
    const deadline = Date.now() + 2000
    while (pub.stats.subscribers !== 1 && Date.now() < deadline) await new Promise((r) => setTimeout(r, 10))
    expect(pub.stats.subscribers).toBe(1)
  })

  it('takes at most maxSubscribers replicas on a unicast feed; one more gets in once a place is free', async () => {
    const pub = await publisher({ transport: { kind: 'unicast' }, maxSubscribers: 1 })
    await publish(pub, orderBookWorkload(34), 500, 100)
    const a = await replica(pub, { transport: { kind: 'unicast' } })
    const address = pub.address
    if (!address) throw new Error('publisher not started')
    const b = new Replica(OrderBookCodec, {
      publisher: `${address.host}:${address.port}`,
      transport: { kind: 'unicast' },
    })
    open.push(b)
    await b.start({ timeoutMs: 10_000 })
    const deadline = Date.now() + 5000
    while (pub.stats.subscribersRefused === 0 && Date.now() < deadline)
      await new Promise((r) => setTimeout(r, 10))
    expect(pub.stats.subscribersRefused).toBeGreaterThan(0)
    expect(pub.stats.subscribers).toBe(1)
    expect(b.status).toBe('joining')
    await a.close()
    await b.synced({ timeoutMs: 10_000 })
    await publish(pub, orderBookWorkload(35), 500, 100)
    await converged(pub, b)
    expectSame(pub, b)
  })

  it('repairs 5% loss over real multicast sockets on 127.0.0.1', async () => {
    const pub = await publisher({ transport: { kind: 'multicast', group: group(), interface: '127.0.0.1' } })
    const network = lossyNetwork(new UdpNetwork({ interface: '127.0.0.1' }), (index) => ({
      on: 'receive',
      seed: 40 + index,
      drop: 0.05,
    }))
    const rep = await replica(pub, { transport: { kind: 'multicast', interface: '127.0.0.1', network } })
    await publish(pub, orderBookWorkload(33), 10_000, 200)
    await converged(pub, rep)
    expectSame(pub, rep)
    expect(rep.stats.nacks).toBeGreaterThan(0)
  })

  it('refuses an interface that cannot multicast with ERR_MULTICAST naming the option', async () => {
    before = socketHandles()
    const pub = new Publisher(OrderBookCodec, {
      transport: { kind: 'multicast', group: group(), interface: '203.0.113.77' },
    })
    open.push(pub)
    const error = await pub.start().catch((err: unknown) => err)
    expect(error).toBeInstanceOf(GrenacheError)
    expect((error as GrenacheError).code).toBe('ERR_MULTICAST')
    expect((error as GrenacheError).message).toContain('interface')
  })

  it('refuses bad options at construction with ERR_INVALID_OPTION naming them', () => {
    const bad: Array<[PublisherOptions, string]> = [
      [{ transport: { kind: 'multicast', group: '10.0.0.1' } }, 'options.transport.group'],
      [{ heartbeatMs: 0 }, 'options.heartbeatMs'],
      [{ maxDatagramBytes: 100 }, 'options.maxDatagramBytes'],
      [{ repairTo: 'everyone' as 'group' }, 'options.repairTo'],
      [{ retransmitBufferBytes: 2 ** 31 }, 'options.retransmitBufferBytes'],
      [{ maxSubscribers: 0 }, 'options.maxSubscribers'],
      [{ session: 'xyz' }, 'options.session'],
      [{ snapshotStream: 'smtp' as 'http' }, 'options.snapshotStream'],
    ]
    for (const [options, name] of bad) {
      expect(() => new Publisher(OrderBookCodec, options)).toThrow(
        expect.objectContaining({ code: 'ERR_INVALID_OPTION', message: expect.stringContaining(name) }),
      )
    }
    expect(() => new Replica(OrderBookCodec, {})).toThrow(/options.link or options.publisher/)
    expect(() => new Replica(OrderBookCodec, { publisher: 'nowhere' })).toThrow(/options.publisher/)
    expect(() => new Replica(OrderBookCodec, { publisher: '127.0.0.1:1', nackAttempts: 0 })).toThrow(
      /options.nackAttempts/,
    )
  })
})
