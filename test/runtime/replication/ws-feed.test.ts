/**
 * The WebSocket feed on its own: a `WsFeedServer` over a state held by the test, `WsFeedClient`s
 * over real sockets on 127.0.0.1. The repeater's tests run it behind a replica.
 */
import { once } from 'node:events'
import { type AddressInfo, createServer, type Socket } from 'node:net'
import { afterEach, beforeEach, describe, expect, it } from 'vitest'
import WebSocket from 'ws'
import { OrderBookCodec, type OrderBookDelta, type OrderBookLeaf } from '../../../generated/index.js'
import { GrenacheError } from '../../../runtime/errors.js'
import { LeafStore } from '../../../runtime/replication/leaf-store.js'
import { WsFeedClient, type WsFeedClientOptions } from '../../../runtime/replication/ws-feed-client.js'
import { WsFeedServer, type WsFeedServerOptions } from '../../../runtime/replication/ws-feed-server.js'
import { ByteWriter } from '../../../runtime/state/byte-writer.js'
import { tls } from '../../fixtures/tls/index.js'
import { settledHandles, socketHandles } from '../../helpers/handles.js'
import { REFUSED_PORT } from '../../helpers/reference.js'
import { orderBookWorkload, plain, until } from '../../helpers/replication.js'
import { StaticDiscovery } from '../../helpers/static-discovery.js'

type Client = WsFeedClient<string, OrderBookLeaf, Partial<OrderBookLeaf>>
type Server = WsFeedServer<string, OrderBookLeaf, Partial<OrderBookLeaf>>

/** A state held by the test, served by a `WsFeedServer`. */
class Book {
  store = new LeafStore(OrderBookCodec, new ByteWriter(256))
  seq = 0
  session = '00112233aabbccdd'
  ready = true
  server: Server | undefined

  apply(delta: OrderBookDelta): void {
    this.store.apply(delta)
    this.seq++
    this.server?.delta(this.seq, delta)
  }

  state = () =>
    this.ready
      ? { session: this.session, seq: this.seq, digest: this.store.digest, leaves: this.store.leaves }
      : undefined
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

async function serve(book: Book, options: WsFeedServerOptions = {}, codec = OrderBookCodec): Promise<Server> {
  const server = new WsFeedServer(codec, book.state, options)
  open.push(server)
  book.server = server
  await server.start()
  return server
}

function client(options: WsFeedClientOptions): Client {
  const feed = new WsFeedClient(OrderBookCodec, {
    minReconnectDelayMs: 10,
    maxReconnectDelayMs: 50,
    ...options,
  })
  open.push(feed)
  return feed
}

function expectSame(book: Book, feed: Client): void {
  expect(feed.seq).toBe(book.seq)
  expect(feed.stats.digest).toBe(book.store.digest)
  expect(plain(feed.leaves)).toEqual(plain(book.store.leaves))
}

async function rejection(promise: Promise<unknown>): Promise<GrenacheError> {
  try {
    await promise
  } catch (err) {
    if (err instanceof GrenacheError) return err
    throw new Error(`not a GrenacheError: ${String(err)}`)
  }
  throw new Error('resolved, expected a rejection')
}

describe('WsFeedServer and WsFeedClient', () => {
  it('send HELLO, the snapshot, then every delta: the client ends with the same leaves, seq and digest', async () => {
    const book = new Book()
    const next = orderBookWorkload(11)
    for (let i = 0; i < 300; i++) book.apply(next())
    const server = await serve(book)
    const feed = client({ url: server.url })
    const changes: number[] = []
    feed.on('change', (change) => changes.push(change.seq))
    await feed.start({ timeoutMs: 5000 })
    await feed.synced({ timeoutMs: 5000 })
    expectSame(book, feed)
    expect(feed.session).toBe(book.session)
    for (let tick = 0; tick < 20; tick++) {
      for (let i = 0; i < 50; i++) book.apply(next())
      await new Promise((resolve) => setImmediate(resolve))
    }
    await until(() => feed.seq === book.seq, 'the client to catch up', 5000)
    expectSame(book, feed)
    expect(changes).toEqual(Array.from({ length: 1000 }, (_, i) => 301 + i))
  })

  it('batch the deltas of one tick into one frame', async () => {
    const book = new Book()
    const server = await serve(book)
    const feed = client({ url: server.url })
    await feed.start({ timeoutMs: 5000 })
    await feed.synced({ timeoutMs: 5000 })
    const next = orderBookWorkload(12)
    for (let i = 0; i < 500; i++) book.apply(next())
    await until(() => feed.seq === 500, 'the deltas', 5000)
    expect(feed.stats.frames).toBe(3) // HELLO, SNAPSHOT, one DELTAS
    expect(server.stats).toMatchObject({ consumers: 1, snapshots: 1, frames: 3, slow: 0 })
  })

  it('keep a consumer waiting while the state is not known, and send it the state on sync()', async () => {
    const book = new Book()
    book.ready = false
    const server = await serve(book)
    const feed = client({ url: server.url })
    await feed.start({ timeoutMs: 5000 })
    expect(feed.status).toBe('joining')
    book.ready = true
    book.apply({ op: 'upsert', key: 'a', leaf: { side: 'bid', price: 1, size: 1 } })
    server.sync()
    await feed.synced({ timeoutMs: 5000 })
    expectSame(book, feed)
  })

  it('send the queued deltas before a snapshot, so no consumer gets a delta its snapshot holds', async () => {
    const book = new Book()
    book.ready = false
    const server = await serve(book)
    const feed = client({ url: server.url })
    await feed.start({ timeoutMs: 5000 })
    book.ready = true
    book.apply({ op: 'upsert', key: 'a', leaf: { side: 'bid', price: 1, size: 1 } })
    server.sync()
    book.apply({ op: 'upsert', key: 'b', leaf: { side: 'ask', price: 2, size: 2 } })
    await until(() => feed.seq === 2, 'both deltas', 5000)
    expectSame(book, feed)
    expect(feed.stats).toMatchObject({ gaps: 0, reconnects: 0, snapshots: 1 })
  })

  it('replace the state after reset() and sync(): the client emits reset, then synced with the new session', async () => {
    const book = new Book()
    const next = orderBookWorkload(13)
    for (let i = 0; i < 100; i++) book.apply(next())
    const server = await serve(book)
    const feed = client({ url: server.url })
    await feed.start({ timeoutMs: 5000 })
    await feed.synced({ timeoutMs: 5000 })
    const resets: string[] = []
    feed.on('reset', ({ reason }) => resets.push(reason))
    const synced = once(feed, 'synced')
    server.reset('restart')
    book.store.clear()
    book.seq = 0
    book.session = 'ffeeddccbbaa9988'
    for (let i = 0; i < 40; i++) book.store.apply(next())
    book.seq = 40
    server.sync()
    const [info] = await synced
    expect(info).toEqual({ seq: 40, leaves: book.store.size, session: 'ffeeddccbbaa9988' })
    expect(resets).toEqual(['restart'])
    expectSame(book, feed)
    expect(feed.stats.reconnects).toBe(0)
  })

  it('reconnect on a gap in seqs and take a fresh snapshot', async () => {
    const book = new Book()
    const server = await serve(book)
    const feed = client({ url: server.url })
    await feed.start({ timeoutMs: 5000 })
    await feed.synced({ timeoutMs: 5000 })
    book.store.apply({ op: 'upsert', key: 'lost', leaf: { side: 'ask', price: 5, size: 5 } })
    book.seq++ // a delta the server never hears of: the next frame skips a seq
    book.apply({ op: 'upsert', key: 'b', leaf: { side: 'bid', price: 2, size: 2 } })
    await until(() => feed.stats.snapshots === 2 && feed.seq === book.seq, 'a fresh snapshot', 5000)
    expect(feed.stats.gaps).toBe(1)
    expect(feed.stats.reconnects).toBe(1)
    expectSame(book, feed)
  })

  it('find the feed through a Link under <feed>/ws', async () => {
    const book = new Book()
    const server = await serve(book, { path: '/book' })
    const link = new StaticDiscovery().add('order_book@1/ws', `127.0.0.1:${server.port}`)
    const feed = client({ link, path: '/book' })
    await feed.start({ timeoutMs: 5000 })
    await feed.synced({ timeoutMs: 5000 })
    expect(link.lookups).toEqual(['order_book@1/ws'])
  })

  it('serve wss:// with a certificate the client trusts', async () => {
    const book = new Book()
    book.apply({ op: 'upsert', key: 's', leaf: { side: 'bid', price: 3, size: 3 } })
    const server = await serve(book, { tls: tls.server })
    expect(server.url.startsWith('wss://127.0.0.1:')).toBe(true)
    const feed = client({ url: server.url, tls: { ca: tls.ca } })
    await feed.start({ timeoutMs: 5000 })
    await feed.synced({ timeoutMs: 5000 })
    expectSame(book, feed)
  })

  it('drop a silent connection after idleTimeoutMs and make it again', async () => {
    const book = new Book()
    const server = await serve(book, { pingIntervalMs: 0 })
    const feed = client({ url: server.url, idleTimeoutMs: 150 })
    await feed.start({ timeoutMs: 5000 })
    const disconnected = once(feed, 'disconnected')
    const [info] = await disconnected
    expect(info.error?.code).toBe('ERR_TIMEOUT')
    await until(() => feed.stats.snapshots >= 2, 'a second snapshot', 5000)
  })

  it('keep a quiet connection with pings', async () => {
    const book = new Book()
    const server = await serve(book, { pingIntervalMs: 50 })
    const feed = client({ url: server.url, idleTimeoutMs: 1000 })
    await feed.start({ timeoutMs: 5000 })
    await feed.synced({ timeoutMs: 5000 })
    await new Promise((resolve) => setTimeout(resolve, 1500))
    expect(feed.stats.reconnects).toBe(0)
    expect(feed.status).toBe('live')
  })

  describe('WsFeedClient', () => {
    it('refuses a server of another fingerprint with ERR_FEED_INCOMPATIBLE and closes', async () => {
      const book = new Book()
      const other = { ...OrderBookCodec, fingerprint: '0123456789abcdef' }
      const server = await serve(book, {}, other)
      const feed = client({ url: server.url })
      const closed = once(feed, 'close')
      const error = await rejection(feed.start({ timeoutMs: 5000 }))
      expect(error.code).toBe('ERR_FEED_INCOMPATIBLE')
      expect(error.message).toContain('0123456789abcdef')
      expect(error.message).toContain(OrderBookCodec.fingerprint)
      expect(((await closed) as [GrenacheError])[0].code).toBe('ERR_FEED_INCOMPATIBLE')
      expect(feed.status).toBe('closed')
      await expect(feed.synced({ timeoutMs: 100 })).rejects.toMatchObject({ code: 'ERR_FEED_INCOMPATIBLE' })
    })

    it('gives up after maxReconnectAttempts: a path the server does not serve is refused with HTTP 400', async () => {
      const server = await serve(new Book(), { path: '/feed' })
      const feed = client({ url: `ws://127.0.0.1:${server.port}/other`, maxReconnectAttempts: 2 })
      const error = await rejection(feed.start({ timeoutMs: 5000 }))
      expect(error.code).toBe('ERR_TRANSPORT_MISMATCH')
      expect(error.message).toContain('HTTP 400')
      expect(error.message).toContain('gave up after 2 reconnects')
    })

    it('rejects start() with ERR_TIMEOUT naming the last failure when nothing listens', async () => {
      const feed = client({ url: `ws://127.0.0.1:${REFUSED_PORT}/` })
      const error = await rejection(feed.start({ timeoutMs: 3000 }))
      expect(error.code).toBe('ERR_TIMEOUT')
      expect(error.message).toContain('ECONNREFUSED')
      expect((error.cause as GrenacheError).code).toBe('ERR_CONNECTION_REFUSED')
      expect(feed.status).toBe('closed')
    })

    it('names the last failure when the deadline finds the next attempt under way', async () => {
      // A port that accepts and never answers the upgrade: the second attempt hangs there.
      const sockets = new Set<Socket>()
      const silent = createServer((socket) => sockets.add(socket))
      silent.listen(0, '127.0.0.1')
      await once(silent, 'listening')
      const port = (silent.address() as AddressInfo).port
      try {
        const link = new StaticDiscovery().add(
          `${OrderBookCodec.feed}/ws`,
          `127.0.0.1:${REFUSED_PORT}`,
          `127.0.0.1:${port}`,
        )
        const feed = client({ link })
        const error = await rejection(feed.start({ timeoutMs: 1000 }))
        expect(sockets.size).toBe(1)
        expect(error.code).toBe('ERR_TIMEOUT')
        expect(error.message).toContain('ECONNREFUSED')
        expect((error.cause as GrenacheError).code).toBe('ERR_CONNECTION_REFUSED')
      } finally {
        for (const socket of sockets) socket.destroy()
        silent.close()
        await once(silent, 'close')
      }
    })

    it('starts and closes idempotently and refuses start() after close with ERR_CLOSED', async () => {
      const server = await serve(new Book())
      const feed = client({ url: server.url })
      const started = feed.start({ timeoutMs: 5000 })
      expect(feed.start()).toBe(started)
      await started
      const first = feed.close()
      expect(feed.close()).toBe(first)
      await first
      expect(feed.status).toBe('closed')
      await expect(feed.start()).rejects.toMatchObject({ code: 'ERR_CLOSED' })
    })

    it('rejects synced() with ERR_CLOSED when closed before the first snapshot', async () => {
      const book = new Book()
      book.ready = false
      const server = await serve(book)
      const feed = client({ url: server.url })
      await feed.start({ timeoutMs: 5000 })
      await feed.close()
      await expect(feed.synced({ timeoutMs: 1000 })).rejects.toMatchObject({ code: 'ERR_CLOSED' })
    })

    it.each([
      [{}, 'options.url or options.link must be given'],
      [{ url: 'http://127.0.0.1:1/' }, 'options.url must be a ws:// or wss:// URL'],
      [{ url: 'ws://127.0.0.1:1/', link: new StaticDiscovery() }, 'options.url or options.link'],
      [{ url: 'ws://127.0.0.1:1/', minReconnectDelayMs: 0 }, 'options.minReconnectDelayMs'],
      [{ url: 'ws://127.0.0.1:1/', maxReconnectDelayMs: 50 }, 'options.maxReconnectDelayMs'],
      [{ url: 'ws://127.0.0.1:1/', idleTimeoutMs: -1 }, 'options.idleTimeoutMs'],
      [{ link: new StaticDiscovery(), path: 'feed' }, 'options.path must start with "/"'],
    ])('refuses %o with ERR_INVALID_OPTION', (options, message) => {
      expect(() => new WsFeedClient(OrderBookCodec, options as WsFeedClientOptions)).toThrow(
        expect.objectContaining({ code: 'ERR_INVALID_OPTION', message: expect.stringContaining(message) }),
      )
    })
  })

  describe('WsFeedServer', () => {
    it('closes a consumer with 4008 once more than maxBufferedBytes are queued for it', async () => {
      const book = new Book()
      const server = await serve(book, { maxBufferedBytes: 1024 })
      const slow: number[] = []
      server.on('consumer:slow', ({ bufferedBytes }) => slow.push(bufferedBytes))
      const socket = new WebSocket(server.url)
      await once(socket, 'open')
      // Stop reading: the kernel buffers fill, then ws's own queue grows.
      ;(socket as unknown as { _socket: { pause(): void } })._socket.pause()
      const leaf = { side: 'bid' as const, price: 1, size: 1 }
      for (let round = 0; round < 400 && slow.length === 0; round++) {
        for (let i = 0; i < 500; i++) book.apply({ op: 'upsert', key: `${'k'.repeat(56)}-${i}`, leaf })
        await new Promise((resolve) => setImmediate(resolve))
      }
      expect(slow.length).toBe(1)
      expect(slow[0]).toBeGreaterThan(1024)
      expect(server.stats.slow).toBe(1)
      const closed = once(socket, 'close')
      ;(socket as unknown as { _socket: { resume(): void } })._socket.resume()
      const [code] = (await closed) as [number]
      expect([4008, 1006]).toContain(code)
      await until(() => server.stats.consumers === 0, 'the consumer to be gone', 5000)
    })

    it.each([
      [{ port: 70000 }, 'options.port'],
      [{ path: 'x' }, 'options.path must start with "/"'],
      [{ maxBufferedBytes: 0 }, 'options.maxBufferedBytes'],
      [{ pingIntervalMs: -5 }, 'options.pingIntervalMs'],
      [{ tls: { ca: 'x' } }, 'options.tls must have key and cert'],
    ])('refuses %o with ERR_INVALID_OPTION', (options, message) => {
      expect(() => new WsFeedServer(OrderBookCodec, () => undefined, options as WsFeedServerOptions)).toThrow(
        expect.objectContaining({ code: 'ERR_INVALID_OPTION', message: expect.stringContaining(message) }),
      )
    })

    it('starts and closes idempotently and refuses start() after close with ERR_CLOSED', async () => {
      const server = new WsFeedServer(OrderBookCodec, () => undefined)
      const started = server.start()
      expect(server.start()).toBe(started)
      await started
      const first = server.close()
      expect(server.close()).toBe(first)
      await first
      await expect(server.start()).rejects.toMatchObject({ code: 'ERR_CLOSED' })
    })
  })
})
