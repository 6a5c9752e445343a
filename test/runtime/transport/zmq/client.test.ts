import { once } from 'node:events'
import { createServer as createHttpServer } from 'node:http'
import { createServer as createTcpServer, type Socket } from 'node:net'
import { setTimeout as delay } from 'node:timers/promises'
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest'
import { Router } from 'zeromq'
import type { RequestHandler } from '../../../../runtime/transport/types.js'
import { ZmqClientTransport, ZmqServerTransport } from '../../../../runtime/transport/zmq/index.js'
import { settledHandles, socketHandles } from '../../../helpers/handles.js'
import { codeOf, freePort, kill, killAll, rejection, spawnScript, timed, until } from './helpers.js'

/** Far beyond every bound the tests assert: a request that waits for it has hung. */
const LONG_MS = 20_000

const handler: RequestHandler = (request, reply) => {
  switch (request.key) {
    case 'echo':
      return reply(null, request.payload)
    case 'random-delay':
      return void setTimeout(() => reply(null, request.payload), Math.random() * 20)
    case 'slow':
      return void setTimeout(() => reply(null, request.payload), 200)
    case 'fail':
      return reply(new Error('TOO_SLOW: n is too large'))
    case 'fail-string':
      return reply('NOT_ALLOWED')
    case 'fail-plain':
      return reply(new Error('something broke'))
    case 'big':
      return reply(null, 'x'.repeat(request.payload as number))
    default:
      return // hang: never replies
  }
}

describe('ZmqClientTransport', () => {
  const before = socketHandles()
  const servers: ZmqServerTransport[] = []
  const clients: ZmqClientTransport[] = []
  let address: string

  async function worker(port = 0, drainTimeoutMs = 5000): Promise<ZmqServerTransport> {
    const server = new ZmqServerTransport({ port, drainTimeoutMs })
    servers.push(server)
    await server.listen(handler)
    return server
  }

  function client(options: ConstructorParameters<typeof ZmqClientTransport>[0] = {}): ZmqClientTransport {
    const transport = new ZmqClientTransport(options)
    clients.push(transport)
    return transport
  }

  beforeAll(async () => {
    address = `127.0.0.1:${(await worker()).port}`
  })

  afterEach(async () => {
    await Promise.all(clients.splice(0).map((c) => c.close()))
  })

  afterAll(async () => {
    await Promise.all(servers.map((s) => s.close()))
    await killAll()
    // zeromq sockets are no libuv handles Node lists (see lifecycle.test.ts); TCP ones must be gone.
    expect(await settledHandles(before)).toEqual(before)
  })

  describe('request()', () => {
    it('resolves with the result of the worker', async () => {
      const payload = { n: 1, text: 'héllo ✓', list: [1, null, { a: true }] }
      await expect(client().request(address, 'echo', payload, { timeoutMs: LONG_MS })).resolves.toEqual(
        payload,
      )
    })

    it('sends an undefined payload as null', async () => {
      await expect(client().request(address, 'echo', undefined, { timeoutMs: LONG_MS })).resolves.toBe(null)
    })

    it('matches many concurrent replies that come back in any order', async () => {
      const transport = client()
      const results = await Promise.all(
        Array.from({ length: 300 }, (_, i) =>
          transport.request(address, 'random-delay', { i }, { timeoutMs: LONG_MS }),
        ),
      )
      expect(results).toEqual(Array.from({ length: 300 }, (_, i) => ({ i })))
    })

    it('rejects with ERR_REMOTE and the remote code when the worker replies with an Error', async () => {
      const err = await rejection(client().request(address, 'fail', 1, { timeoutMs: LONG_MS }))
      expect(err).toMatchObject({
        code: 'ERR_REMOTE',
        remoteCode: 'TOO_SLOW',
        message: 'TOO_SLOW: n is too large',
      })
    })

    it('rejects with ERR_REMOTE when the worker replies with a string error', async () => {
      const err = await rejection(client().request(address, 'fail-string', 1, { timeoutMs: LONG_MS }))
      expect(err).toMatchObject({ code: 'ERR_REMOTE', remoteCode: 'NOT_ALLOWED', message: 'NOT_ALLOWED' })
    })

    it('leaves remoteCode undefined when the message starts with no code', async () => {
      const err = await rejection(client().request(address, 'fail-plain', 1, { timeoutMs: LONG_MS }))
      expect(err).toMatchObject({ code: 'ERR_REMOTE', remoteCode: undefined, message: 'something broke' })
    })

    it('rejects with ERR_TIMEOUT at its deadline when the worker never replies', async () => {
      const { ms, code } = await timed(client().request(address, 'hang', 1, { timeoutMs: 200 }))
      expect(code).toBe('ERR_TIMEOUT')
      expect(ms).toBeGreaterThanOrEqual(190)
      expect(ms).toBeLessThan(5000)
    })

    it('rejects with ERR_ABORTED when its signal aborts, and at once when it already has', async () => {
      const transport = client()
      const controller = new AbortController()
      const pending = transport.request(address, 'hang', 1, { timeoutMs: LONG_MS, signal: controller.signal })
      setTimeout(() => controller.abort(new Error('user')), 50)
      const err = await rejection(pending)
      expect(err.code).toBe('ERR_ABORTED')
      expect((err.cause as Error).message).toBe('user')
      const { ms, code } = await timed(
        transport.request(address, 'echo', 1, { timeoutMs: LONG_MS, signal: AbortSignal.abort() }),
      )
      expect(code).toBe('ERR_ABORTED')
      expect(ms).toBeLessThan(1000)
    })

    it('rejects an address that is not host:port, a payload that is not JSON and a bad timeoutMs', async () => {
      const transport = client()
      expect(await codeOf(transport.request('nowhere', 'echo', 1, { timeoutMs: 100 }))).toBe(
        'ERR_INVALID_ARGUMENT',
      )
      expect(await codeOf(transport.request(address, 'echo', 1n, { timeoutMs: 100 }))).toBe(
        'ERR_INVALID_ARGUMENT',
      )
      expect(await codeOf(transport.request(address, 'echo', 1, { timeoutMs: 0 }))).toBe(
        'ERR_INVALID_ARGUMENT',
      )
    })

    it('fails fast with ERR_CONNECTION_REFUSED when nothing listens at the address', async () => {
      const { ms, code } = await timed(
        client().request(`127.0.0.1:${await freePort()}`, 'echo', 1, { timeoutMs: LONG_MS }),
      )
      expect(code).toBe('ERR_CONNECTION_REFUSED')
      expect(ms).toBeLessThan(5000)
    })

    it('fails fast with ERR_TRANSPORT_MISMATCH against a plain HTTP server', async () => {
      const http = createHttpServer((_req, res) => res.end('hello'))
      http.listen(0, '127.0.0.1')
      await once(http, 'listening')
      try {
        const { port } = http.address() as { port: number }
        const transport = client()
        const { ms, code } = await timed(
          transport.request(`127.0.0.1:${port}`, 'echo', 1, { timeoutMs: LONG_MS }),
        )
        expect(code).toBe('ERR_TRANSPORT_MISMATCH')
        expect(ms).toBeLessThan(5000)
        expect(transport.isWarm(`127.0.0.1:${port}`)).toBe(false)
      } finally {
        http.closeAllConnections()
        http.close()
      }
    })

    it('fails with ERR_TRANSPORT_MISMATCH after connectTimeoutMs when the port accepts but never speaks', async () => {
      const sockets = new Set<Socket>()
      const silent = createTcpServer((socket) => sockets.add(socket))
      silent.listen(0, '127.0.0.1')
      await once(silent, 'listening')
      try {
        const { port } = silent.address() as { port: number }
        const transport = client({ connectTimeoutMs: 300 })
        const { ms, code } = await timed(
          transport.request(`127.0.0.1:${port}`, 'echo', 1, { timeoutMs: LONG_MS }),
        )
        expect(code).toBe('ERR_TRANSPORT_MISMATCH')
        expect(ms).toBeGreaterThanOrEqual(250)
        expect(ms).toBeLessThan(5000)
      } finally {
        for (const socket of sockets) socket.destroy()
        silent.close()
      }
    })

    it('fails in-flight requests with ERR_CONNECTION_RESET when the worker closes, well before their deadline', async () => {
      const server = await worker(0, 0)
      const target = `127.0.0.1:${server.port}`
      const transport = client()
      await transport.request(target, 'echo', 1, { timeoutMs: LONG_MS })
      const pending = [1, 2, 3].map((i) =>
        timed(transport.request(target, 'hang', i, { timeoutMs: LONG_MS })),
      )
      await delay(50)
      await server.close()
      for (const { ms, code } of await Promise.all(pending)) {
        expect(code).toBe('ERR_CONNECTION_RESET')
        expect(ms).toBeLessThan(10_000)
      }
    })

    it('fails in-flight requests with ERR_CONNECTION_RESET when the worker process is killed', async () => {
      const { child, port } = await spawnScript('worker-child.ts')
      const target = `127.0.0.1:${port}`
      const transport = client()
      await expect(transport.request(target, 'echo', 'up', { timeoutMs: LONG_MS })).resolves.toBe('up')
      const pending = timed(transport.request(target, 'hang', 1, { timeoutMs: LONG_MS }))
      await delay(50)
      await kill(child)
      const { ms, code } = await pending
      expect(code).toBe('ERR_CONNECTION_RESET')
      expect(ms).toBeLessThan(10_000)
      // The worker is gone: the next request is refused at once, not queued for a reconnect.
      expect((await timed(transport.request(target, 'echo', 1, { timeoutMs: LONG_MS }))).code).toBe(
        'ERR_CONNECTION_REFUSED',
      )
    })

    it('reaches a worker restarted on the same port', async () => {
      const first = await worker()
      const target = `127.0.0.1:${first.port}`
      const transport = client()
      await expect(transport.request(target, 'echo', 'first', { timeoutMs: LONG_MS })).resolves.toBe('first')
      await first.close()
      await until(() => !transport.isWarm(target), 'the connection to drop')
      await worker(first.port)
      await expect(transport.request(target, 'echo', 'second', { timeoutMs: LONG_MS })).resolves.toBe(
        'second',
      )
      expect(transport.isWarm(target)).toBe(true)
    })

    it('reaches a worker that starts after a refused request', async () => {
      const port = await freePort()
      const target = `127.0.0.1:${port}`
      const transport = client()
      expect(await codeOf(transport.request(target, 'echo', 1, { timeoutMs: LONG_MS }))).toBe(
        'ERR_CONNECTION_REFUSED',
      )
      await worker(port)
      await expect(transport.request(target, 'echo', 2, { timeoutMs: LONG_MS })).resolves.toBe(2)
    })

    it('rejects a reply larger than its maxPayloadBytes with ERR_PAYLOAD_TOO_LARGE', async () => {
      const transport = client({ maxPayloadBytes: 1000 })
      expect(await codeOf(transport.request(address, 'big', 2000, { timeoutMs: LONG_MS }))).toBe(
        'ERR_PAYLOAD_TOO_LARGE',
      )
      await expect(transport.request(address, 'big', 10, { timeoutMs: LONG_MS })).resolves.toBe(
        'x'.repeat(10),
      )
    })
  })

  describe('with a worker that answers badly', () => {
    /** A Router that answers every request with what `answer` returns for its rid (nothing when undefined). */
    async function badWorker(
      answer: (rid: string) => Array<string> | undefined,
    ): Promise<{ target: string; stop(): void }> {
      const router = new Router({ linger: 0 })
      await router.bind('tcp://127.0.0.1:*')
      void (async () => {
        for await (const [identity, frame] of router) {
          const [rid] = JSON.parse(String(frame)) as [string]
          const frames = answer(rid)
          if (frames && identity) await router.send([identity, ...frames])
        }
      })()
      return { target: router.lastEndpoint?.replace('tcp://', '') ?? '', stop: () => router.close() }
    }

    it('fails the request with ERR_BAD_REPLY when a reply with a readable rid does not decode', async () => {
      const bad = await badWorker((rid) => [`["${rid}", 42, oops`])
      try {
        expect(await codeOf(client().request(bad.target, 'x', 1, { timeoutMs: LONG_MS }))).toBe(
          'ERR_BAD_REPLY',
        )
      } finally {
        bad.stop()
      }
    })

    it('drops replies it cannot match, of several frames or for unknown rids, and keeps working', async () => {
      let calls = 0
      const bad = await badWorker((rid) => {
        calls++
        if (calls === 1) return ['not json at all']
        if (calls === 2) return [JSON.stringify([rid, null, 1]), 'extra frame']
        if (calls === 3) return [JSON.stringify(['no-such-rid', null, 1])]
        return [JSON.stringify([rid, null, 'ok'])]
      })
      try {
        const transport = client()
        for (let i = 0; i < 3; i++) {
          expect(await codeOf(transport.request(bad.target, 'x', i, { timeoutMs: 150 }))).toBe('ERR_TIMEOUT')
        }
        await expect(transport.request(bad.target, 'x', 4, { timeoutMs: LONG_MS })).resolves.toBe('ok')
      } finally {
        bad.stop()
      }
    })
  })

  describe('isWarm()', () => {
    it('is true once connected to the worker and false after the connection dropped', async () => {
      const server = await worker()
      const target = `127.0.0.1:${server.port}`
      const transport = client()
      expect(transport.isWarm(target)).toBe(false)
      await transport.request(target, 'echo', 1, { timeoutMs: LONG_MS })
      expect(transport.isWarm(target)).toBe(true)
      await server.close()
      await until(() => !transport.isWarm(target), 'the connection to drop')
    })
  })

  describe('close()', () => {
    it('waits for the requests in flight, then refuses new ones with ERR_CLOSED', async () => {
      const transport = client()
      const pending = [1, 2, 3, 4, 5].map((i) =>
        transport.request(address, 'slow', i, { timeoutMs: LONG_MS }),
      )
      await delay(20)
      const closing = transport.close()
      expect(transport.close()).toBe(closing)
      expect(await codeOf(transport.request(address, 'echo', 1, { timeoutMs: LONG_MS }))).toBe('ERR_CLOSED')
      await expect(Promise.all(pending)).resolves.toEqual([1, 2, 3, 4, 5])
      await closing
      expect(transport.isWarm(address)).toBe(false)
      expect(await codeOf(transport.request(address, 'echo', 1, { timeoutMs: LONG_MS }))).toBe('ERR_CLOSED')
    })

    it('fails what is still in flight after closeTimeoutMs with ERR_CLOSED', async () => {
      const transport = client({ closeTimeoutMs: 100 })
      const pending = timed(transport.request(address, 'hang', 1, { timeoutMs: LONG_MS }))
      await delay(20)
      await transport.close()
      const { ms, code } = await pending
      expect(code).toBe('ERR_CLOSED')
      expect(ms).toBeLessThan(5000)
    })

    it('closes a connection still being made', async () => {
      const transport = client()
      const pending = codeOf(
        transport.request(`127.0.0.1:${await freePort()}`, 'echo', 1, { timeoutMs: LONG_MS }),
      )
      await transport.close()
      expect(['ERR_CLOSED', 'ERR_CONNECTION_REFUSED']).toContain(await pending)
    })
  })

  describe('constructor', () => {
    it('rejects tls and invalid options with ERR_INVALID_OPTION', () => {
      expect(() => new ZmqClientTransport({ tls: {} })).toThrow(
        expect.objectContaining({ code: 'ERR_INVALID_OPTION' }),
      )
      expect(() => new ZmqClientTransport({ maxPayloadBytes: 0 })).toThrow(/options\.maxPayloadBytes/)
      expect(() => new ZmqClientTransport({ connectTimeoutMs: -1 })).toThrow(/options\.connectTimeoutMs/)
    })
  })
})
