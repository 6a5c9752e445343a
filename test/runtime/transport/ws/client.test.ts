import { once } from 'node:events'
import { createServer as createHttpServer } from 'node:http'
import { type AddressInfo, createServer as createTcpServer } from 'node:net'
import { afterEach, beforeEach, describe, expect, it } from 'vitest'
import { WsClientTransport, WsServerTransport } from '../../../../runtime/transport/ws/index.js'
import { settledHandles, socketHandles } from '../../../helpers/handles.js'
import {
  code,
  parseRequest,
  printed,
  type RawServer,
  rejection,
  startDoomedWorker,
  startRawServer,
} from './setup.js'

describe('WsClientTransport', () => {
  let client: WsClientTransport
  let raw: RawServer | undefined
  let before: Record<string, number>
  const uncaught: unknown[] = []
  const onUncaught = (err: unknown): void => {
    uncaught.push(err)
  }

  beforeEach(() => {
    before = socketHandles()
    uncaught.length = 0
    process.on('uncaughtException', onUncaught)
    client = new WsClientTransport()
  })
  afterEach(async () => {
    await client.close()
    await raw?.close()
    raw = undefined
    process.off('uncaughtException', onUncaught)
    expect(uncaught).toEqual([])
    expect(await settledHandles(before)).toEqual(before)
  })

  describe('request()', () => {
    it('multiplexes concurrent requests on one socket and matches replies given in reverse order', async () => {
      const held: Array<() => void> = []
      raw = await startRawServer((socket, data) => {
        const [rid, key, payload] = parseRequest(data)
        held.push(() => socket.send(JSON.stringify([rid, null, { key, payload }])))
        if (held.length === 5) for (const send of held.reverse()) send()
      })
      const replies = await Promise.all(
        [0, 1, 2, 3, 4].map((n) => client.request(raw!.address, 'multi', n, { timeoutMs: 5000 })),
      )
      expect(replies).toEqual([0, 1, 2, 3, 4].map((n) => ({ key: 'multi', payload: n })))
      expect(raw.sockets).toHaveLength(1)
    })

    it('sends [rid, key, payload] as one text frame to /ws, with a fresh string rid each time', async () => {
      const frames: Array<{ text: string; binary: boolean }> = []
      raw = await startRawServer((socket, data, isBinary) => {
        frames.push({ text: data.toString(), binary: isBinary })
        const [rid] = parseRequest(data)
        socket.send(JSON.stringify([rid, null, null]))
      })
      const path = once(raw.wss, 'connection')
      await client.request(raw.address, 'shape', { a: 1 }, { timeoutMs: 5000 })
      await client.request(raw.address, 'shape', undefined, { timeoutMs: 5000 })
      const [, request] = (await path) as [unknown, { url: string; headers: Record<string, string> }]
      expect(request.url).toBe('/ws')
      expect(request.headers['sec-websocket-extensions']).toBeUndefined()
      const [first, second] = frames.map((f) => JSON.parse(f.text) as unknown[])
      expect(frames.every((f) => !f.binary)).toBe(true)
      expect(first?.slice(1)).toEqual(['shape', { a: 1 }])
      expect(second?.slice(1)).toEqual(['shape', null])
      expect(typeof first?.[0]).toBe('string')
      expect(first?.[0]).not.toBe(second?.[0])
    })

    it('rejects with ERR_REMOTE and the remote code for an error message', async () => {
      raw = await startRawServer((socket, data) => {
        const [rid] = parseRequest(data)
        socket.send(JSON.stringify([rid, 'TOO_SLOW: try later', null]))
      })
      const err = await rejection(client.request(raw.address, 'k', 1, { timeoutMs: 5000 }))
      expect(err.code).toBe('ERR_REMOTE')
      expect(err.remoteCode).toBe('TOO_SLOW')
      expect(err.message).toBe('TOO_SLOW: try later')
    })

    it('drops a reply frame that is not JSON, and one for an unknown rid, then takes the real reply', async () => {
      raw = await startRawServer((socket, data) => {
        const [rid] = parseRequest(data)
        socket.send('this is not JSON')
        socket.send(JSON.stringify({ not: 'an array' }))
        socket.send(JSON.stringify(['nobody-asked', null, 1]))
        socket.send(JSON.stringify([rid, null, 'real']))
      })
      await expect(client.request(raw.address, 'k', 1, { timeoutMs: 5000 })).resolves.toBe('real')
      expect(client.stats).toEqual({ badReplies: 2, unmatchedReplies: 1 })
    })

    it('rejects with ERR_TIMEOUT close to its own deadline', async () => {
      raw = await startRawServer(() => undefined)
      const started = Date.now()
      const err = await rejection(client.request(raw.address, 'k', 1, { timeoutMs: 200 }))
      const elapsed = Date.now() - started
      expect(err.code).toBe('ERR_TIMEOUT')
      expect(elapsed).toBeGreaterThanOrEqual(190)
      expect(elapsed).toBeLessThan(2000)
    })

    it('rejects with ERR_ABORTED when its signal aborts, and at once when it was aborted already', async () => {
      raw = await startRawServer(() => undefined)
      const controller = new AbortController()
      const pending = client.request(raw.address, 'k', 1, { timeoutMs: 10_000, signal: controller.signal })
      setTimeout(() => controller.abort(new Error('changed my mind')), 20)
      const err = await rejection(pending)
      expect(err.code).toBe('ERR_ABORTED')
      expect((err.cause as Error).message).toBe('changed my mind')
      await expect(
        code(client.request(raw.address, 'k', 1, { timeoutMs: 10_000, signal: AbortSignal.abort() })),
      ).resolves.toBe('ERR_ABORTED')
    })

    it('rejects with ERR_TIMEOUT at once when the deadline is already gone', async () => {
      await expect(code(client.request('127.0.0.1:9', 'k', 1, { timeoutMs: 0 }))).resolves.toBe(
        'ERR_INVALID_ARGUMENT',
      )
    })

    it('rejects bad arguments with ERR_INVALID_ARGUMENT', async () => {
      await expect(code(client.request('no-port', 'k', 1, { timeoutMs: 100 }))).resolves.toBe(
        'ERR_INVALID_ARGUMENT',
      )
      await expect(
        code(client.request('127.0.0.1:1', 7 as unknown as string, 1, { timeoutMs: 100 })),
      ).resolves.toBe('ERR_INVALID_ARGUMENT')
      await expect(code(client.request('127.0.0.1:1', 'k', 1, { timeoutMs: Number.NaN }))).resolves.toBe(
        'ERR_INVALID_ARGUMENT',
      )
      await expect(code(client.request('127.0.0.1:1', 'k', 1n, { timeoutMs: 100 }))).resolves.toBe(
        'ERR_INVALID_ARGUMENT',
      )
    })
  })

  describe('connection failures', () => {
    it('fails the queued requests with ERR_CONNECTION_REFUSED when nothing listens, without crashing', async () => {
      const tcp = createTcpServer()
      await new Promise<void>((resolve) => tcp.listen(0, '127.0.0.1', resolve))
      const { port } = tcp.address() as AddressInfo
      await new Promise<void>((resolve) => tcp.close(() => resolve()))
      const address = `127.0.0.1:${port}`
      const results = await Promise.all([
        code(client.request(address, 'k', 1, { timeoutMs: 5000 })),
        code(client.request(address, 'k', 2, { timeoutMs: 5000 })),
      ])
      expect(results).toEqual(['ERR_CONNECTION_REFUSED', 'ERR_CONNECTION_REFUSED'])
      expect(client.isWarm(address)).toBe(false)
    })

    it('fails a request in flight with ERR_CONNECTION_RESET as soon as the worker process dies', async () => {
      const worker = await startDoomedWorker()
      try {
        const received = printed(worker.child, 'GOT')
        const started = Date.now()
        const pending = rejection(client.request(worker.address, 'k', 1, { timeoutMs: 20_000 }))
        await received
        const exited = once(worker.child, 'exit')
        worker.child.kill('SIGKILL')
        const err = await pending
        expect(err.code).toBe('ERR_CONNECTION_RESET')
        expect(Date.now() - started).toBeLessThan(5000)

        // The next request dials again: here a new worker on the same port answers it.
        await exited
        raw = await startRawServer(
          (socket, data) => socket.send(JSON.stringify([parseRequest(data)[0], null, 'back'])),
          { port: worker.port },
        )
        await expect(client.request(worker.address, 'k', 1, { timeoutMs: 5000 })).resolves.toBe('back')
        expect(client.isWarm(worker.address)).toBe(true)
      } finally {
        worker.child.kill('SIGKILL')
      }
    })

    it('fails requests in flight with ERR_CONNECTION_RESET when the worker closes the socket', async () => {
      raw = await startRawServer((socket) => socket.close(1011, 'internal error'))
      const err = await rejection(client.request(raw.address, 'k', 1, { timeoutMs: 20_000 }))
      expect(err.code).toBe('ERR_CONNECTION_RESET')
      expect(err.message).toContain('1011')
    })

    it('rejects with ERR_TRANSPORT_MISMATCH at once when a plain HTTP server answers the upgrade', async () => {
      const http = createHttpServer((_request, response) => response.end('hello'))
      await new Promise<void>((resolve) => http.listen(0, '127.0.0.1', resolve))
      try {
        const { port } = http.address() as AddressInfo
        const started = Date.now()
        const err = await rejection(client.request(`127.0.0.1:${port}`, 'k', 1, { timeoutMs: 20_000 }))
        expect(err.code).toBe('ERR_TRANSPORT_MISMATCH')
        expect(err.message).toContain('HTTP 200')
        expect(Date.now() - started).toBeLessThan(5000)
      } finally {
        http.closeAllConnections()
        await new Promise<void>((resolve) => http.close(() => resolve()))
      }
    })

    it('rejects with ERR_TRANSPORT_MISMATCH when the port does not speak HTTP at all', async () => {
      // What a ZeroMQ port does: it greets with its own bytes.
      const tcp = createTcpServer((socket) => {
        socket.on('error', () => undefined)
        socket.resume()
        socket.end(Buffer.from([0xff, 0, 0, 0, 0, 0, 0, 0, 1, 0x7f, 3, 1]))
      })
      await new Promise<void>((resolve) => tcp.listen(0, '127.0.0.1', resolve))
      try {
        const { port } = tcp.address() as AddressInfo
        await expect(code(client.request(`127.0.0.1:${port}`, 'k', 1, { timeoutMs: 20_000 }))).resolves.toBe(
          'ERR_TRANSPORT_MISMATCH',
        )
      } finally {
        await new Promise<void>((resolve) => tcp.close(() => resolve()))
      }
    })

    it('rejects with ERR_PAYLOAD_TOO_LARGE when a reply is over maxPayloadBytes', async () => {
      await client.close()
      client = new WsClientTransport({ maxPayloadBytes: 1000 })
      raw = await startRawServer((socket, data) => {
        socket.send(JSON.stringify([parseRequest(data)[0], null, 'x'.repeat(2000)]))
      })
      await expect(code(client.request(raw.address, 'k', 1, { timeoutMs: 5000 }))).resolves.toBe(
        'ERR_PAYLOAD_TOO_LARGE',
      )
    })

    it('rejects with ERR_PAYLOAD_TOO_LARGE when the worker closes with 1009 (over its hard cap)', async () => {
      const worker = new WsServerTransport({ port: 0, maxPayloadBytes: 1000 })
      const port = await worker.listen((_request, reply) => reply(null, 'ok'))
      try {
        await expect(
          code(client.request(`127.0.0.1:${port}`, 'k', 'y'.repeat(5000), { timeoutMs: 5000 })),
        ).resolves.toBe('ERR_PAYLOAD_TOO_LARGE')
        // The next request dials again and is served.
        await expect(client.request(`127.0.0.1:${port}`, 'k', 'small', { timeoutMs: 5000 })).resolves.toBe(
          'ok',
        )
      } finally {
        await worker.close()
      }
    })
  })

  describe('isWarm()', () => {
    it('is true once the socket to the address is open, false before and for other addresses', async () => {
      raw = await startRawServer((socket, data) =>
        socket.send(JSON.stringify([parseRequest(data)[0], null, 1])),
      )
      expect(client.isWarm(raw.address)).toBe(false)
      await client.request(raw.address, 'k', 1, { timeoutMs: 5000 })
      expect(client.isWarm(raw.address)).toBe(true)
      expect(client.isWarm('127.0.0.1:1')).toBe(false)
    })
  })

  describe('close()', () => {
    it('waits for the requests in flight, then refuses new ones with ERR_CLOSED', async () => {
      raw = await startRawServer((socket, data) => {
        const [rid] = parseRequest(data)
        setTimeout(() => socket.send(JSON.stringify([rid, null, 'late but fine'])), 100)
      })
      const inFlight = client.request(raw.address, 'k', 1, { timeoutMs: 5000 })
      await once(raw.wss, 'connection')
      const closing = client.close()
      expect(client.close()).toBe(closing)
      await expect(inFlight).resolves.toBe('late but fine')
      await closing
      await expect(code(client.request(raw.address, 'k', 1, { timeoutMs: 5000 }))).resolves.toBe('ERR_CLOSED')
      expect(client.isWarm(raw.address)).toBe(false)
    })

    it('fails what is still in flight after closeTimeoutMs with ERR_CLOSED', async () => {
      await client.close()
      client = new WsClientTransport({ closeTimeoutMs: 100 })
      raw = await startRawServer(() => undefined)
      const inFlight = code(client.request(raw.address, 'k', 1, { timeoutMs: 20_000 }))
      await once(raw.wss, 'connection')
      const started = Date.now()
      await client.close()
      expect(Date.now() - started).toBeLessThan(3000)
      await expect(inFlight).resolves.toBe('ERR_CLOSED')
    })

    it('closes a socket still connecting and fails its queued requests', async () => {
      // A listener that never completes the upgrade.
      const tcp = createTcpServer((socket) => socket.on('error', () => undefined).resume())
      await new Promise<void>((resolve) => tcp.listen(0, '127.0.0.1', resolve))
      try {
        await client.close()
        client = new WsClientTransport({ closeTimeoutMs: 50 })
        const { port } = tcp.address() as AddressInfo
        const queued = code(client.request(`127.0.0.1:${port}`, 'k', 1, { timeoutMs: 20_000 }))
        await once(tcp, 'connection')
        await client.close()
        await expect(queued).resolves.toBe('ERR_CLOSED')
      } finally {
        await new Promise<void>((resolve) => tcp.close(() => resolve()))
      }
    })
  })

  describe('options', () => {
    it('rejects invalid options with ERR_INVALID_OPTION', () => {
      expect(() => new WsClientTransport({ maxPayloadBytes: 0 })).toThrow(/options.maxPayloadBytes/)
      expect(() => new WsClientTransport({ kind: 'http' as 'ws' })).toThrow(/options.kind/)
      expect(() => new WsClientTransport({ kind: 'ws', tls: {} })).toThrow(/options.tls/)
      expect(new WsClientTransport({ tls: {} }).kind).toBe('wss')
      expect(new WsClientTransport().kind).toBe('ws')
    })
  })
})
