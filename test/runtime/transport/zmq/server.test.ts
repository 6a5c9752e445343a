import { setTimeout as delay } from 'node:timers/promises'
import { afterAll, afterEach, describe, expect, it } from 'vitest'
import { Dealer } from 'zeromq'
import type { RequestHandler, RpcRequest } from '../../../../runtime/transport/types.js'
import { ZmqClientTransport, ZmqServerTransport } from '../../../../runtime/transport/zmq/index.js'
import { codeOf, rejection, timed } from './helpers.js'

const LONG_MS = 20_000

/** A raw Dealer, to send what our client never would. */
class RawPeer {
  readonly #dealer = new Dealer({ linger: 0 })

  constructor(port: number) {
    this.#dealer.connect(`tcp://127.0.0.1:${port}`)
  }

  send(...frames: Array<string | Buffer>): Promise<void> {
    return this.#dealer.send(frames)
  }

  /** The next reply, decoded; rejects after `timeoutMs`. */
  async reply(timeoutMs = 5000): Promise<unknown> {
    this.#dealer.receiveTimeout = timeoutMs
    const frames = await this.#dealer.receive()
    return frames.length === 1 ? JSON.parse(String(frames[0])) : frames.map(String)
  }

  /** Whether a message arrives within `ms`. */
  async silentFor(ms: number): Promise<boolean> {
    this.#dealer.receiveTimeout = ms
    try {
      await this.#dealer.receive()
      return false
    } catch {
      return true
    }
  }

  close(): void {
    this.#dealer.close()
  }
}

describe('ZmqServerTransport', () => {
  const servers: ZmqServerTransport[] = []
  const peers: RawPeer[] = []
  const clients: ZmqClientTransport[] = []

  async function serve(
    handler: RequestHandler,
    options: Partial<ConstructorParameters<typeof ZmqServerTransport>[0]> = {},
  ): Promise<ZmqServerTransport> {
    const server = new ZmqServerTransport({ port: 0, ...options })
    servers.push(server)
    await server.listen(handler)
    return server
  }

  function peer(server: ZmqServerTransport): RawPeer {
    const raw = new RawPeer(server.port)
    peers.push(raw)
    return raw
  }

  function client(): ZmqClientTransport {
    const transport = new ZmqClientTransport()
    clients.push(transport)
    return transport
  }

  afterEach(async () => {
    for (const raw of peers.splice(0)) raw.close()
    await Promise.all(clients.splice(0).map((c) => c.close()))
  })

  afterAll(async () => {
    await Promise.all(servers.map((s) => s.close()))
  })

  const echo: RequestHandler = (request, reply) => reply(null, request.payload)

  describe('listen()', () => {
    it('binds a free port when given 0 and reports it', async () => {
      const server = new ZmqServerTransport({ port: 0 })
      servers.push(server)
      expect(server.port).toBe(0)
      const port = await server.listen(echo)
      expect(port).toBeGreaterThan(0)
      expect(server.port).toBe(port)
      expect(server.kind).toBe('zmq')
    })

    it('rejects with ERR_ADDRESS_IN_USE when the port is taken', async () => {
      const taken = await serve(echo)
      const second = new ZmqServerTransport({ port: taken.port })
      servers.push(second)
      const error = await rejection(second.listen(echo))
      expect(error.code, error.message).toBe('ERR_ADDRESS_IN_USE')
    })

    it('rejects a second call and a call after close()', async () => {
      const server = await serve(echo)
      expect(await codeOf(server.listen(echo))).toBe('ERR_INVALID_ARGUMENT')
      const closed = new ZmqServerTransport({ port: 0 })
      await closed.close()
      expect(await codeOf(closed.listen(echo))).toBe('ERR_CLOSED')
    })
  })

  describe('requests', () => {
    it('hands the handler the rid, key, payload and transport, and replies [rid, null, result]', async () => {
      const seen: RpcRequest[] = []
      const server = await serve((request, reply) => {
        seen.push(request)
        reply(null, { ok: request.payload })
      })
      const raw = peer(server)
      await raw.send(JSON.stringify(['rid-1', 'fibonacci@1', { n: 10 }]))
      expect(await raw.reply()).toEqual(['rid-1', null, { ok: { n: 10 } }])
      expect(seen).toEqual([
        { rid: 'rid-1', key: 'fibonacci@1', payload: { n: 10 }, transport: 'zmq', certificate: undefined },
      ])
    })

    it('echoes a rid that is not a string', async () => {
      const raw = peer(await serve(echo))
      await raw.send(JSON.stringify([7, 'k', 'p']))
      expect(await raw.reply()).toEqual([7, null, 'p'])
    })

    it('answers a frame that is not [rid, key, payload] with [null, "ERR_BAD_REQUEST: …", null]', async () => {
      const raw = peer(await serve(echo))
      for (const text of ['this is not json', '{"rid":1}', '["rid", 42, null]']) {
        await raw.send(text)
        const reply = (await raw.reply()) as unknown[]
        expect(reply).toHaveLength(3)
        expect(reply[0]).toBe(null)
        expect(reply[1]).toMatch(/^ERR_BAD_REQUEST: /)
        expect(reply[2]).toBe(null)
      }
    })

    it('answers a request of several frames with ERR_BAD_REQUEST', async () => {
      const raw = peer(await serve(echo))
      await raw.send('rid', 'key', 'payload')
      expect(await raw.reply()).toEqual([null, 'ERR_BAD_REQUEST: expected 1 frame, got 3', null])
    })

    it('answers a request over maxPayloadBytes with [rid, "ERR_PAYLOAD_TOO_LARGE: …", null]', async () => {
      const raw = peer(await serve(echo, { maxPayloadBytes: 1024 }))
      await raw.send(JSON.stringify(['big-one', 'k', 'x'.repeat(2000)]))
      const reply = (await raw.reply()) as unknown[]
      expect(reply[0]).toBe('big-one')
      expect(reply[1]).toMatch(/^ERR_PAYLOAD_TOO_LARGE: /)
      expect(reply[2]).toBe(null)
      // The connection stays usable.
      await raw.send(JSON.stringify(['small', 'k', 1]))
      expect(await raw.reply()).toEqual(['small', null, 1])
    })

    it('gives our client ERR_REMOTE with remoteCode ERR_PAYLOAD_TOO_LARGE', async () => {
      const server = await serve(echo, { maxPayloadBytes: 1024 })
      const err = await rejection(
        client().request(`127.0.0.1:${server.port}`, 'k', 'x'.repeat(2000), { timeoutMs: LONG_MS }),
      )
      expect(err).toMatchObject({ code: 'ERR_REMOTE', remoteCode: 'ERR_PAYLOAD_TOO_LARGE' })
    })

    it('lets libzmq drop a request above 4× the limit with its connection: the caller gets ERR_CONNECTION_RESET', async () => {
      let calls = 0
      const server = await serve(
        (request, reply) => {
          calls++
          reply(null, request.payload)
        },
        { maxPayloadBytes: 1024 },
      )
      const { ms, code } = await timed(
        client().request(`127.0.0.1:${server.port}`, 'k', 'x'.repeat(5000), { timeoutMs: LONG_MS }),
      )
      expect(code).toBe('ERR_CONNECTION_RESET')
      expect(ms).toBeLessThan(10_000)
      expect(calls).toBe(0)
    })

    it('answers with the message of an Error, a string, a thrown error and a rejected promise', async () => {
      const server = await serve((request, reply) => {
        switch (request.key) {
          case 'error':
            return reply(new Error('TOO_SLOW: n is too large'))
          case 'string':
            return reply('NOT_ALLOWED: no')
          case 'throw':
            throw new Error('BROKEN: thrown')
          case 'throw-null':
            throw null
          default:
            return (async () => {
              throw new Error('ASYNC: rejected')
            })() as unknown as undefined
        }
      })
      const raw = peer(server)
      const cases: Array<[string, string]> = [
        ['error', 'TOO_SLOW: n is too large'],
        ['string', 'NOT_ALLOWED: no'],
        ['throw', 'BROKEN: thrown'],
        ['throw-null', 'the handler threw null'],
        ['async', 'ASYNC: rejected'],
      ]
      for (const [key, message] of cases) {
        await raw.send(JSON.stringify([key, key, null]))
        expect(await raw.reply()).toEqual([key, message, null])
      }
    })

    it('sends only the first of two replies', async () => {
      const raw = peer(
        await serve((_request, reply) => {
          reply(null, 'first')
          reply(null, 'second')
          reply(new Error('third'))
        }),
      )
      await raw.send(JSON.stringify(['r', 'k', null]))
      expect(await raw.reply()).toEqual(['r', null, 'first'])
      expect(await raw.silentFor(200)).toBe(true)
    })

    it('sends back replies in the order the handler gives them, not the order of the requests', async () => {
      const raw = peer(
        await serve((request, reply) => {
          setTimeout(() => reply(null, request.payload), request.payload as number)
        }),
      )
      await raw.send(JSON.stringify(['slow', 'k', 200]))
      await raw.send(JSON.stringify(['fast', 'k', 1]))
      expect(await raw.reply()).toEqual(['fast', null, 1])
      expect(await raw.reply()).toEqual(['slow', null, 200])
    })
  })

  describe('close()', () => {
    it('waits for replies in flight and answers new requests with ERR_CLOSED meanwhile', async () => {
      const server = await serve((request, reply) => {
        if (request.key === 'slow') setTimeout(() => reply(null, 'late but there'), 300)
        else reply(null, request.payload)
      })
      const raw = peer(server)
      await raw.send(JSON.stringify(['slow', 'slow', null]))
      await delay(50)
      const closing = server.close()
      expect(server.close()).toBe(closing)
      await raw.send(JSON.stringify(['new', 'echo', 1]))
      expect(await raw.reply()).toEqual(['new', 'ERR_CLOSED: the worker is closing', null])
      expect(await raw.reply()).toEqual(['slow', null, 'late but there'])
      await closing
    })

    it('closes after drainTimeoutMs when a handler never replies', async () => {
      const server = await serve(() => undefined, { drainTimeoutMs: 100 })
      const raw = peer(server)
      await raw.send(JSON.stringify(['hang', 'k', null]))
      await delay(50)
      const { ms } = await timed(server.close())
      expect(ms).toBeLessThan(3000)
    })

    it('frees the port: a new server binds it at once', async () => {
      const first = await serve(echo)
      await first.close()
      const second = await serve(echo, { port: first.port })
      expect(second.port).toBe(first.port)
    })

    it('can be called before listen()', async () => {
      await expect(new ZmqServerTransport({ port: 0 }).close()).resolves.toBeUndefined()
    })
  })

  describe('constructor', () => {
    it('rejects tls (CurveZMQ is out of scope) and invalid options with ERR_INVALID_OPTION', () => {
      const invalid = expect.objectContaining({ code: 'ERR_INVALID_OPTION' })
      expect(() => new ZmqServerTransport({ port: 0, tls: { key: 'k', cert: 'c' } })).toThrow(invalid)
      expect(() => new ZmqServerTransport({ port: 0, tls: { key: 'k', cert: 'c' } })).toThrow(/options\.tls/)
      expect(() => new ZmqServerTransport({ port: 70000 })).toThrow(/options\.port/)
      expect(() => new ZmqServerTransport({ port: 0, maxPayloadBytes: 0 })).toThrow(
        /options\.maxPayloadBytes/,
      )
      expect(() => new ZmqServerTransport({ port: 0, drainTimeoutMs: -1 })).toThrow(/options\.drainTimeoutMs/)
    })
  })
})
