import { once } from 'node:events'
import { afterEach, beforeEach, describe, expect, it } from 'vitest'
import WebSocket from 'ws'
import { WsPublisher, WsSubscriber } from '../../../../runtime/transport/ws/index.js'
import { settledHandles, socketHandles } from '../../../helpers/handles.js'
import { openRawClient } from './setup.js'

/** Collects what a raw ws@8 subscriber receives, with the frame type. */
function collect(socket: WebSocket): Array<{ data: string; binary: boolean }> {
  const got: Array<{ data: string; binary: boolean }> = []
  socket.on('message', (data, isBinary) => got.push({ data: (data as Buffer).toString(), binary: isBinary }))
  return got
}

async function until(condition: () => boolean, timeoutMs = 5000): Promise<void> {
  const deadline = Date.now() + timeoutMs
  while (!condition()) {
    if (Date.now() > deadline) throw new Error('condition not met in time')
    await new Promise((resolve) => setTimeout(resolve, 5))
  }
}

describe('WsPublisher', () => {
  let publisher: WsPublisher
  const sockets: WebSocket[] = []
  const subscribers: WsSubscriber[] = []
  let before: Record<string, number>

  beforeEach(() => {
    before = socketHandles()
    publisher = new WsPublisher()
  })
  afterEach(async () => {
    for (const socket of sockets.splice(0)) socket.terminate()
    await Promise.all(subscribers.splice(0).map((s) => s.close()))
    await publisher.close()
    expect(await settledHandles(before)).toEqual(before)
  })

  it('sends every message, unchanged and in order, to every subscriber: text as text, Buffer as binary', async () => {
    const port = await publisher.listen({ port: 0 })
    const first = await openRawClient(`ws://127.0.0.1:${port}/ws`)
    const second = await openRawClient(`ws://127.0.0.1:${port}/anything`)
    sockets.push(first, second)
    const ours = new WsSubscriber({ address: `127.0.0.1:${port}` })
    subscribers.push(ours)
    const received: Array<string | Buffer> = []
    ours.on('sub:message', (data) => received.push(data))
    ours.start()
    await once(ours, 'sub:connected')
    await until(() => publisher.subscribers === 3)
    const gotFirst = collect(first)
    const gotSecond = collect(second)

    const messages: Array<string | Buffer> = []
    for (let n = 0; n < 50; n++) messages.push(n % 2 === 0 ? `msg-${n}` : Buffer.from([n, 0, 255]))
    messages.push(JSON.stringify({ chan: 'x', n: 9 }), '')
    for (const message of messages) expect(publisher.publish(message)).toBe(3)

    await until(() => received.length === messages.length && gotSecond.length === messages.length)
    const expected = messages.map((m) => ({ data: m.toString(), binary: Buffer.isBuffer(m) }))
    expect(gotFirst).toEqual(expected)
    expect(gotSecond).toEqual(expected)
    expect(received).toEqual(messages)
    expect(typeof received[0]).toBe('string')
    expect(Buffer.isBuffer(received[1])).toBe(true)
  })

  it('counts subscribers and says when they come and go', async () => {
    const port = await publisher.listen({ port: 0 })
    const events: string[] = []
    publisher.on('pub:subscribed', (_remote, count) => events.push(`+${count}`))
    publisher.on('pub:unsubscribed', (_remote, count) => events.push(`-${count}`))
    expect(publisher.subscribers).toBe(0)
    expect(publisher.publish('nobody listens')).toBe(0)
    const socket = await openRawClient(`ws://127.0.0.1:${port}/ws`)
    sockets.push(socket)
    await until(() => publisher.subscribers === 1)
    socket.close()
    await until(() => publisher.subscribers === 0)
    expect(events).toEqual(['+1', '-0'])
  })

  it('refuses a message that is neither a string nor a Buffer with ERR_INVALID_ARGUMENT', async () => {
    await publisher.listen({ port: 0 })
    for (const bad of [42, { a: 1 }, null, undefined, new Uint16Array(2)]) {
      expect(() => publisher.publish(bad as unknown as string)).toThrow(
        expect.objectContaining({ code: 'ERR_INVALID_ARGUMENT' }),
      )
    }
  })

  it('disconnects a subscriber that reads too slowly instead of queueing without bound', async () => {
    await publisher.close()
    publisher = new WsPublisher({ maxBufferedBytes: 64 * 1024 })
    const port = await publisher.listen({ port: 0 })
    const slow = await openRawClient(`ws://127.0.0.1:${port}/ws`)
    sockets.push(slow)
    await until(() => publisher.subscribers === 1)
    slow.pause()
    const chunk = Buffer.alloc(256 * 1024, 1)
    for (let n = 0; n < 400 && publisher.subscribers > 0; n++) {
      publisher.publish(chunk)
      await new Promise((resolve) => setImmediate(resolve))
    }
    expect(publisher.subscribers).toBe(0)
  })

  it('answers plain HTTP with 426', async () => {
    const port = await publisher.listen({ port: 0 })
    const response = await fetch(`http://127.0.0.1:${port}/`)
    expect(response.status).toBe(426)
    expect(await response.text()).toMatch(/^ERR_TRANSPORT_MISMATCH: .*publisher/)
  })

  it('closes every subscriber with 1001 and refuses to publish after close()', async () => {
    const port = await publisher.listen({ port: 0 })
    const socket = await openRawClient(`ws://127.0.0.1:${port}/ws`)
    sockets.push(socket)
    await until(() => publisher.subscribers === 1)
    const closed = once(socket, 'close')
    const closing = publisher.close()
    expect(publisher.close()).toBe(closing)
    await closing
    const [closeCode] = (await closed) as [number]
    expect(closeCode).toBe(1001)
    expect(() => publisher.publish('late')).toThrow(expect.objectContaining({ code: 'ERR_CLOSED' }))
    expect(socket.readyState).toBe(WebSocket.CLOSED)
  })

  it('rejects a bad port with ERR_INVALID_ARGUMENT and a taken one with ERR_ADDRESS_IN_USE', async () => {
    await expect(publisher.listen({ port: -5 })).rejects.toMatchObject({ code: 'ERR_INVALID_ARGUMENT' })
    const port = await publisher.listen({ port: 0 })
    const other = new WsPublisher()
    await expect(other.listen({ port })).rejects.toMatchObject({ code: 'ERR_ADDRESS_IN_USE' })
    await other.close()
  })
})
