import type { Duplex } from 'node:stream'
import { afterEach, describe, expect, it } from 'vitest'
import type WebSocket from 'ws'
import { batchedSender } from '../../../../runtime/transport/ws/batched-send.js'
import { openRawClient, type RawServer, startRawServer } from './setup.js'

describe('batchedSender()', () => {
  let raw: RawServer | undefined
  let socket: WebSocket | undefined
  afterEach(async () => {
    socket?.terminate()
    await raw?.close()
  })

  it('writes the frames of one tick together, in order, and flushes them in the next tick', async () => {
    const got: Array<{ text: string; binary: boolean }> = []
    raw = await startRawServer((_socket, data, isBinary) =>
      got.push({ text: data.toString(), binary: isBinary }),
    )
    socket = await openRawClient(`ws://127.0.0.1:${raw.port}/ws`)
    const stream = (socket as unknown as { _socket: Duplex })._socket
    const send = batchedSender(socket)
    for (let n = 0; n < 100; n++) send(`frame-${n}`)
    send(Buffer.from('as text'), { binary: false })
    send(Buffer.from('as binary'))
    expect(stream.writableCorked).toBe(1)
    await new Promise((resolve) => process.nextTick(resolve))
    expect(stream.writableCorked).toBe(0)
    while (got.length < 102) await new Promise((resolve) => setTimeout(resolve, 5))
    expect(got.slice(0, 100).map((g) => g.text)).toEqual(Array.from({ length: 100 }, (_, n) => `frame-${n}`))
    expect(got.slice(100)).toEqual([
      { text: 'as text', binary: false },
      { text: 'as binary', binary: true },
    ])
  })

  it('falls back to a plain send when the socket under the WebSocket is not reachable', () => {
    const sent: unknown[][] = []
    const fake = { send: (...args: unknown[]) => sent.push(args) } as unknown as WebSocket
    const send = batchedSender(fake)
    send('a')
    send(Buffer.from('b'), { binary: false })
    expect(sent).toEqual([['a'], [Buffer.from('b'), { binary: false }]])
  })
})
