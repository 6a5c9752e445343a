import { getEventListeners } from 'node:events'
import type { IncomingMessage, ServerResponse } from 'node:http'
import { performance } from 'node:perf_hooks'
import { gunzipSync, gzipSync } from 'node:zlib'
import { afterAll, afterEach, beforeAll, describe, expect, it, vi } from 'vitest'
import { GrenacheError } from '../../../../runtime/errors.js'
import { HttpClientTransport } from '../../../../runtime/transport/http/index.js'
import type { RpcRequest } from '../../../../runtime/transport/types.js'
import { settledHandles, socketHandles } from '../../../helpers/handles.js'
import {
  closedPort,
  code,
  delay,
  echo,
  type RawServer,
  rawHttpServer,
  rawTcpServer,
  rejection,
  type StartedServer,
  startServer,
} from './helpers.js'

/** `[rid, key, payload]` of a request body. */
const envelope = (body: Buffer | string) => JSON.parse(body.toString()) as [string, string, unknown]

describe('HttpClientTransport', () => {
  const before = socketHandles()
  let client: HttpClientTransport

  beforeAll(() => {
    client = new HttpClientTransport()
  })
  afterAll(async () => {
    await client.close()
    expect(await settledHandles(before)).toEqual(before)
  })

  it('is an http transport, or https when given tls', () => {
    expect(client.kind).toBe('http')
    expect(new HttpClientTransport({ tls: {} }).kind).toBe('https')
  })

  describe('against our server transport', () => {
    let worker: StartedServer
    const seen: RpcRequest[] = []

    beforeAll(async () => {
      worker = await startServer((request, reply) => {
        seen.push(request)
        const payload = request.payload as { fail?: string; failString?: string; throw?: string } | null
        if (payload?.fail) reply(new Error(payload.fail))
        else if (payload?.failString) reply(payload.failString)
        else if (payload?.throw) throw new Error(payload.throw)
        else echo(request, reply)
      })
    })
    afterAll(() => worker.server.close())

    it('sends the key and payload and resolves with the result', async () => {
      const result = await client.request(
        worker.address,
        'echo@1',
        { n: 1, list: [1, 'two'] },
        { timeoutMs: 5000 },
      )
      expect(result).toEqual({ key: 'echo@1', payload: { n: 1, list: [1, 'two'] } })
      const request = seen.at(-1) as RpcRequest
      expect(request.transport).toBe('http')
      expect(request.certificate).toBeUndefined()
      expect(request.rid).toMatch(/^[0-9a-f-]{36}$/)
    })

    it('sends an undefined payload as null', async () => {
      await expect(client.request(worker.address, 'k', undefined, { timeoutMs: 5000 })).resolves.toEqual({
        key: 'k',
        payload: null,
      })
    })

    it('rejects with ERR_REMOTE and the remote code when the handler replies with an Error', async () => {
      const error = await rejection(
        client.request(worker.address, 'k', { fail: 'TOO_SLOW: the market moved' }, { timeoutMs: 5000 }),
      )
      expect(error.code).toBe('ERR_REMOTE')
      expect(error.remoteCode).toBe('TOO_SLOW')
      expect(error.message).toBe('TOO_SLOW: the market moved')
    })

    it('rejects with ERR_REMOTE when the handler replies with a string (the reference sends success, G12)', async () => {
      const error = await rejection(
        client.request(worker.address, 'k', { failString: 'ERR_X' }, { timeoutMs: 5000 }),
      )
      expect(error.code).toBe('ERR_REMOTE')
      expect(error.remoteCode).toBe('ERR_X')
    })

    it('rejects with ERR_REMOTE carrying the message of an error the handler throws', async () => {
      const error = await rejection(
        client.request(worker.address, 'k', { throw: 'BOOM: oops' }, { timeoutMs: 5000 }),
      )
      expect(error.code).toBe('ERR_REMOTE')
      expect(error.remoteCode).toBe('BOOM')
    })

    it('rejects with ERR_REMOTE without a remote code for a message that does not start with one', async () => {
      const error = await rejection(
        client.request(worker.address, 'k', { fail: 'plain words' }, { timeoutMs: 5000 }),
      )
      expect(error.code).toBe('ERR_REMOTE')
      expect(error.remoteCode).toBeUndefined()
    })

    it('gzips requests and gunzips replies with compress: true', async () => {
      const gzip = new HttpClientTransport({ compress: true })
      const payload = { text: 'x'.repeat(10_000) }
      await expect(gzip.request(worker.address, 'k', payload, { timeoutMs: 5000 })).resolves.toEqual({
        key: 'k',
        payload,
      })
      await gzip.close()
    })

    it('rejects with ERR_REMOTE (remoteCode ERR_PAYLOAD_TOO_LARGE) when the worker answers 413', async () => {
      const small = await startServer(echo, { maxPayloadBytes: 100 })
      const error = await rejection(client.request(small.address, 'k', 'x'.repeat(200), { timeoutMs: 5000 }))
      expect(error.code).toBe('ERR_REMOTE')
      expect(error.remoteCode).toBe('ERR_PAYLOAD_TOO_LARGE')
      await small.server.close()
    })

    it('keeps the connection warm between requests', async () => {
      const fresh = new HttpClientTransport()
      expect(fresh.isWarm(worker.address)).toBe(false)
      await fresh.request(worker.address, 'k', 1, { timeoutMs: 5000 })
      expect(fresh.isWarm(worker.address)).toBe(true)
      expect(fresh.isWarm('127.0.0.1:1')).toBe(false)
      await fresh.close()
      expect(fresh.isWarm(worker.address)).toBe(false)
    })

    it('reuses its keep-alive connections for sequential requests', async () => {
      const fresh = new HttpClientTransport()
      const connections = new Set<number>()
      const raw = await rawHttpServer((req, res, body) => {
        connections.add(req.socket.remotePort as number)
        res.end(JSON.stringify([envelope(body)[0], null, 'ok']))
      })
      for (let i = 0; i < 20; i++) await fresh.request(raw.address, 'k', i, { timeoutMs: 5000 })
      // undici frees a connection one event-loop turn after its reply, so a request sent at once
      // after the previous reply opens a second connection; after that the two take turns.
      expect(connections.size).toBeLessThanOrEqual(2)
      await fresh.close()
      await raw.close()
    })
  })

  describe('against a bare HTTP server', () => {
    let raw: RawServer
    let answer: (res: ServerResponse, body: Buffer, req: IncomingMessage) => void

    beforeAll(async () => {
      raw = await rawHttpServer((req, res, body) => answer(res, body, req))
    })
    afterAll(() => raw.close())

    it('posts the reference bytes: POST /, grc-compress: none, Content-Length, the envelope', async () => {
      answer = (res, body) => res.end(JSON.stringify([envelope(body)[0], null, 'world']))
      await expect(client.request(raw.address, 'rpc_test', 'hello', { timeoutMs: 5000 })).resolves.toBe(
        'world',
      )
      const req = raw.requests.at(-1)
      expect(req?.method).toBe('POST')
      expect(req?.url).toBe('/')
      expect(req?.headers['grc-compress']).toBe('none')
      expect(req?.headers['content-length']).toBe(String(raw.bodies.at(-1)?.length))
      expect(req?.headers['transfer-encoding']).toBeUndefined()
      expect(req?.headers['content-encoding']).toBeUndefined()
      const [rid, key, payload] = envelope(raw.bodies.at(-1) as Buffer)
      expect(rid).toMatch(/^[0-9a-f]{8}-[0-9a-f]{4}-4[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}$/)
      expect([key, payload]).toEqual(['rpc_test', 'hello'])
    })

    it('accepts a chunked reply without Content-Type, as the reference worker sends it', async () => {
      answer = (res, body) => {
        res.write(JSON.stringify([envelope(body)[0], null, { a: 1 }]))
        res.end()
      }
      await expect(client.request(raw.address, 'k', 1, { timeoutMs: 5000 })).resolves.toEqual({ a: 1 })
    })

    it('sends grc-compress: gzip and a gzip body, and gunzips the reply itself (no Content-Encoding)', async () => {
      answer = (res, body, req) => {
        expect(req.headers['grc-compress']).toBe('gzip')
        expect(body.subarray(0, 2)).toEqual(Buffer.from([0x1f, 0x8b]))
        res.end(gzipSync(JSON.stringify([envelope(gunzipSync(body))[0], null, 'zipped'])))
      }
      const gzip = new HttpClientTransport({ compress: true })
      await expect(gzip.request(raw.address, 'k', { z: 1 }, { timeoutMs: 5000 })).resolves.toBe('zipped')
      await gzip.close()
    })

    it('accepts a plain reply to a gzip request (a worker whose gzip failed sends it plain)', async () => {
      answer = (res, body) => res.end(JSON.stringify([envelope(gunzipSync(body))[0], null, 'plain']))
      const gzip = new HttpClientTransport({ compress: true })
      await expect(gzip.request(raw.address, 'k', 1, { timeoutMs: 5000 })).resolves.toBe('plain')
      await gzip.close()
    })

    it('rejects with ERR_BAD_REPLY when the reply carries another rid', async () => {
      answer = (res) => res.end(JSON.stringify(['someone-else', null, 'stolen']))
      const error = await rejection(client.request(raw.address, 'k', 1, { timeoutMs: 5000 }))
      expect(error.code).toBe('ERR_BAD_REPLY')
      expect(error.message).toContain('someone-else')
    })

    it('rejects with ERR_BAD_REPLY when the reply is not JSON, not an envelope, or empty', async () => {
      for (const text of ['not json', '{"a":1}', '']) {
        answer = (res) => res.end(text)
        await expect(code(client.request(raw.address, 'k', 1, { timeoutMs: 5000 }))).resolves.toBe(
          'ERR_BAD_REPLY',
        )
      }
    })

    it("reads ERR_BUSY in a 200 reply as the handler's error (ERR_REMOTE): only a 503 is a refusal to retry elsewhere", async () => {
      answer = (res, body) =>
        res.end(JSON.stringify([envelope(body)[0], 'ERR_BUSY: a call of its own', null]))
      const error = await rejection(client.request(raw.address, 'k', 1, { timeoutMs: 5000 }))
      expect([error.code, error.remoteCode, error.message]).toEqual([
        'ERR_REMOTE',
        'ERR_BUSY',
        'ERR_BUSY: a call of its own',
      ])
      answer = (res) => {
        res.statusCode = 503
        res.end('[null, "ERR_BUSY: this worker has 16 connections open", null]')
      }
      expect((await rejection(client.request(raw.address, 'k', 1, { timeoutMs: 5000 }))).code).toBe(
        'ERR_BUSY',
      )
    })

    it("reads a Grenache error body under any status but 426 as the worker's answer (ERR_REMOTE)", async () => {
      for (const status of [400, 404, 413, 500, 503]) {
        answer = (res) => {
          res.statusCode = status
          res.end('[null, "ERR_SOMETHING: said the worker", null]')
        }
        const error = await rejection(client.request(raw.address, 'k', 1, { timeoutMs: 5000 }))
        expect([status, error.code, error.remoteCode]).toEqual([status, 'ERR_REMOTE', 'ERR_SOMETHING'])
      }
    })

    it('maps the status of another body: 400 ERR_BAD_REQUEST, 413 ERR_PAYLOAD_TOO_LARGE, 426 ERR_TRANSPORT_MISMATCH, 503 ERR_BUSY, others ERR_BAD_REPLY', async () => {
      const expected: Record<number, string> = {
        400: 'ERR_BAD_REQUEST',
        413: 'ERR_PAYLOAD_TOO_LARGE',
        426: 'ERR_TRANSPORT_MISMATCH',
        404: 'ERR_BAD_REPLY',
        500: 'ERR_BAD_REPLY',
        503: 'ERR_BUSY',
        204: 'ERR_BAD_REPLY',
      }
      for (const [status, errorCode] of Object.entries(expected)) {
        answer = (res) => {
          res.statusCode = Number(status)
          res.end(Number(status) === 204 ? undefined : 'a proxy said no')
        }
        const error = await rejection(client.request(raw.address, 'k', 1, { timeoutMs: 5000 }))
        expect([status, error.code]).toEqual([status, errorCode])
      }
    })

    it('keeps the message of a non-200 answer', async () => {
      answer = (res) => {
        res.statusCode = 500
        res.end('[null, "ERR_HEADER_PARSE_GR", null]')
      }
      const error = await rejection(client.request(raw.address, 'k', 1, { timeoutMs: 5000 }))
      expect(error).toMatchObject({
        code: 'ERR_REMOTE',
        remoteCode: 'ERR_HEADER_PARSE_GR',
        message: 'ERR_HEADER_PARSE_GR',
      })
      answer = (res) => {
        res.statusCode = 502
        res.end('Bad Gateway')
      }
      expect((await rejection(client.request(raw.address, 'k', 1, { timeoutMs: 5000 }))).message).toContain(
        'HTTP 502 Bad Gateway',
      )
    })

    it('rejects with ERR_PAYLOAD_TOO_LARGE when the reply is larger than maxPayloadBytes', async () => {
      const tight = new HttpClientTransport({ maxPayloadBytes: 1000 })
      answer = (res, body) => res.end(JSON.stringify([envelope(body)[0], null, 'x'.repeat(5000)]))
      await expect(code(tight.request(raw.address, 'k', 1, { timeoutMs: 5000 }))).resolves.toBe(
        'ERR_PAYLOAD_TOO_LARGE',
      )
      await tight.close()
    })
  })

  describe('deadlines and aborts', () => {
    let raw: RawServer
    const closedAt: number[] = []

    beforeAll(async () => {
      // Never answers; notes when the client gives up on the connection.
      raw = await rawHttpServer((req) => {
        req.socket.once('close', () => closedAt.push(performance.now()))
      })
    })
    afterAll(() => raw.close())

    it('rejects with ERR_TIMEOUT at the deadline and closes the connection of the request', async () => {
      const start = performance.now()
      const error = await rejection(client.request(raw.address, 'k', 1, { timeoutMs: 200 }))
      const elapsed = performance.now() - start
      expect(error.code).toBe('ERR_TIMEOUT')
      expect(error.message).toContain('200 ms')
      expect(elapsed).toBeGreaterThanOrEqual(195)
      expect(elapsed).toBeLessThan(2000)
      await vi.waitFor(() => expect(closedAt).toHaveLength(1), { timeout: 5000 })
    })

    it('rejects with ERR_ABORTED, the reason as cause, when the signal aborts', async () => {
      const controller = new AbortController()
      const request = client.request(raw.address, 'k', 1, { timeoutMs: 10_000, signal: controller.signal })
      await vi.waitFor(() => expect(raw.requests).toHaveLength(2), { timeout: 5000 })
      const reason = new Error('the user left')
      controller.abort(reason)
      const error = await rejection(request)
      expect(error.code).toBe('ERR_ABORTED')
      expect(error.cause).toBe(reason)
      await vi.waitFor(() => expect(closedAt).toHaveLength(2), { timeout: 5000 })
    })

    it('rejects at once with ERR_ABORTED when the signal has already aborted, sending nothing', async () => {
      const sent = raw.requests.length
      const error = await rejection(
        client.request(raw.address, 'k', 1, { timeoutMs: 10_000, signal: AbortSignal.abort('gone') }),
      )
      expect(error.code).toBe('ERR_ABORTED')
      await delay(50)
      expect(raw.requests.length).toBe(sent)
    })

    it('times out a request still waiting for a connection, and never sends it', async () => {
      const one = new HttpClientTransport({ connections: 1 })
      const first = one.request(raw.address, 'k', 'first', { timeoutMs: 400 })
      const second = one.request(raw.address, 'k', 'second', { timeoutMs: 100 })
      await expect(code(second)).resolves.toBe('ERR_TIMEOUT')
      await expect(code(first)).resolves.toBe('ERR_TIMEOUT')
      await delay(100)
      expect(raw.bodies.filter((body) => body.includes('second'))).toEqual([])
      await one.close()
    })

    it('removes its abort listener once settled', async () => {
      const worker = await startServer(echo)
      const controller = new AbortController()
      const request = client.request(worker.address, 'k', 1, { timeoutMs: 5000, signal: controller.signal })
      expect(getEventListeners(controller.signal, 'abort')).toHaveLength(1)
      await request
      expect(getEventListeners(controller.signal, 'abort')).toHaveLength(0)
      await worker.server.close()
    })
  })

  describe('connection failures', () => {
    it('rejects with ERR_CONNECTION_REFUSED when nothing listens', async () => {
      const port = await closedPort()
      const error = await rejection(client.request(`127.0.0.1:${port}`, 'k', 1, { timeoutMs: 5000 }))
      expect(error.code).toBe('ERR_CONNECTION_REFUSED')
      expect(error.message).toContain(`http 127.0.0.1:${port}`)
    })

    it('rejects with ERR_CONNECTION_RESET, without waiting for the deadline, when the worker drops the connection', async () => {
      const raw = await rawHttpServer((req) => req.socket.destroy())
      const start = performance.now()
      await expect(code(client.request(raw.address, 'k', 1, { timeoutMs: 20_000 }))).resolves.toBe(
        'ERR_CONNECTION_RESET',
      )
      expect(performance.now() - start).toBeLessThan(5000)
      await raw.close()
    })

    it('rejects with ERR_CONNECTION_RESET when the worker is closed with requests in flight', async () => {
      const worker = await startServer(() => {}, { drainTimeoutMs: 0 })
      const requests = [1, 2, 3].map((n) =>
        code(client.request(worker.address, 'k', n, { timeoutMs: 20_000 })),
      )
      await delay(100)
      await worker.server.close()
      await expect(Promise.all(requests)).resolves.toEqual([
        'ERR_CONNECTION_RESET',
        'ERR_CONNECTION_RESET',
        'ERR_CONNECTION_RESET',
      ])
    })

    it('rejects with ERR_TRANSPORT_MISMATCH when the port does not speak HTTP', async () => {
      const tcp = await rawTcpServer((socket) => socket.end('\x00\x01 not http at all\r\n\r\n'))
      await expect(code(client.request(tcp.address, 'k', 1, { timeoutMs: 5000 }))).resolves.toBe(
        'ERR_TRANSPORT_MISMATCH',
      )
      await tcp.close()
    })

    it('rejects with ERR_INVALID_ARGUMENT for a malformed address, key or timeout', async () => {
      await expect(code(client.request('nonsense', 'k', 1, { timeoutMs: 5000 }))).resolves.toBe(
        'ERR_INVALID_ARGUMENT',
      )
      await expect(code(client.request('127.0.0.1:0', 'k', 1, { timeoutMs: 5000 }))).resolves.toBe(
        'ERR_INVALID_ARGUMENT',
      )
      await expect(
        code(client.request('127.0.0.1:1', 7 as unknown as string, 1, { timeoutMs: 5000 })),
      ).resolves.toBe('ERR_INVALID_ARGUMENT')
      await expect(code(client.request('127.0.0.1:1', 'k', 1, { timeoutMs: 0 }))).resolves.toBe(
        'ERR_INVALID_ARGUMENT',
      )
      await expect(code(client.request('127.0.0.1:1', 'k', 1, { timeoutMs: Number.NaN }))).resolves.toBe(
        'ERR_INVALID_ARGUMENT',
      )
    })

    it('rejects with ERR_INVALID_ARGUMENT for a payload JSON cannot encode', async () => {
      await expect(code(client.request('127.0.0.1:1', 'k', { big: 1n }, { timeoutMs: 5000 }))).resolves.toBe(
        'ERR_INVALID_ARGUMENT',
      )
    })
  })

  describe('pools of workers that went away', () => {
    it('drops the pool of a worker whose connection closed, and calls it again with a new one', async () => {
      const own = new HttpClientTransport()
      const worker = await startServer(echo)
      await own.request(worker.address, 'k', 1, { timeoutMs: 5000 })
      expect(own.poolCount).toBe(1)
      expect(own.isWarm(worker.address)).toBe(true)
      await worker.server.close()
      await vi.waitFor(() => expect(own.poolCount).toBe(0), { timeout: 5000 })
      expect(own.isWarm(worker.address)).toBe(false)
      const again = await startServer(echo)
      await expect(own.request(again.address, 'k', 2, { timeoutMs: 5000 })).resolves.toEqual({
        key: 'k',
        payload: 2,
      })
      await own.close()
      await again.server.close()
    })

    it('drops the pools of workers that refused, so many dead addresses leave nothing behind', async () => {
      const own = new HttpClientTransport()
      const ports = await Promise.all([1, 2, 3, 4, 5].map(() => closedPort()))
      const codes = await Promise.all(
        ports.map((port) => code(own.request(`127.0.0.1:${port}`, 'k', 1, { timeoutMs: 5000 }))),
      )
      expect(codes).toEqual(ports.map(() => 'ERR_CONNECTION_REFUSED'))
      await vi.waitFor(() => expect(own.poolCount).toBe(0), { timeout: 5000 })
      await own.close()
    })

    it('keeps the pool of a worker with a call in flight', async () => {
      const own = new HttpClientTransport({ compress: true })
      const release: Array<() => void> = []
      const worker = await startServer((request, reply) => {
        release.push(() => reply(null, request.payload))
      })
      const first = own.request(worker.address, 'k', 'a', { timeoutMs: 10_000 })
      await vi.waitFor(() => expect(release).toHaveLength(1), { timeout: 5000 })
      await delay(50)
      expect(own.poolCount).toBe(1)
      release.shift()?.()
      await expect(first).resolves.toBe('a')
      await own.close()
      await worker.server.close()
    })
  })

  describe('options', () => {
    it.each([
      ['connections', { connections: 0 }],
      ['maxPayloadBytes', { maxPayloadBytes: -1 }],
      ['compress', { compress: 'yes' as unknown as boolean }],
      ['connectTimeoutMs', { connectTimeoutMs: 0 }],
    ])('rejects an invalid %s with ERR_INVALID_OPTION naming it', (name, options) => {
      try {
        new HttpClientTransport(options)
        expect.unreachable()
      } catch (err) {
        expect(err).toBeInstanceOf(GrenacheError)
        expect((err as GrenacheError).code).toBe('ERR_INVALID_OPTION')
        expect((err as GrenacheError).message).toContain(`options.${name}`)
      }
    })
  })

  describe('close()', () => {
    let worker: StartedServer
    const pending: Array<() => void> = []

    beforeAll(async () => {
      worker = await startServer((request, reply) => {
        if (request.payload === 'wait') pending.push(() => reply(null, 'finished'))
        else reply(null, 'quick')
      })
    })
    afterEach(() => {
      for (const release of pending.splice(0)) release()
    })
    afterAll(() => worker.server.close())

    it('lets requests in flight finish, then refuses new ones with ERR_CLOSED', async () => {
      const closing = new HttpClientTransport()
      const inFlight = closing.request(worker.address, 'k', 'wait', { timeoutMs: 10_000 })
      await vi.waitFor(() => expect(pending).toHaveLength(1), { timeout: 5000 })
      const closed = closing.close()
      await expect(code(closing.request(worker.address, 'k', 1, { timeoutMs: 5000 }))).resolves.toBe(
        'ERR_CLOSED',
      )
      pending.shift()?.()
      await expect(inFlight).resolves.toBe('finished')
      await closed
      expect(closing.isWarm(worker.address)).toBe(false)
    })

    it('is idempotent: a second call returns the same promise', async () => {
      const closing = new HttpClientTransport()
      await closing.request(worker.address, 'k', 1, { timeoutMs: 5000 })
      const first = closing.close()
      expect(closing.close()).toBe(first)
      await first
    })

    it('destroy() fails requests in flight with ERR_CLOSED at once', async () => {
      const closing = new HttpClientTransport()
      const inFlight = code(closing.request(worker.address, 'k', 'wait', { timeoutMs: 10_000 }))
      await vi.waitFor(() => expect(pending).toHaveLength(1), { timeout: 5000 })
      await closing.destroy()
      await expect(inFlight).resolves.toBe('ERR_CLOSED')
      await expect(code(closing.request(worker.address, 'k', 1, { timeoutMs: 5000 }))).resolves.toBe(
        'ERR_CLOSED',
      )
    })

    it('leaves no socket open', async () => {
      const handles = socketHandles()
      const closing = new HttpClientTransport()
      await Promise.all(
        Array.from({ length: 8 }, (_, n) => closing.request(worker.address, 'k', n, { timeoutMs: 5000 })),
      )
      await closing.close()
      expect(await settledHandles(handles)).toEqual(handles)
    })
  })
})
