import { type EventEmitter, once } from 'node:events'
import { setTimeout as delay } from 'node:timers/promises'
import { afterEach, describe, expect, it } from 'vitest'
import { ZmqPublisher, ZmqSubscriber } from '../../../../runtime/transport/zmq/index.js'
import { until } from './helpers.js'

/** Reads a subscriber from the start, keeping every message as `topic=message`. */
class Collector {
  readonly received: string[] = []
  readonly done: Promise<void>

  constructor(readonly subscriber: ZmqSubscriber) {
    this.done = (async () => {
      for await (const { topic, message } of subscriber) this.received.push(`${topic}=${message.toString()}`)
    })()
  }

  /** The messages but the `sync` ones. */
  get messages(): string[] {
    return this.received.filter((m) => !m.startsWith('sync'))
  }

  until(count: number, what = `${count} messages`): Promise<void> {
    return until(() => this.messages.length >= count, what)
  }
}

describe('ZmqPublisher and ZmqSubscriber', () => {
  const publishers: ZmqPublisher[] = []
  const subscribers: ZmqSubscriber[] = []

  async function publisher(port = 0): Promise<ZmqPublisher> {
    const pub = new ZmqPublisher({ port })
    publishers.push(pub)
    await pub.listen()
    return pub
  }

  /** A subscriber of `publishers`, subscribed to `topics` and to `sync`, already reading. */
  function subscriber(pubs: ZmqPublisher[], topics: string[]): Collector {
    const sub = new ZmqSubscriber()
    subscribers.push(sub)
    for (const topic of [...topics, 'sync']) sub.subscribe(topic)
    for (const pub of pubs) sub.connect(`127.0.0.1:${pub.port}`)
    return new Collector(sub)
  }

  /**
   * ZeroMQ's slow joiner: a subscription reaches the publisher a moment after the connection.
   * Publishes `sync` until every collector got one, so later messages are surely delivered.
   */
  async function sync(pub: ZmqPublisher, collectors: Collector[]): Promise<void> {
    const from = `sync:${pub.port}`
    await until(() => {
      pub.publish(from, '')
      return collectors.every((c) => c.received.some((m) => m.startsWith(from)))
    }, 'the subscriptions to reach the publisher')
  }

  afterEach(async () => {
    await Promise.all(subscribers.splice(0).map((s) => s.close()))
    await Promise.all(publishers.splice(0).map((p) => p.close()))
  })

  it('delivers the topics that start with a subscription, and only those', async () => {
    const pub = await publisher()
    const orders = subscriber([pub], ['orders.'])
    await sync(pub, [orders])
    pub.publish('orders.btc', 'o1')
    pub.publish('trades.btc', 't1')
    pub.publish('orders.eth', Buffer.from('o2'))
    pub.publish('order', 'not a match')
    pub.publish('orders.last', 'end')
    await orders.until(3)
    expect(orders.messages).toEqual(['orders.btc=o1', 'orders.eth=o2', 'orders.last=end'])
  })

  it('delivers every topic to a subscription to the empty topic, bytes unchanged', async () => {
    const pub = await publisher()
    const all = subscriber([pub], [''])
    await sync(pub, [all])
    const bytes = Buffer.from([0, 255, 1, 254])
    pub.publish('a', bytes)
    pub.publish('b', 'β')
    await all.until(2)
    expect(all.messages).toEqual([`a=${bytes.toString()}`, 'b=β'])
  })

  it('delivers to several subscribers', async () => {
    const pub = await publisher()
    const collectors = [subscriber([pub], ['t']), subscriber([pub], ['t']), subscriber([pub], ['t'])]
    await sync(pub, collectors)
    pub.publish('t', 'hello')
    for (const collector of collectors) await collector.until(1)
    for (const collector of collectors) expect(collector.messages).toEqual(['t=hello'])
  })

  it('receives from two publishers through one subscriber', async () => {
    const [a, b] = [await publisher(), await publisher()]
    const both = subscriber([a, b], ['news'])
    expect(both.subscriber.addresses).toEqual([`127.0.0.1:${a.port}`, `127.0.0.1:${b.port}`])
    await sync(a, [both])
    await sync(b, [both])
    a.publish('news', 'from a')
    b.publish('news', 'from b')
    await both.until(2)
    expect(both.messages.sort()).toEqual(['news=from a', 'news=from b'])
  })

  it('keeps no history: a late subscriber misses what was published before it subscribed', async () => {
    const pub = await publisher()
    const early = subscriber([pub], ['t'])
    await sync(pub, [early])
    pub.publish('t', 'before')
    await early.until(1)
    const late = subscriber([pub], ['t'])
    await sync(pub, [late])
    pub.publish('t', 'after')
    await late.until(1)
    await early.until(2)
    expect(late.messages).toEqual(['t=after'])
    expect(early.messages).toEqual(['t=before', 't=after'])
  })

  it('stops delivering a topic after unsubscribe()', async () => {
    const pub = await publisher()
    const collector = subscriber([pub], ['a', 'b'])
    await sync(pub, [collector])
    collector.subscriber.unsubscribe('a')
    // The unsubscription travels like a subscription: wait until b flows after it.
    await until(() => {
      pub.publish('b', 'marker')
      return collector.messages.includes('b=marker')
    }, 'the marker')
    pub.publish('a', 'dropped')
    pub.publish('b', 'kept')
    await until(() => collector.messages.includes('b=kept'), 'b=kept')
    expect(collector.messages).not.toContain('a=dropped')
  })

  it('reports sub:connected and sub:disconnected around a publisher restart, and receives again', async () => {
    const first = await publisher()
    const address = `127.0.0.1:${first.port}`
    const sub = new ZmqSubscriber({ reconnectIntervalMs: 50, reconnectMaxIntervalMs: 100 })
    subscribers.push(sub)
    const events: string[] = []
    sub.on('sub:connected', (a) => events.push(`connected ${a}`))
    sub.on('sub:disconnected', (a) => events.push(`disconnected ${a}`))
    // Never an 'error' event: the typed events say it all.
    ;(sub as EventEmitter).on('error', () => events.push('error'))
    sub.subscribe('t')
    sub.subscribe('sync')
    const connected = once(sub, 'sub:connected')
    sub.connect(address)
    await connected
    expect(sub.isConnected(address)).toBe(true)
    const collector = new Collector(sub)
    await sync(first, [collector])

    const disconnected = once(sub, 'sub:disconnected')
    await first.close()
    await disconnected
    expect(sub.isConnected(address)).toBe(false)

    const reconnected = once(sub, 'sub:connected')
    const second = await publisher(first.port)
    await reconnected
    collector.received.length = 0
    await sync(second, [collector])
    second.publish('t', 'after restart')
    await collector.until(1)
    expect(collector.messages).toEqual(['t=after restart'])
    expect(events).toEqual([`connected ${address}`, `disconnected ${address}`, `connected ${address}`])
  })

  it('stops receiving from a publisher removed with disconnect()', async () => {
    const [a, b] = [await publisher(), await publisher()]
    const collector = subscriber([a, b], ['t'])
    await sync(a, [collector])
    await sync(b, [collector])
    const gone = once(collector.subscriber, 'sub:disconnected')
    collector.subscriber.disconnect(`127.0.0.1:${a.port}`)
    expect(await gone).toEqual([`127.0.0.1:${a.port}`])
    expect(collector.subscriber.addresses).toEqual([`127.0.0.1:${b.port}`])
    // libzmq drops the connection in the background.
    await delay(200)
    a.publish('t', 'from a')
    b.publish('t', 'from b')
    await collector.until(1)
    await delay(50)
    expect(collector.messages).toEqual(['t=from b'])
  })

  it('ends the iteration on close() and refuses work afterwards with ERR_CLOSED', async () => {
    const pub = await publisher()
    const collector = subscriber([pub], ['t'])
    await sync(pub, [collector])
    const closing = collector.subscriber.close()
    expect(collector.subscriber.close()).toBe(closing)
    await closing
    await collector.done
    const closed = expect.objectContaining({ code: 'ERR_CLOSED' })
    expect(() => collector.subscriber.subscribe('x')).toThrow(closed)
    expect(() => collector.subscriber.connect(`127.0.0.1:${pub.port}`)).toThrow(closed)
    await pub.close()
    expect(() => pub.publish('t', 'late')).toThrow(closed)
    expect(await pub.listen().catch((err: { code: string }) => err.code)).toBe('ERR_CLOSED')
  })

  it('allows one reader at a time', async () => {
    const sub = new ZmqSubscriber()
    subscribers.push(sub)
    const first = new Collector(sub)
    const second = sub[Symbol.asyncIterator]()
    await expect(second.next()).rejects.toMatchObject({ code: 'ERR_INVALID_ARGUMENT' })
    await sub.close()
    await first.done
  })

  it('rejects bad arguments and options', async () => {
    const pub = await publisher()
    const invalid = expect.objectContaining({ code: 'ERR_INVALID_ARGUMENT' })
    expect(() => pub.publish(1 as unknown as string, 'x')).toThrow(invalid)
    expect(() => pub.publish('t', { not: 'bytes' } as unknown as string)).toThrow(invalid)
    const sub = new ZmqSubscriber()
    subscribers.push(sub)
    expect(() => sub.connect('not an address')).toThrow(invalid)
    expect(() => sub.subscribe(undefined as unknown as string)).toThrow(invalid)
    expect(() => new ZmqPublisher({ port: -1 })).toThrow(/options\.port/)
    expect(() => new ZmqSubscriber({ reconnectIntervalMs: 0 })).toThrow(/options\.reconnectIntervalMs/)
  })
})
