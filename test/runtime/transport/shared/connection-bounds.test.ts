import { connect, type Socket } from 'node:net'
import { setTimeout as delay } from 'node:timers/promises'
import { afterEach, describe, expect, it } from 'vitest'
import WebSocket from 'ws'
import { Dealer } from 'zeromq'
import { HttpServerTransport } from '../../../../runtime/transport/http/server.js'
import type { RequestHandler, ServerTransport } from '../../../../runtime/transport/types.js'
import { WsClientTransport } from '../../../../runtime/transport/ws/client.js'
import { WsServerTransport } from '../../../../runtime/transport/ws/server.js'
import { ZmqClientTransport } from '../../../../runtime/transport/zmq/client.js'
import { ZmqServerTransport } from '../../../../runtime/transport/zmq/server.js'

const REPLY_BYTES = 256 * 1024
const REQUESTS = 1200
/** Unbounded, these requests would hold REQUESTS × REPLY_BYTES = 300 MiB of replies in the worker. */
const BIG = 'x'.repeat(REPLY_BYTES)

const cleanups: Array<() => Promise<unknown> | unknown> = []
afterEach(async () => {
  for (const cleanup of cleanups.splice(0).reverse()) await cleanup()
})

/** Waits until `read()` stops changing for `quietMs` (bounded by `timeoutMs`); returns its value. */
async function settled(read: () => number, quietMs = 300, timeoutMs = 10_000): Promise<number> {
  const deadline = Date.now() + timeoutMs
  let last = read()
  let since = Date.now()
  while (Date.now() < deadline) {
    await delay(25)
    const now = read()
    if (now !== last) {
      last = now
      since = Date.now()
    } else if (Date.now() - since >= quietMs) break
  }
  return last
}

async function listen<T extends ServerTransport>(server: T, handler: RequestHandler): Promise<T> {
  await server.listen(handler)
  cleanups.push(() => server.close())
  return server
}

describe('a caller that sends and never reads cannot grow a worker', () => {
  it('ws: the connection is not read past maxUnsentBytes, other callers are served, nothing is lost', async () => {
    let handled = 0
    const server = await listen(
      new WsServerTransport({ port: 0, maxUnsentBytes: 1024 * 1024 }),
      (_r, reply) => {
        handled++
        reply(null, BIG)
      },
    )
    const greedy = new WebSocket(`ws://127.0.0.1:${server.port}/ws`, { perMessageDeflate: false })
    cleanups.push(() => greedy.terminate())
    await new Promise((resolve) => greedy.once('open', resolve))
    let received = 0
    greedy.on('message', () => received++)
    greedy.pause()
    for (let i = 0; i < REQUESTS; i++) greedy.send(JSON.stringify([`r${i}`, 'k', null]))
    const held = await settled(() => handled)
    // Replies in the worker's buffer (≤ 1 MiB + one), the kernel's socket buffers, and the
    // client's: far below what 2000 requests would hold.
    expect(held).toBeLessThan(REQUESTS / 4)

    const other = new WsClientTransport()
    cleanups.push(() => other.close())
    await expect(other.request(`127.0.0.1:${server.port}`, 'k', null, { timeoutMs: 5000 })).resolves.toBe(BIG)

    greedy.resume()
    await settled(() => received, 300, 30_000)
    expect([received, handled]).toEqual([REQUESTS, REQUESTS + 1])
  })

  it('zmq: a peer holds at most 2 × maxInFlightPerConnection replies; others are served', async () => {
    let handled = 0
    const server = await listen(
      new ZmqServerTransport({ port: 0, maxInFlightPerConnection: 16 }),
      (_r, reply) => {
        handled++
        reply(null, BIG)
      },
    )
    // The client's own queue is one reply: what piles up is the worker's.
    const greedy = new Dealer({ receiveHighWaterMark: 1, sendHighWaterMark: 0, linger: 0 })
    cleanups.push(() => greedy.close())
    greedy.connect(`tcp://127.0.0.1:${server.port}`)
    const rss = process.memoryUsage.rss()
    for (let i = 0; i < REQUESTS; i++) await greedy.send(JSON.stringify([`r${i}`, 'k', null]))
    await settled(() => handled)
    expect(handled).toBe(REQUESTS)
    // Unbounded (sendHighWaterMark 0) this grew by the whole 300 MiB.
    expect(process.memoryUsage.rss() - rss).toBeLessThan(150 * 1024 * 1024)

    const other = new ZmqClientTransport()
    cleanups.push(() => other.close())
    await expect(other.request(`127.0.0.1:${server.port}`, 'k', null, { timeoutMs: 5000 })).resolves.toBe(BIG)
  })

  it('zmq: requests past maxInFlightPerConnection get ERR_BUSY before the handler runs', async () => {
    const waiting: Array<() => void> = []
    const server = await listen(
      new ZmqServerTransport({ port: 0, maxInFlightPerConnection: 3 }),
      (_r, reply) => {
        waiting.push(() => reply(null, 'late'))
      },
    )
    cleanups.push(() => {
      for (const answer of waiting) answer()
    })
    const client = new ZmqClientTransport()
    cleanups.push(() => client.close())
    const address = `127.0.0.1:${server.port}`
    const calls = Array.from({ length: 5 }, () =>
      client.request(address, 'k', null, { timeoutMs: 5000 }).then(
        () => 'ok',
        (err: { code: string }) => err.code,
      ),
    )
    const refused = await Promise.all(calls.slice(3))
    expect(refused).toEqual(['ERR_BUSY', 'ERR_BUSY'])
    expect(waiting).toHaveLength(3)
    for (const answer of waiting.splice(0)) answer()
    expect(await Promise.all(calls.slice(0, 3))).toEqual(['ok', 'ok', 'ok'])
  })

  it('http: pipelined requests wait unread past maxUnsentBytes, then are all answered in order', async () => {
    let handled = 0
    const server = await listen(
      new HttpServerTransport({ port: 0, maxUnsentBytes: 1024 * 1024 }),
      (request, reply) => {
        handled++
        reply(null, `${String(request.rid)}:${BIG}`)
      },
    )
    const socket: Socket = connect(server.port, '127.0.0.1')
    cleanups.push(() => socket.destroy())
    await new Promise((resolve) => socket.once('connect', resolve))
    let answers = 0
    let inOrder = true
    let tail = ''
    socket.on('data', (chunk: Buffer) => {
      const text = tail + chunk.toString('latin1')
      let end = 0
      for (const match of text.matchAll(/\["r(\d+)",null,"r\d+:/g)) {
        inOrder &&= Number(match[1]) === answers++
        end = match.index + match[0].length
      }
      // What may hold the start of a reply cut by the chunk's end, and never a counted one.
      tail = text.slice(Math.max(end, text.length - 40))
    })
    socket.pause()
    for (let i = 0; i < REQUESTS; i++) {
      const body = JSON.stringify([`r${i}`, 'k', null])
      socket.write(`POST / HTTP/1.1\r\nHost: x\r\nContent-Length: ${body.length}\r\n\r\n${body}`)
    }
    // node:http alone handled a whole read of them (~1000 small requests) and held every reply.
    expect(await settled(() => handled)).toBeLessThan(REQUESTS / 4)
    socket.resume()
    await settled(() => answers, 300, 30_000)
    expect([answers, handled, inOrder]).toEqual([REQUESTS, REQUESTS, true])
  })
})
