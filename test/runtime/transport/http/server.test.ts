import { once } from 'node:events'
import type { IncomingHttpHeaders } from 'node:http'
import { connect, createServer as createTcpServer } from 'node:net'
import { performance } from 'node:perf_hooks'
import { gunzipSync, gzipSync } from 'node:zlib'
import { Client } from 'undici'
import { afterAll, beforeAll, describe, expect, it, vi } from 'vitest'
import { WebSocket } from 'ws'
import { GrenacheError } from '../../../../runtime/errors.js'
import { HttpServerTransport } from '../../../../runtime/transport/http/index.js'
import type { Reply, RpcRequest } from '../../../../runtime/transport/types.js'
import { settledHandles, socketHandles } from '../../../helpers/handles.js'
import { code, delay, echo, type StartedServer, startServer } from './helpers.js'

interface Answer {
  status: number
  headers: IncomingHttpHeaders
  body: Buffer
  /** The body as JSON. */
  json: unknown
}

interface PostOptions {
  method?: 'POST' | 'PUT' | 'GET' | 'DELETE'
  path?: string
  headers?: Record<string, string>
}

/** One raw request on a fresh connection, answered in full. */
async function post(address: string, body: string | Buffer, options: PostOptions = {}): Promise<Answer> {
  const client = new Client(`http://${address}`)
  try {
    const res = await client.request({
      method: options.method ?? 'POST',
      path: options.path ?? '/',
      headers: options.headers ?? { 'grc-compress': 'none' },
      body,
    })
    const bytes = Buffer.from(await res.body.arrayBuffer())
    let json: unknown
    try {
      json = JSON.parse(bytes.toString())
    } catch {
      json = undefined
    }
    return { status: res.statusCode, headers: res.headers as IncomingHttpHeaders, body: bytes, json }
  } finally {
    await client.close()
  }
}

/** Raw bytes on a new TCP connection; resolves with everything the server sent until it closed. */
async function rawExchange(address: string, bytes: string): Promise<string> {
  const [host, port] = address.split(':') as [string, string]
  const socket = connect(Number(port), host)
  socket.on('error', () => {})
  const chunks: Buffer[] = []
  socket.on('data', (chunk: Buffer) => chunks.push(chunk))
  socket.write(bytes)
  await once(socket, 'close')
  return Buffer.concat(chunks).toString()
}

describe('HttpServerTransport', () => {
  const before = socketHandles()
  afterAll(async () => {
    expect(await settledHandles(before)).toEqual(before)
  })

  describe('requests', () => {
    let worker: StartedServer
    const seen: RpcRequest[] = []
    let behave: (request: RpcRequest, reply: Reply) => void = echo

    beforeAll(async () => {
      worker = await startServer((request, reply) => {
        seen.push(request)
        behave(request, reply)
      })
    })
    afterAll(() => worker.server.close())

    it('listens on 127.0.0.1 by default and reports its port', () => {
      expect(worker.port).toBeGreaterThan(0)
      expect(worker.server.port).toBe(worker.port)
      expect(worker.server.kind).toBe('http')
    })

    it('answers 200 with Content-Length, no Content-Type or Content-Encoding, and [rid, null, result]', async () => {
      behave = echo
      const answer = await post(worker.address, '["rid-1","echo@1",{"n":1}]')
      expect(answer.status).toBe(200)
      expect(answer.headers['content-length']).toBe(String(answer.body.length))
      expect(answer.headers['content-type']).toBeUndefined()
      expect(answer.headers['content-encoding']).toBeUndefined()
      expect(answer.headers['transfer-encoding']).toBeUndefined()
      expect(answer.json).toEqual(['rid-1', null, { key: 'echo@1', payload: { n: 1 } }])
      const request = seen.at(-1) as RpcRequest
      expect(request).toEqual({
        rid: 'rid-1',
        key: 'echo@1',
        payload: { n: 1 },
        transport: 'http',
        certificate: undefined,
      })
    })

    it('answers any method and path, as the reference (G19)', async () => {
      const answer = await post(worker.address, '["r","k",1]', { method: 'PUT', path: '/whatever/path?x=1' })
      expect(answer.json).toEqual(['r', null, { key: 'k', payload: 1 }])
    })

    it('echoes a rid of any JSON type unchanged', async () => {
      await expect(post(worker.address, '[42,"k",1]')).resolves.toMatchObject({
        json: [42, null, expect.anything()],
      })
      await expect(post(worker.address, '[null,"k",1]')).resolves.toMatchObject({
        json: [null, null, expect.anything()],
      })
    })

    it('sends an Error and a string error alike, as the message (G12), with a null result', async () => {
      behave = (request, reply) =>
        request.payload === 'string' ? reply('ERR_STRING: no', 'ignored') : reply(new Error('ERR_ERROR: no'))
      await expect(post(worker.address, '["a","k","string"]')).resolves.toMatchObject({
        json: ['a', 'ERR_STRING: no', null],
      })
      await expect(post(worker.address, '["b","k","error"]')).resolves.toMatchObject({
        json: ['b', 'ERR_ERROR: no', null],
      })
    })

    it('answers with the message of an error the handler throws', async () => {
      behave = () => {
        throw new Error('ERR_THROWN: from the handler')
      }
      await expect(post(worker.address, '["t","k",1]')).resolves.toMatchObject({
        status: 200,
        json: ['t', 'ERR_THROWN: from the handler', null],
      })
      behave = () => {
        throw null
      }
      const answer = await post(worker.address, '["n","k",1]')
      expect((answer.json as unknown[])[1]).toMatch(/^ERR_INTERNAL/)
    })

    it('ignores a second reply and an error thrown after the reply', async () => {
      behave = (_request, reply) => {
        reply(null, 'first')
        reply(null, 'second')
        reply(new Error('third'))
        throw new Error('fourth')
      }
      await expect(post(worker.address, '["x","k",1]')).resolves.toMatchObject({ json: ['x', null, 'first'] })
    })

    it('replies later, asynchronously', async () => {
      behave = (_request, reply) => setTimeout(() => reply(null, 'later'), 20)
      await expect(post(worker.address, '["l","k",1]')).resolves.toMatchObject({ json: ['l', null, 'later'] })
    })

    it('answers ERR_BAD_REPLY when the result cannot be encoded', async () => {
      behave = (_request, reply) => reply(null, { big: 10n })
      const answer = await post(worker.address, '["e","k",1]')
      expect((answer.json as unknown[])[1]).toMatch(/^ERR_BAD_REPLY/)
    })

    describe('malformed requests (the reference hangs, G13)', () => {
      it.each([
        ['not JSON', 'hello'],
        ['an empty body', ''],
        ['JSON that is not an array', '{"rid":"r","key":"k"}'],
        ['an array without a string key', '["r",42,1]'],
      ])('answers 400 [null, "ERR_BAD_REQUEST: …", null] to %s', async (_name, body) => {
        behave = echo
        const calls = seen.length
        const answer = await post(worker.address, body)
        expect(answer.status).toBe(400)
        expect(answer.json).toEqual([null, expect.stringMatching(/^ERR_BAD_REQUEST: /), null])
        expect(seen.length).toBe(calls)
      })

      it('answers a request that is not HTTP at all with a coded 400 and closes the connection', async () => {
        const text = await rawExchange(worker.address, 'this is not http\r\n\r\n')
        expect(text).toMatch(/^HTTP\/1\.1 400 Bad Request\r\n/)
        expect(text).toContain('Connection: close')
        expect(text).toContain('ERR_BAD_REQUEST')
        await expect(post(worker.address, '["ok","k",1]')).resolves.toMatchObject({ status: 200 })
      })
    })

    describe('grc-compress', () => {
      it('gunzips a gzip request and gzips the reply, without Content-Encoding', async () => {
        behave = echo
        const answer = await post(worker.address, gzipSync('["z","k",{"big":"xxxxxxxxxxxxxxxxxxxx"}]'), {
          headers: { 'grc-compress': 'gzip' },
        })
        expect(answer.status).toBe(200)
        expect(answer.headers['content-encoding']).toBeUndefined()
        expect(answer.body.subarray(0, 2)).toEqual(Buffer.from([0x1f, 0x8b]))
        expect(JSON.parse(gunzipSync(answer.body).toString())).toEqual([
          'z',
          null,
          { key: 'k', payload: { big: 'xxxxxxxxxxxxxxxxxxxx' } },
        ])
      })

      it('counts any header value containing gzip', async () => {
        const answer = await post(worker.address, gzipSync('["z2","k",1]'), {
          headers: { 'grc-compress': 'x-gzip, other' },
        })
        expect(JSON.parse(gunzipSync(answer.body).toString())).toEqual(['z2', null, { key: 'k', payload: 1 }])
      })

      it('uses the raw body when it does not gunzip, as the reference, and still gzips the reply', async () => {
        const answer = await post(worker.address, '["p","k",1]', { headers: { 'grc-compress': 'gzip' } })
        expect(JSON.parse(gunzipSync(answer.body).toString())).toEqual(['p', null, { key: 'k', payload: 1 }])
      })

      it('answers 413 when the body gunzips to more than maxPayloadBytes', async () => {
        const small = await startServer(echo, { maxPayloadBytes: 1000 })
        const bomb = gzipSync(JSON.stringify(['bomb', 'k', 'x'.repeat(100_000)]))
        expect(bomb.length).toBeLessThan(1000)
        const answer = await post(small.address, bomb, { headers: { 'grc-compress': 'gzip' } })
        expect(answer.status).toBe(413)
        expect(answer.json).toEqual([null, expect.stringMatching(/^ERR_PAYLOAD_TOO_LARGE: /), null])
        await small.server.close()
      })
    })

    describe('_gr header (stream-mode clients)', () => {
      it('takes rid and key from _gr over the body, as the reference', async () => {
        behave = echo
        const answer = await post(worker.address, '["IGNORED-RID", "ignored-key", {"hello":"stream"}]', {
          headers: { _gr: '["header-rid","rpc_test"]', _a: 'uploadPublic', _ar: '{"foo":"bar"}' },
        })
        expect(answer.json).toEqual(['header-rid', null, { key: 'rpc_test', payload: { hello: 'stream' } }])
        expect(seen.at(-1)).toMatchObject({ rid: 'header-rid', key: 'rpc_test' })
      })

      it('reads a chunked body, as stream-mode clients send it', async () => {
        const text = await rawExchange(
          worker.address,
          'POST / HTTP/1.1\r\nHost: x\r\n_gr: ["chunked-rid","rpc_test"]\r\nConnection: close\r\n' +
            'Transfer-Encoding: chunked\r\n\r\n' +
            '1f\r\n["IGNORED-RID", "ignored-key", \r\n13\r\n{"hello":"stream"}]\r\n0\r\n\r\n',
        )
        expect(text).toMatch(/^HTTP\/1\.1 200 OK/)
        expect(text).toContain('["chunked-rid",null,{"key":"rpc_test","payload":{"hello":"stream"}}]')
      })

      it('keeps the body key when _gr has none, and accepts a body without a key when _gr has one', async () => {
        await expect(
          post(worker.address, '["r","body-key",1]', { headers: { _gr: '["hr"]' } }),
        ).resolves.toMatchObject({
          json: ['hr', null, { key: 'body-key', payload: 1 }],
        })
        await expect(
          post(worker.address, '[null,null,2]', { headers: { _gr: '["hr2","header-key"]' } }),
        ).resolves.toMatchObject({ json: ['hr2', null, { key: 'header-key', payload: 2 }] })
      })

      it('answers a malformed _gr with 500 [null, "ERR_HEADER_PARSE_GR", null], as the reference', async () => {
        const calls = seen.length
        const answer = await post(worker.address, '["r","k",1]', { headers: { _gr: '[not json' } })
        expect(answer.status).toBe(500)
        expect(answer.body.toString()).toBe('[null, "ERR_HEADER_PARSE_GR", null]')
        expect(seen.length).toBe(calls)
      })
    })

    describe('a WebSocket client', () => {
      it('fails at once: the upgrade is answered 400', async () => {
        const start = performance.now()
        const socket = new WebSocket(`ws://${worker.address}/ws`)
        const [error] = (await once(socket, 'error')) as [Error]
        expect(error.message).toBe('Unexpected server response: 400')
        expect(performance.now() - start).toBeLessThan(5000)
        expect(socket.readyState).toBe(WebSocket.CLOSED)
      })

      it('names the mismatch in the body and closes the connection', async () => {
        const text = await rawExchange(
          worker.address,
          'GET /ws HTTP/1.1\r\nHost: x\r\nConnection: Upgrade\r\nUpgrade: websocket\r\n' +
            'Sec-WebSocket-Version: 13\r\nSec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\r\n\r\n',
        )
        expect(text).toMatch(/^HTTP\/1\.1 400 Bad Request\r\n/)
        expect(text).toMatch(/\r\nConnection: close\r\n/i)
        expect(text).toContain(
          'ERR_TRANSPORT_MISMATCH: this port speaks Grenache RPC over HTTP, not websocket',
        )
      })
    })
  })

  describe('maxPayloadBytes', () => {
    let worker: StartedServer
    let calls = 0

    beforeAll(async () => {
      worker = await startServer(
        (request, reply) => {
          calls++
          echo(request, reply)
        },
        { maxPayloadBytes: 64 * 1024 },
      )
    })
    afterAll(() => worker.server.close())

    it('accepts a body of exactly the limit', async () => {
      const overhead = '["at-limit","k",""]'.length
      const body = JSON.stringify(['at-limit', 'k', 'x'.repeat(64 * 1024 - overhead)])
      expect(body.length).toBe(64 * 1024)
      await expect(post(worker.address, body)).resolves.toMatchObject({ status: 200 })
    })

    it.each([
      ['just over the limit', 64 * 1024 + 1],
      ['many times the limit', 4 * 1024 * 1024],
    ])(
      'answers 413 [rid, "ERR_PAYLOAD_TOO_LARGE: …", null] to a body %s, and closes the connection',
      async (_name, size) => {
        const before = calls
        const head = '["big-rid","k","'
        const body = `${head}${'x'.repeat(size - head.length - 2)}"]`
        const answer = await post(worker.address, body)
        expect(answer.status).toBe(413)
        expect(answer.headers.connection).toBe('close')
        expect(answer.json).toEqual(['big-rid', expect.stringMatching(/^ERR_PAYLOAD_TOO_LARGE: /), null])
        expect(calls).toBe(before)
      },
    )

    it('finds the rid of an oversized body even when it arrives split across packets', async () => {
      const rest = `-rid","k","${'x'.repeat(70_000)}"]`
      const [host, port] = worker.address.split(':') as [string, string]
      const socket = connect(Number(port), host)
      socket.on('error', () => {})
      const chunks: Buffer[] = []
      socket.on('data', (chunk: Buffer) => chunks.push(chunk))
      socket.write(`POST / HTTP/1.1\r\nHost: x\r\nContent-Length: ${7 + rest.length}\r\n\r\n["split`)
      await delay(50)
      socket.write(rest)
      await once(socket, 'close')
      const text = Buffer.concat(chunks).toString()
      expect(text).toMatch(/^HTTP\/1\.1 413 /)
      expect(text).toContain('["split-rid","ERR_PAYLOAD_TOO_LARGE: ')
    })

    it('answers 413 with a null rid when the first bytes do not hold one', async () => {
      const answer = await post(worker.address, `{"x":"${'y'.repeat(100_000)}"}`)
      expect(answer.status).toBe(413)
      expect(answer.json).toEqual([null, expect.stringMatching(/^ERR_PAYLOAD_TOO_LARGE: /), null])
    })
  })

  describe('listen() and close()', () => {
    it('rejects options that break the rules with ERR_INVALID_OPTION', () => {
      expect(() => new HttpServerTransport({ port: -1 })).toThrow(GrenacheError)
      expect(() => new HttpServerTransport({ port: 0, maxPayloadBytes: 0 })).toThrow(/maxPayloadBytes/)
      expect(() => new HttpServerTransport({ port: 0, drainTimeoutMs: -5 })).toThrow(/drainTimeoutMs/)
      expect(() => new HttpServerTransport({ port: 0, host: '' })).toThrow(/host/)
      expect(() => new HttpServerTransport({ port: 0, tls: {} })).toThrow(/tls/)
    })

    it('rejects with ERR_ADDRESS_IN_USE when the port is taken', async () => {
      const taken = createTcpServer()
      taken.listen(0, '127.0.0.1')
      await once(taken, 'listening')
      const server = new HttpServerTransport({ port: (taken.address() as { port: number }).port })
      await expect(code(server.listen(echo))).resolves.toBe('ERR_ADDRESS_IN_USE')
      await server.close()
      await new Promise<void>((resolve) => taken.close(() => resolve()))
    })

    it('rejects a second listen() with ERR_INVALID_ARGUMENT, and listen() after close() with ERR_CLOSED', async () => {
      const { server } = await startServer(echo)
      await expect(code(server.listen(echo))).resolves.toBe('ERR_INVALID_ARGUMENT')
      await server.close()
      await expect(code(server.listen(echo))).resolves.toBe('ERR_CLOSED')
      const never = new HttpServerTransport({ port: 0 })
      await never.close()
      await expect(code(never.listen(echo))).resolves.toBe('ERR_CLOSED')
    })

    it('waits for replies in flight, refuses new connections, then resolves; close() is idempotent', async () => {
      const release: Array<() => void> = []
      const { server, address } = await startServer((_request, reply) =>
        release.push(() => reply(null, 'done')),
      )
      const answer = post(address, '["slow","k",1]')
      await vi.waitFor(() => expect(release).toHaveLength(1), { timeout: 5000 })
      const closing = server.close()
      expect(server.close()).toBe(closing)
      let closed = false
      void closing.then(() => {
        closed = true
      })
      await delay(50)
      expect(closed).toBe(false)
      await expect(code(post(address, '["new","k",1]'))).resolves.not.toBe('resolved')
      release[0]?.()
      await expect(answer).resolves.toMatchObject({
        json: ['slow', null, 'done'],
        headers: expect.objectContaining({ connection: 'close' }),
      })
      await closing
    })

    it('closes idle keep-alive connections at once', async () => {
      const { server, address } = await startServer(echo)
      const client = new Client(`http://${address}`)
      const res = await client.request({ method: 'POST', path: '/', body: '["a","k",1]' })
      await res.body.text()
      const start = performance.now()
      await server.close()
      expect(performance.now() - start).toBeLessThan(2000)
      await client.close()
    })

    it('closes a connection that has not sent a request at once', async () => {
      const { server, port } = await startServer(echo, { drainTimeoutMs: 10_000 })
      const socket = connect(port, '127.0.0.1')
      socket.on('error', () => {})
      await once(socket, 'connect')
      const start = performance.now()
      await server.close()
      expect(performance.now() - start).toBeLessThan(5000)
      if (!socket.closed) await once(socket, 'close')
    })

    it('closes every connection after drainTimeoutMs when a handler never replies', async () => {
      const { server, address } = await startServer(() => {}, { drainTimeoutMs: 200 })
      const answer = code(post(address, '["lost","k",1]'))
      await delay(50)
      const start = performance.now()
      await server.close()
      const elapsed = performance.now() - start
      expect(elapsed).toBeGreaterThanOrEqual(150)
      expect(elapsed).toBeLessThan(3000)
      await expect(answer).resolves.not.toBe('resolved')
    })

    it('survives a reply after close and a client that vanishes mid-request', async () => {
      let late: Reply | undefined
      const { server, address } = await startServer(
        (_request, reply) => {
          late = reply
        },
        { drainTimeoutMs: 50 },
      )
      const [host, port] = address.split(':') as [string, string]
      const socket = connect(Number(port), host)
      socket.on('error', () => {})
      socket.write('POST / HTTP/1.1\r\nHost: x\r\nContent-Length: 11\r\n\r\n["v","k",1]')
      await vi.waitFor(() => expect(late).toBeDefined(), { timeout: 5000 })
      socket.destroy()
      await delay(20)
      late?.(null, 'to nobody')
      await server.close()
      late?.(null, 'again')
    })

    it('survives a client that vanishes halfway through its body', async () => {
      let calls = 0
      const { server, port } = await startServer((request, reply) => {
        calls++
        echo(request, reply)
      })
      const socket = connect(port, '127.0.0.1')
      socket.on('error', () => {})
      await once(socket, 'connect')
      socket.write('POST / HTTP/1.1\r\nHost: x\r\nContent-Length: 1000\r\n\r\n["half","k",')
      await delay(30)
      socket.destroy()
      await delay(30)
      await expect(post(`127.0.0.1:${port}`, '["after","k",1]')).resolves.toMatchObject({ status: 200 })
      expect(calls).toBe(1)
      await server.close()
    })

    it('leaves no socket open', async () => {
      const handles = await settledHandles(before)
      const { server, address } = await startServer(echo)
      await Promise.all([1, 2, 3].map((n) => post(address, `["h${n}","k",1]`)))
      await server.close()
      expect(await settledHandles(handles)).toEqual(handles)
    })
  })
})
