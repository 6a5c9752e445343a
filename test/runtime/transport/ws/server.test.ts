import { once } from 'node:events'
import { connect } from 'node:net'
import { afterEach, beforeEach, describe, expect, it } from 'vitest'
import type WebSocket from 'ws'
import type { Reply, RequestHandler, RpcRequest } from '../../../../runtime/transport/types.js'
import { WsClientTransport, WsServerTransport } from '../../../../runtime/transport/ws/index.js'
import { settledHandles, socketHandles } from '../../../helpers/handles.js'
import { code, openRawClient, rejection, roundTrip } from './setup.js'

describe('WsServerTransport', () => {
  let server: WsServerTransport
  let raw: WebSocket | undefined
  let client: WsClientTransport
  let before: Record<string, number>
  const uncaught: unknown[] = []
  const onUncaught = (err: unknown): void => {
    uncaught.push(err)
  }

  /** Listens with `handler`; returns the URL a raw client dials. */
  async function start(
    handler: RequestHandler,
    options: { maxPayloadBytes?: number; drainTimeoutMs?: number } = {},
  ) {
    server = new WsServerTransport({ port: 0, ...options })
    const port = await server.listen(handler)
    return { url: `ws://127.0.0.1:${port}/ws`, address: `127.0.0.1:${port}`, port }
  }

  const echo: RequestHandler = (request, reply) => reply(null, { key: request.key, payload: request.payload })

  beforeEach(() => {
    before = socketHandles()
    uncaught.length = 0
    process.on('uncaughtException', onUncaught)
    client = new WsClientTransport()
  })
  afterEach(async () => {
    raw?.terminate()
    raw = undefined
    await client.close()
    await server?.close()
    process.off('uncaughtException', onUncaught)
    expect(uncaught).toEqual([])
    expect(await settledHandles(before)).toEqual(before)
  })

  describe('listen()', () => {
    it('binds 127.0.0.1 on a free port and reports it', async () => {
      const { port } = await start(echo)
      expect(port).toBeGreaterThan(0)
      expect(server.port).toBe(port)
      expect(server.kind).toBe('ws')
    })

    it('rejects with ERR_ADDRESS_IN_USE when the port is taken', async () => {
      const { port } = await start(echo)
      const second = new WsServerTransport({ port })
      await expect(code(second.listen(echo))).resolves.toBe('ERR_ADDRESS_IN_USE')
      await second.close()
    })

    it('rejects invalid options with ERR_INVALID_OPTION', () => {
      expect(() => new WsServerTransport({ port: -1 })).toThrow(/options.port/)
      expect(() => new WsServerTransport({ port: 0, kind: 'wss' })).toThrow(/options.tls/)
      expect(() => new WsServerTransport({ port: 0, maxPayloadBytes: 0 })).toThrow(/options.maxPayloadBytes/)
    })
  })

  describe('requests', () => {
    it('answers [rid, key, payload] with [rid, null, result] on the same socket, on any path', async () => {
      let seen: RpcRequest | undefined
      const { port } = await start((request, reply) => {
        seen = request
        reply(null, 'world')
      })
      raw = await openRawClient(`ws://127.0.0.1:${port}/any/path?x=1`)
      await expect(roundTrip(raw, '["r-1","rpc_ws","hello"]')).resolves.toEqual(['r-1', null, 'world'])
      expect(seen).toEqual({
        rid: 'r-1',
        key: 'rpc_ws',
        payload: 'hello',
        transport: 'ws',
        certificate: undefined,
      })
    })

    it('decodes a binary frame as UTF-8 text and echoes a numeric rid unchanged', async () => {
      const { url } = await start(echo)
      raw = await openRawClient(url)
      await expect(roundTrip(raw, Buffer.from('[42,"k",{"é":1}]'), true)).resolves.toEqual([
        42,
        null,
        { key: 'k', payload: { é: 1 } },
      ])
    })

    it('serves many requests on one socket concurrently, replies in the order the handler gives them', async () => {
      const { address } = await start((request, reply) => {
        setTimeout(() => reply(null, request.payload), 50 - (request.payload as number) * 10)
      })
      const results = await Promise.all(
        [0, 1, 2, 3].map((n) => client.request(address, 'k', n, { timeoutMs: 5000 })),
      )
      expect(results).toEqual([0, 1, 2, 3])
    })

    it('sends an Error as its message: the client gets ERR_REMOTE with the remote code', async () => {
      const { address, url } = await start((_request, reply) => reply(new Error('ERR_WS_FAIL: no luck')))
      const err = await rejection(client.request(address, 'k', 1, { timeoutMs: 5000 }))
      expect(err.code).toBe('ERR_REMOTE')
      expect(err.remoteCode).toBe('ERR_WS_FAIL')
      raw = await openRawClient(url)
      await expect(roundTrip(raw, '["r",  "k", 1]')).resolves.toEqual(['r', 'ERR_WS_FAIL: no luck', null])
    })

    it('sends a string error as the message too (the reference sends success, G12)', async () => {
      const { address } = await start((_request, reply) => reply('TOO_SLOW'))
      const err = await rejection(client.request(address, 'k', 1, { timeoutMs: 5000 }))
      expect(err.code).toBe('ERR_REMOTE')
      expect(err.remoteCode).toBe('TOO_SLOW')
      expect(err.message).toBe('TOO_SLOW')
    })

    it('answers with the message of an error the handler throws', async () => {
      const { address } = await start(() => {
        throw new Error('BROKEN: handler bug')
      })
      const err = await rejection(client.request(address, 'k', 1, { timeoutMs: 5000 }))
      expect(err.remoteCode).toBe('BROKEN')
    })

    it('ignores a second reply to the same request', async () => {
      const { url } = await start((request, reply) => {
        reply(null, `first ${request.payload}`)
        reply(null, 'second')
        reply(new Error('third'))
      })
      raw = await openRawClient(url)
      await expect(roundTrip(raw, '["a","k",1]')).resolves.toEqual(['a', null, 'first 1'])
      await expect(roundTrip(raw, '["b","k",2]')).resolves.toEqual(['b', null, 'first 2'])
    })

    it('answers a result that is not JSON-serialisable with ERR_BAD_REPLY', async () => {
      const { address } = await start((_request, reply) => reply(null, { big: 1n }))
      const err = await rejection(client.request(address, 'k', 1, { timeoutMs: 5000 }))
      expect(err.remoteCode).toBe('ERR_BAD_REPLY')
    })

    it('drops a reply for a socket that closed meanwhile, without an error', async () => {
      let later: Reply | undefined
      const { url } = await start((_request, reply) => {
        later = reply
      })
      raw = await openRawClient(url)
      raw.send('["r","k",1]')
      while (!later) await new Promise((resolve) => setTimeout(resolve, 5))
      raw.close()
      await once(raw, 'close')
      expect(() => later?.(null, 'too late')).not.toThrow()
    })
  })

  describe('bad input', () => {
    it('answers a frame that is not JSON with [null, "ERR_BAD_REQUEST: …", null] and keeps the socket', async () => {
      const { url } = await start(echo)
      raw = await openRawClient(url)
      const [rid, error, result] = (await roundTrip(raw, 'not json at all')) as unknown[]
      expect(rid).toBeNull()
      expect(error).toMatch(/^ERR_BAD_REQUEST: /)
      expect(result).toBeNull()
      await expect(roundTrip(raw, '{"an":"object"}')).resolves.toEqual([
        null,
        'ERR_BAD_REQUEST: the request is not [rid, key, payload]',
        null,
      ])
      await expect(roundTrip(raw, '["r","k",1]')).resolves.toEqual(['r', null, { key: 'k', payload: 1 }])
    })

    it('answers an over-limit request with its rid and ERR_PAYLOAD_TOO_LARGE, and keeps serving', async () => {
      const { url, address } = await start(echo, { maxPayloadBytes: 1000 })
      raw = await openRawClient(url)
      const big = JSON.stringify(['big-1', 'k', 'x'.repeat(2000)])
      const [rid, error, result] = (await roundTrip(raw, big)) as unknown[]
      expect(rid).toBe('big-1')
      expect(error).toMatch(/^ERR_PAYLOAD_TOO_LARGE: /)
      expect(result).toBeNull()
      await expect(roundTrip(raw, '["r","k",1]')).resolves.toEqual(['r', null, { key: 'k', payload: 1 }])

      const err = await rejection(client.request(address, 'k', 'y'.repeat(2000), { timeoutMs: 5000 }))
      expect(err.code).toBe('ERR_REMOTE')
      expect(err.remoteCode).toBe('ERR_PAYLOAD_TOO_LARGE')
    })

    it('closes the socket with 1009 above the hard cap (4× the limit)', async () => {
      const { url } = await start(echo, { maxPayloadBytes: 1000 })
      raw = await openRawClient(url)
      const closed = once(raw, 'close')
      raw.send(JSON.stringify(['huge', 'k', 'x'.repeat(4100)]))
      const [closeCode] = (await closed) as [number]
      expect(closeCode).toBe(1009)
    })

    it('answers a plain HTTP request with 426 Upgrade Required naming the mismatch', async () => {
      const { port } = await start(echo)
      const response = await fetch(`http://127.0.0.1:${port}/`, {
        method: 'POST',
        body: '["r","k",1]',
      })
      expect(response.status).toBe(426)
      expect(response.headers.get('upgrade')).toBe('websocket')
      expect(await response.text()).toMatch(/^ERR_TRANSPORT_MISMATCH: .*WebSocket/)
    })

    it('survives clients that send garbage or vanish mid-handshake', async () => {
      const { port } = await start(echo)
      const garbage = connect(port, '127.0.0.1')
      garbage.on('error', () => undefined)
      garbage.resume()
      garbage.write('\x16\x03\x01 definitely not http\r\n\r\n')
      await once(garbage, 'close')
      const half = connect(port, '127.0.0.1')
      half.on('error', () => undefined)
      half.write('GET /ws HTTP/1.1\r\nHost: x\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n')
      half.destroy()
      await once(half, 'close')
      await expect(client.request(`127.0.0.1:${port}`, 'k', 1, { timeoutMs: 5000 })).resolves.toEqual({
        key: 'k',
        payload: 1,
      })
    })
  })

  describe('close()', () => {
    it('waits for replies in flight, answers new requests ERR_CLOSED meanwhile, then closes every socket', async () => {
      const { address } = await start((request, reply) => {
        if (request.payload === 'slow') setTimeout(() => reply(null, 'done'), 200)
        else reply(null, 'fast')
      })
      const slow = client.request(address, 'k', 'slow', { timeoutMs: 5000 })
      await new Promise((resolve) => setTimeout(resolve, 50))
      const closing = server.close()
      expect(server.close()).toBe(closing)
      const during = await rejection(client.request(address, 'k', 'fast', { timeoutMs: 5000 }))
      expect(during.remoteCode).toBe('ERR_CLOSED')
      await expect(slow).resolves.toBe('done')
      await closing
      expect(client.isWarm(address)).toBe(false)
      await expect(code(client.request(address, 'k', 1, { timeoutMs: 5000 }))).resolves.toBe(
        'ERR_CONNECTION_REFUSED',
      )
    })

    it('gives up waiting after drainTimeoutMs: the caller gets ERR_CONNECTION_RESET', async () => {
      const { address } = await start(() => undefined, { drainTimeoutMs: 100 })
      const stuck = code(client.request(address, 'k', 1, { timeoutMs: 20_000 }))
      await new Promise((resolve) => setTimeout(resolve, 50))
      const started = Date.now()
      await server.close()
      expect(Date.now() - started).toBeLessThan(3000)
      await expect(stuck).resolves.toBe('ERR_CONNECTION_RESET')
    })

    it('stops a listen still binding: listen rejects with ERR_CLOSED and nothing stays open', async () => {
      server = new WsServerTransport({ port: 0 })
      const listening = code(server.listen(echo))
      await server.close()
      await expect(listening).resolves.toBe('ERR_CLOSED')
    })

    it('can be called before listen, and listen is then refused with ERR_CLOSED', async () => {
      server = new WsServerTransport({ port: 0 })
      await server.close()
      await expect(code(server.listen(echo))).resolves.toBe('ERR_CLOSED')
      expect(server.port).toBe(0)
    })
  })
})
