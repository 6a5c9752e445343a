import { once } from 'node:events'
import { createServer as createHttpServer } from 'node:http'
import type { AddressInfo } from 'node:net'
import { afterEach, beforeEach, describe, expect, it } from 'vitest'
import type { GrenacheError } from '../../../../runtime/errors.js'
import { type WsMessage, WsPublisher, WsSubscriber } from '../../../../runtime/transport/ws/index.js'
import { settledHandles, socketHandles } from '../../../helpers/handles.js'
import { startRawServer } from './setup.js'

async function until(condition: () => boolean, timeoutMs = 5000): Promise<void> {
  const deadline = Date.now() + timeoutMs
  while (!condition()) {
    if (Date.now() > deadline) throw new Error('condition not met in time')
    await new Promise((resolve) => setTimeout(resolve, 5))
  }
}

async function freePort(): Promise<number> {
  const probe = new WsPublisher()
  const port = await probe.listen({ port: 0 })
  await probe.close()
  return port
}

describe('WsSubscriber', () => {
  const subscribers: WsSubscriber[] = []
  const publishers: WsPublisher[] = []
  let before: Record<string, number>

  function subscriber(address: string, options: { minReconnectDelayMs?: number } = {}): WsSubscriber {
    const sub = new WsSubscriber({ address, minReconnectDelayMs: 20, maxReconnectDelayMs: 200, ...options })
    subscribers.push(sub)
    // Any 'error' event would throw here: there must never be one.
    return sub
  }
  async function publisher(port = 0): Promise<WsPublisher> {
    const pub = new WsPublisher()
    publishers.push(pub)
    await pub.listen({ port })
    return pub
  }

  beforeEach(() => {
    before = socketHandles()
  })
  afterEach(async () => {
    await Promise.all(subscribers.splice(0).map((s) => s.close()))
    await Promise.all(publishers.splice(0).map((p) => p.close()))
    expect(await settledHandles(before)).toEqual(before)
  })

  it('connects to ws://address/ws, sends nothing and delivers frames as sent', async () => {
    const frames: string[] = []
    const raw = await startRawServer((_socket, data) => frames.push(data.toString()))
    try {
      const paths = once(raw.wss, 'connection')
      const sub = subscriber(raw.address)
      const got: WsMessage[] = []
      sub.on('sub:message', (data) => got.push(data))
      sub.start()
      sub.start()
      await once(sub, 'sub:connected')
      expect(sub.connected).toBe(true)
      const [socket, request] = (await paths) as [import('ws').WebSocket, { url: string }]
      expect(request.url).toBe('/ws')
      socket.send('text')
      socket.send(Buffer.from([1, 2, 3]))
      socket.send(Buffer.from('binary text'), { binary: true })
      await until(() => got.length === 3)
      expect(got).toEqual(['text', Buffer.from([1, 2, 3]), Buffer.from('binary text')])
      expect(frames).toEqual([])
      expect(raw.sockets).toHaveLength(1)
    } finally {
      await Promise.all(subscribers.splice(0).map((s) => s.close()))
      await raw.close()
    }
  })

  it('yields messages to for await and ends the loop on close()', async () => {
    const pub = await publisher()
    const sub = subscriber(`127.0.0.1:${pub.port}`)
    sub.start()
    await once(sub, 'sub:connected')
    await until(() => pub.subscribers === 1)
    const seen: WsMessage[] = []
    const loop = (async () => {
      for await (const message of sub) {
        seen.push(message)
        if (seen.length === 2) setImmediate(() => void sub.close())
      }
      return 'ended'
    })()
    await new Promise((resolve) => setImmediate(resolve))
    pub.publish('one')
    pub.publish(Buffer.from('two'))
    await expect(loop).resolves.toBe('ended')
    expect(seen).toEqual(['one', Buffer.from('two')])
  })

  it('ends an iterator at once when it starts after close()', async () => {
    const sub = subscriber('127.0.0.1:9')
    await sub.close()
    const iterator = sub[Symbol.asyncIterator]()
    await expect(iterator.next()).resolves.toEqual({ value: undefined, done: true })
    expect(() => sub.start()).toThrow(expect.objectContaining({ code: 'ERR_CLOSED' }))
  })

  it('reconnects after the publisher restarts on the same port: sub:disconnected, then sub:connected', async () => {
    const first = await publisher()
    const port = first.port
    const sub = subscriber(`127.0.0.1:${port}`)
    const events: string[] = []
    const errors: Array<GrenacheError | undefined> = []
    sub.on('sub:connected', (address) => events.push(`connected ${address}`))
    sub.on('sub:disconnected', (address, error) => {
      events.push(`disconnected ${address}`)
      errors.push(error)
    })
    const got: WsMessage[] = []
    sub.on('sub:message', (data) => got.push(data))
    sub.start()
    await once(sub, 'sub:connected')
    await until(() => first.subscribers === 1)
    first.publish('before')
    await until(() => got.length === 1)

    const disconnected = once(sub, 'sub:disconnected')
    await first.close()
    await disconnected
    expect(sub.connected).toBe(false)
    const reconnected = once(sub, 'sub:connected')
    const second = await publisher(port)
    await reconnected
    await until(() => second.subscribers === 1)
    second.publish('after')
    await until(() => got.length === 2)

    expect(got).toEqual(['before', 'after'])
    expect(events).toEqual([
      `connected 127.0.0.1:${port}`,
      `disconnected 127.0.0.1:${port}`,
      `connected 127.0.0.1:${port}`,
    ])
    expect(errors[0]?.code).toBe('ERR_CONNECTION_RESET')
  })

  it('keeps trying with a growing delay while nobody listens, then connects', async () => {
    const port = await freePort()
    const sub = subscriber(`127.0.0.1:${port}`)
    const delays: number[] = []
    const codes: string[] = []
    sub.on('sub:reconnecting', (_address, delayMs, error) => {
      delays.push(delayMs)
      codes.push(error.code)
    })
    sub.start()
    await until(() => delays.length >= 4)
    expect(codes.every((c) => c === 'ERR_CONNECTION_REFUSED')).toBe(true)
    expect(delays[3]).toBeGreaterThan(delays[0] as number)
    expect(Math.max(...delays)).toBeLessThanOrEqual(200)
    const connected = once(sub, 'sub:connected')
    await publisher(port)
    await connected
  })

  it('reports ERR_TRANSPORT_MISMATCH when the address is a plain HTTP server', async () => {
    const http = createHttpServer((_request, response) => response.end('not a publisher'))
    await new Promise<void>((resolve) => http.listen(0, '127.0.0.1', resolve))
    try {
      const sub = subscriber(`127.0.0.1:${(http.address() as AddressInfo).port}`)
      sub.start()
      const [, , error] = (await once(sub, 'sub:reconnecting')) as [string, number, GrenacheError]
      expect(error.code).toBe('ERR_TRANSPORT_MISMATCH')
      await sub.close()
    } finally {
      http.closeAllConnections()
      await new Promise<void>((resolve) => http.close(() => resolve()))
    }
  })

  it('stops reconnecting on close() and says disconnected without an error', async () => {
    const pub = await publisher()
    const sub = subscriber(`127.0.0.1:${pub.port}`)
    sub.start()
    await once(sub, 'sub:connected')
    const disconnected = once(sub, 'sub:disconnected')
    let reconnecting = 0
    sub.on('sub:reconnecting', () => reconnecting++)
    const closing = sub.close()
    expect(sub.close()).toBe(closing)
    await closing
    const [, error] = (await disconnected) as [string, GrenacheError | undefined]
    expect(error).toBeUndefined()
    await new Promise((resolve) => setTimeout(resolve, 100))
    expect(reconnecting).toBe(0)
    expect(sub.connected).toBe(false)
  })

  it('rejects invalid options with ERR_INVALID_OPTION', () => {
    expect(() => new WsSubscriber({ address: 'nope' })).toThrow(/options.address/)
    expect(() => new WsSubscriber({ address: '127.0.0.1:1', minReconnectDelayMs: 0 })).toThrow(
      /options.minReconnectDelayMs/,
    )
    expect(
      () => new WsSubscriber({ address: '127.0.0.1:1', minReconnectDelayMs: 500, maxReconnectDelayMs: 100 }),
    ).toThrow(/options.maxReconnectDelayMs/)
  })
})
