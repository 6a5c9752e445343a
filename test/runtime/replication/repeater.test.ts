/**
 * publisher → repeater → (WebSocket consumers, a downstream group): the upstream on a memory
 * network, the downstream publisher on a second one, the WebSocket feed on 127.0.0.1. Every
 * consumer ends with the publisher's leaves, digest and seq.
 */
import { once } from 'node:events'
import { afterEach, beforeEach, describe, expect, it } from 'vitest'
import WebSocket from 'ws'
import { OrderBookCodec, type OrderBookDelta, type OrderBookLeaf } from '../../../generated/index.js'
import type { DatagramNetwork } from '../../../runtime/replication/endpoint.js'
import { lossyNetwork } from '../../../runtime/replication/lossy-network.js'
import { MemoryNetwork } from '../../../runtime/replication/memory-network.js'
import { Publisher, type PublisherOptions } from '../../../runtime/replication/publisher.js'
import { Repeater, type RepeaterOptions } from '../../../runtime/replication/repeater.js'
import { Replica } from '../../../runtime/replication/replica.js'
import { WsFeedClient } from '../../../runtime/replication/ws-feed-client.js'
import { settledHandles, socketHandles } from '../../helpers/handles.js'
import { orderBookWorkload, plain, publish, until } from '../../helpers/replication.js'
import { StaticDiscovery } from '../../helpers/static-discovery.js'

type Leaf = OrderBookLeaf
type Patch = Partial<OrderBookLeaf>
type Book = Publisher<string, Leaf, Patch>
/** What every consumer of the feed can be compared on. */
interface Reader {
  readonly seq: number
  readonly leaves: ReadonlyMap<string, Leaf>
  readonly session: string | undefined
  readonly stats: { digest: number }
}

const open: Array<{ close(): Promise<void> }> = []
let before: Record<string, number>
beforeEach(() => {
  before = socketHandles()
})
afterEach(async () => {
  for (const thing of open.splice(0).reverse()) await thing.close()
  expect(await settledHandles(before)).toEqual(before)
})

function track<T extends { close(): Promise<void> }>(thing: T): T {
  open.push(thing)
  return thing
}

async function publisher(network: DatagramNetwork, options: PublisherOptions = {}): Promise<Book> {
  const pub = track(new Publisher(OrderBookCodec, { transport: { kind: 'memory', network }, ...options }))
  await pub.start()
  return pub
}

function at(pub: Book): string {
  const address = pub.address
  if (!address) throw new Error('publisher not started')
  return `${address.host}:${address.port}`
}

async function repeater(
  pub: Book,
  upstream: DatagramNetwork,
  outputs: Omit<RepeaterOptions, 'upstream'>,
): Promise<Repeater<string, Leaf, Patch>> {
  const rep = track(
    new Repeater(OrderBookCodec, {
      upstream: { publisher: at(pub), transport: { kind: 'memory', network: upstream } },
      ...outputs,
    }),
  )
  await rep.start({ timeoutMs: 10_000 })
  return rep
}

async function consumer(url: string): Promise<WsFeedClient<string, Leaf, Patch>> {
  const feed = track(new WsFeedClient(OrderBookCodec, { url, minReconnectDelayMs: 10 }))
  await feed.start({ timeoutMs: 5000 })
  await feed.synced({ timeoutMs: 10_000 })
  return feed
}

async function downstream(address: string, network: DatagramNetwork): Promise<Replica<string, Leaf, Patch>> {
  const replica = track(
    new Replica(OrderBookCodec, { publisher: address, transport: { kind: 'memory', network } }),
  )
  await replica.start({ timeoutMs: 5000 })
  await replica.synced({ timeoutMs: 10_000 })
  return replica
}

/** Waits until every reader is at the publisher's seq, then compares leaves, digest and session. */
async function converged(pub: Book, ...readers: Reader[]): Promise<void> {
  await until(
    () => readers.every((reader) => reader.seq === pub.seq && reader.session === pub.session),
    `every reader at seq ${pub.seq} (they are at ${readers.map((r) => r.seq).join(', ')})`,
    20_000,
  )
  for (const reader of readers) {
    expect(reader.stats.digest).toBe(pub.stats.digest)
    expect(plain(reader.leaves)).toEqual(plain(pub.leaves))
  }
}

describe('Repeater', () => {
  it('feeds WebSocket consumers the same leaves, digest and seq as the publisher, one joining mid-stream', async () => {
    const up = new MemoryNetwork()
    const pub = await publisher(up)
    const workload = orderBookWorkload(21, 400, true)
    await publish(pub, workload, 1000, 100)
    const rep = await repeater(pub, up, { websocket: {} })
    const url = rep.websocket?.url as string
    const early = await consumer(url)
    const running = publish(pub, workload, 4000, 50)
    await until(() => pub.seq > 2500, 'the stream to be under way', 10_000)
    const late = await consumer(url)
    await running
    await converged(pub, early, late, rep.replica)
    expect(early.stats.snapshots).toBe(1)
    expect(late.stats.snapshots).toBe(1)
    expect(early.stats.gaps + late.stats.gaps).toBe(0)
    expect(rep.stats.resets).toBe(1)
    expect(rep.stats.relayed).toBe(4000)
  })

  it('re-publishes on a second group with the same session and seqs; a downstream replica repairs loss by NACKing the repeater', async () => {
    const up = new MemoryNetwork()
    const down = new MemoryNetwork()
    const pub = await publisher(up)
    const workload = orderBookWorkload(22)
    await publish(pub, workload, 500)
    const rep = await repeater(pub, up, { multicast: { transport: { kind: 'memory', network: down } } })
    const address = `${rep.publisher?.address?.host}:${rep.publisher?.address?.port}`
    // The downstream replica loses 5 % of what it receives.
    const lossy = lossyNetwork(down, (index) => ({ on: 'receive', drop: 0.05, seed: 40 + index }))
    const replica = await downstream(address, lossy)
    expect(replica.session).toBe(pub.session)
    await publish(pub, workload, 5000, 50)
    await converged(pub, replica, rep.replica)
    expect(replica.stats.nacks).toBeGreaterThan(0)
    expect(rep.stats.multicast?.nacks).toBeGreaterThan(0)
    expect(rep.stats.multicast?.retransmits).toBeGreaterThan(0)
    // The upstream publisher heard none of those NACKs: the repeater answered them.
    expect(pub.stats.nacks).toBe(0)
    expect(rep.publisher?.seq).toBe(pub.seq)
  })

  it('follows a restarted upstream publisher: the WebSocket consumer and the downstream replica end equal to the new one', async () => {
    const up = new MemoryNetwork()
    const down = new MemoryNetwork()
    const first = await publisher(up, { heartbeatMs: 20 })
    const port = first.address?.port as number
    await publish(first, orderBookWorkload(23), 800)
    const rep = await repeater(first, up, {
      multicast: { transport: { kind: 'memory', network: down }, heartbeatMs: 20 },
      websocket: {},
    })
    const feed = await consumer(rep.websocket?.url as string)
    const replica = await downstream(`memory:${rep.publisher?.address?.port}`, down)
    await converged(first, feed, replica)
    const resets: string[] = []
    feed.on('reset', ({ reason }) => resets.push(reason))
    await first.close()
    // The new publisher takes the old control port: the repeater's replica finds it there.
    const second = await publisher(up, { port, heartbeatMs: 20 })
    expect(second.session).not.toBe(first.session)
    await publish(second, orderBookWorkload(24), 1500)
    await converged(second, feed, replica, rep.replica)
    expect(resets).toContain('restart')
    expect(rep.publisher?.session).toBe(second.session)
  })

  it('passes an upstream resync on: WebSocket consumers get RESET and a snapshot, downstream replicas resync from the repeater', async () => {
    const up = new MemoryNetwork()
    const down = new MemoryNetwork()
    // No retransmit ring upstream: the repeater's replica cannot repair a hole and must resync.
    const pub = await publisher(up, { retransmitBufferBytes: 0 })
    await publish(pub, orderBookWorkload(25), 300)
    let holes = 0
    const lossy = lossyNetwork(up, () => ({
      on: 'receive',
      dropIf: (_bytes, index, kind) => kind === 1 && index === 30 && ++holes === 1,
    }))
    const rep = await repeater(pub, lossy, {
      multicast: { transport: { kind: 'memory', network: down } },
      websocket: {},
    })
    const feed = await consumer(rep.websocket?.url as string)
    const replica = await downstream(`memory:${rep.publisher?.address?.port}`, down)
    const resets: string[] = []
    feed.on('reset', ({ reason }) => resets.push(reason))
    await publish(pub, orderBookWorkload(26), 3000, 50)
    await converged(pub, feed, replica, rep.replica)
    expect(holes).toBe(1)
    expect(rep.replica.stats.resyncs).toBe(1)
    expect(resets).toEqual(['resync'])
    expect(feed.stats.snapshots).toBe(2)
    expect(replica.stats.resyncs).toBeGreaterThan(0)
    expect(rep.stats.resets).toBe(2)
  })

  it('closes a WebSocket consumer that stops reading at maxBufferedBytes while the others keep up', async () => {
    const up = new MemoryNetwork()
    const pub = await publisher(up)
    const rep = await repeater(pub, up, { websocket: { maxBufferedBytes: 64 * 1024 } })
    const server = rep.websocket
    if (!server) throw new Error('no websocket output')
    const slow: number[] = []
    server.on('consumer:slow', ({ bufferedBytes }) => slow.push(bufferedBytes))
    const good = await consumer(server.url)
    const stalled = new WebSocket(server.url)
    await once(stalled, 'open')
    const raw = (stalled as unknown as { _socket: { pause(): void; resume(): void } })._socket
    raw.pause()
    // Long keys make big deltas: the kernel's socket buffers (a few MB) fill sooner.
    let n = 0
    const big = (): OrderBookDelta => ({
      op: 'upsert',
      key: `${'x'.repeat(56)}-${n++ % 5000}`,
      leaf: { side: 'ask', price: 1 + (n % 1000), size: n % 100 },
    })
    for (let round = 0; round < 100 && slow.length === 0; round++) await publish(pub, big, 2000, 500)
    expect(slow).toHaveLength(1)
    await publish(pub, big, 2000, 500)
    await converged(pub, good)
    expect(server.stats.slow).toBe(1)
    const closed = once(stalled, 'close')
    raw.resume()
    const [code] = (await closed) as [number]
    expect([4008, 1006]).toContain(code)
    expect(good.stats.reconnects).toBe(0)
  })

  it('announces <feed>/ws through the link and stops at close; the downstream publisher stays unannounced', async () => {
    const up = new MemoryNetwork()
    const pub = await publisher(up)
    const link = new StaticDiscovery()
    const rep = await repeater(pub, up, {
      link,
      websocket: {},
      multicast: { transport: { kind: 'memory', network: new MemoryNetwork() } },
    })
    expect([...(link.names.get('order_book@1/ws') ?? [])]).toEqual([`127.0.0.1:${rep.websocket?.port}`])
    expect(link.names.has('order_book@1/feed')).toBe(false)
    const feed = track(new WsFeedClient(OrderBookCodec, { link }))
    await feed.start({ timeoutMs: 5000 })
    await feed.synced({ timeoutMs: 5000 })
    await rep.close()
    expect(link.names.get('order_book@1/ws')?.size).toBe(0)
  })

  it('announces the downstream publisher as <feed>/feed with multicast.announce', async () => {
    const up = new MemoryNetwork()
    const pub = await publisher(up)
    const link = new StaticDiscovery()
    const rep = await repeater(pub, up, {
      link,
      multicast: { transport: { kind: 'memory', network: new MemoryNetwork() }, announce: true },
    })
    expect([...(link.names.get('order_book@1/feed') ?? [])]).toEqual([
      `127.0.0.1:${rep.publisher?.address?.port}`,
    ])
  })

  it('starts and closes idempotently, closing its upstream replica; start() after close rejects with ERR_CLOSED', async () => {
    const up = new MemoryNetwork()
    const pub = await publisher(up)
    const rep = await repeater(pub, up, { websocket: {} })
    expect(rep.start()).toBe(rep.start())
    const first = rep.close()
    expect(rep.close()).toBe(first)
    await first
    expect(rep.replica.status).toBe('closed')
    await expect(rep.start()).rejects.toMatchObject({ code: 'ERR_CLOSED' })
  })

  it('rejects start() and closes everything when the upstream cannot be found', async () => {
    const up = new MemoryNetwork()
    const rep = track(
      new Repeater(OrderBookCodec, {
        upstream: { publisher: 'memory:999', transport: { kind: 'memory', network: up } },
        websocket: {},
      }),
    )
    await expect(rep.start({ timeoutMs: 300 })).rejects.toMatchObject({ code: 'ERR_TIMEOUT' })
    expect(rep.replica.status).toBe('closed')
  })

  it.each([
    [{}, 'options.multicast or options.websocket must be given'],
    [{ websocket: { port: -1 } }, 'options.port'],
    [{ multicast: { announce: true } }, 'options.multicast.announce needs options.link'],
    [{ multicast: { announce: 'yes' } }, 'options.multicast.announce must be a boolean'],
  ])('refuses %o with ERR_INVALID_OPTION', (outputs, message) => {
    const options = { upstream: { publisher: 'memory:1' }, ...outputs } as RepeaterOptions
    expect(() => new Repeater(OrderBookCodec, options)).toThrow(
      expect.objectContaining({ code: 'ERR_INVALID_OPTION', message: expect.stringContaining(message) }),
    )
  })

  it('refuses to announce the feed on the link its own replica looks the feed up on', () => {
    const link = new StaticDiscovery()
    expect(
      () =>
        new Repeater(OrderBookCodec, {
          upstream: { link },
          multicast: { announce: true, transport: { kind: 'memory', network: new MemoryNetwork() } },
        }),
    ).toThrow(
      expect.objectContaining({
        code: 'ERR_INVALID_OPTION',
        message: expect.stringContaining('find itself'),
      }),
    )
  })
})
