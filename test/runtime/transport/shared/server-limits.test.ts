import { connect, type Socket } from 'node:net'
import { connect as tlsConnect } from 'node:tls'
import { afterEach, describe, expect, it } from 'vitest'
import WebSocket from 'ws'
import { Grape } from '../../../../runtime/grape/index.js'
import { HttpClientTransport } from '../../../../runtime/transport/http/client.js'
import { HttpServerTransport } from '../../../../runtime/transport/http/server.js'
import type { ServerLimitOptions } from '../../../../runtime/transport/shared/server-limits.js'
import type { ClientTransport, ServerTransport } from '../../../../runtime/transport/types.js'
import { WsClientTransport } from '../../../../runtime/transport/ws/client.js'
import { WsPublisher } from '../../../../runtime/transport/ws/publisher.js'
import { WsServerTransport } from '../../../../runtime/transport/ws/server.js'
import { ZmqClientTransport } from '../../../../runtime/transport/zmq/client.js'
import { ZmqServerTransport } from '../../../../runtime/transport/zmq/server.js'
import { tls } from '../../../fixtures/tls/index.js'
import { loopbackGrape } from '../../../helpers/testnet.js'

const cleanups: Array<() => Promise<unknown> | unknown> = []
afterEach(async () => {
  for (const cleanup of cleanups.splice(0).reverse()) await cleanup()
})

const TIMEOUTS: ServerLimitOptions = { headersTimeoutMs: 300, requestTimeoutMs: 600, idleTimeoutMs: 300 }

/** A raw connection; resolves with how long after connecting the server closed it (bounded). */
async function closedAfter(port: number, talk: (socket: Socket) => void = () => {}): Promise<number> {
  const socket = connect(port, '127.0.0.1')
  socket.on('error', () => {})
  cleanups.push(() => socket.destroy())
  await new Promise((resolve) => socket.once('connect', resolve))
  const start = Date.now()
  socket.resume()
  talk(socket)
  const timer = setTimeout(() => socket.destroy(), 10_000)
  await new Promise((resolve) => socket.once('close', resolve))
  clearTimeout(timer)
  return Date.now() - start
}

/** Writes a header line every 100 ms, never ending the headers. */
function slowHeaders(socket: Socket): void {
  socket.write('POST / HTTP/1.1\r\nHost: 127.0.0.1\r\n')
  const timer = setInterval(() => socket.write('X-Slow: 1\r\n'), 100)
  socket.once('close', () => clearInterval(timer))
}

/** Sends headers, then one body byte every 100 ms of a 1000-byte body. */
function slowBody(socket: Socket): void {
  socket.write('POST / HTTP/1.1\r\nHost: 127.0.0.1\r\nContent-Length: 1000\r\n\r\n[')
  const timer = setInterval(() => socket.write(' '), 100)
  socket.once('close', () => clearInterval(timer))
}

async function started<T extends ServerTransport>(server: T): Promise<T> {
  await server.listen((_request, reply) => reply(null, 'ok'))
  cleanups.push(() => server.close())
  return server
}

async function grapeApiPort(limits: ServerLimitOptions): Promise<number> {
  const grape = new Grape(loopbackGrape({ apiLimits: limits }))
  cleanups.push(() => grape.close())
  await grape.start()
  return grape.address.apiPort
}

const SERVERS: Array<[string, (limits: ServerLimitOptions) => Promise<number>]> = [
  ['http worker', async (limits) => (await started(new HttpServerTransport({ port: 0, ...limits }))).port],
  ['ws worker', async (limits) => (await started(new WsServerTransport({ port: 0, ...limits }))).port],
  [
    'ws publisher',
    async (limits) => {
      const publisher = new WsPublisher(limits)
      cleanups.push(() => publisher.close())
      return publisher.listen({ port: 0 })
    },
  ],
  ['Grape API', grapeApiPort],
]

describe.each(SERVERS)('%s: timeouts fire when configured', (_name, start) => {
  it('closes a connection that sends nothing, and one whose headers never end, at headersTimeoutMs', async () => {
    const port = await start(TIMEOUTS)
    const [idle, slow] = await Promise.all([closedAfter(port), closedAfter(port, slowHeaders)])
    for (const ms of [idle, slow]) {
      expect(ms).toBeGreaterThanOrEqual(250)
      // Node checks its timeouts every connectionsCheckingInterval: 30 s unless set.
      expect(ms).toBeLessThan(2000)
    }
  })
})

describe.each(SERVERS.filter(([name]) => !name.startsWith('ws')))(
  '%s: request and idle timeouts',
  (_name, start) => {
    it('closes a request whose body never ends at requestTimeoutMs', async () => {
      const port = await start(TIMEOUTS)
      const ms = await closedAfter(port, slowBody)
      expect(ms).toBeGreaterThanOrEqual(550)
      expect(ms).toBeLessThan(2500)
    })

    it('closes a kept-alive connection silent for idleTimeoutMs after its reply', async () => {
      const port = await start(TIMEOUTS)
      const ms = await closedAfter(port, (socket) =>
        socket.write('POST /lookup HTTP/1.1\r\nHost: 127.0.0.1\r\nContent-Length: 2\r\n\r\n[]'),
      )
      expect(ms).toBeGreaterThanOrEqual(250)
      expect(ms).toBeLessThan(2000)
    })
  },
)

describe('ws worker: an open WebSocket silent for idleTimeoutMs', () => {
  it('is closed with 1001; without idleTimeoutMs it stays open', async () => {
    const idle = await started(new WsServerTransport({ port: 0, idleTimeoutMs: 300 }))
    const open = await started(new WsServerTransport({ port: 0 }))
    const dial = (port: number) => {
      const socket = new WebSocket(`ws://127.0.0.1:${port}/ws`)
      cleanups.push(() => socket.terminate())
      return socket
    }
    const closed = new Promise<number>((resolve) => dial(idle.port).once('close', resolve))
    const kept = dial(open.port)
    expect(await closed).toBe(1001)
    expect(kept.readyState).toBe(WebSocket.OPEN)
  })
})

describe('maxConnections: one connection more is refused with ERR_BUSY, the others are served', () => {
  const cases: Array<[string, () => ServerTransport, () => ClientTransport]> = [
    ['http', () => new HttpServerTransport({ port: 0, maxConnections: 2 }), () => new HttpClientTransport()],
    [
      'https',
      () => new HttpServerTransport({ port: 0, maxConnections: 2, tls: tls.server }),
      () => new HttpClientTransport({ tls: { ca: tls.ca } }),
    ],
    ['ws', () => new WsServerTransport({ port: 0, maxConnections: 2 }), () => new WsClientTransport()],
    [
      'wss',
      () => new WsServerTransport({ port: 0, maxConnections: 2, tls: tls.server }),
      () => new WsClientTransport({ tls: { ca: tls.ca } }),
    ],
    ['zmq', () => new ZmqServerTransport({ port: 0, maxConnections: 2 }), () => new ZmqClientTransport()],
  ]
  it.each(cases)('%s', async (_kind, makeServer, makeClient) => {
    const server = await started(makeServer())
    const address = `127.0.0.1:${server.port}`
    const clients = [makeClient(), makeClient(), makeClient()]
    for (const client of clients) cleanups.push(() => client.close())
    const call = (client: ClientTransport) =>
      client.request(address, 'k', 1, { timeoutMs: 5000 }).then(
        (value) => value,
        (err: { code: string }) => err.code,
      )
    expect(await call(clients[0] as ClientTransport)).toBe('ok')
    expect(await call(clients[1] as ClientTransport)).toBe('ok')
    expect(await call(clients[2] as ClientTransport)).toBe('ERR_BUSY')
    expect(await call(clients[0] as ClientTransport)).toBe('ok')
  })

  it('the Grape API answers 503 ERR_BUSY', async () => {
    const port = await grapeApiPort({ maxConnections: 1 })
    const first = connect(port, '127.0.0.1')
    cleanups.push(() => first.destroy())
    await new Promise((resolve) => first.once('connect', resolve))
    const response = await fetch(`http://127.0.0.1:${port}/lookup`, { method: 'POST', body: '{"data":"x"}' })
    expect(response.status).toBe(503)
    expect(await response.text()).toMatch(/^ERR_BUSY: /)
  })

  it('a TLS connection past the cap is counted before its handshake', async () => {
    const server = await started(new HttpServerTransport({ port: 0, maxConnections: 1, tls: tls.server }))
    const first = tlsConnect({ port: server.port, host: '127.0.0.1', ca: tls.ca })
    cleanups.push(() => first.destroy())
    await new Promise((resolve) => first.once('secureConnect', resolve))
    const client = new HttpClientTransport({ tls: { ca: tls.ca } })
    cleanups.push(() => client.close())
    const error = await client
      .request(`127.0.0.1:${server.port}`, 'k', 1, { timeoutMs: 5000 })
      .catch((err) => err)
    expect(error).toMatchObject({ code: 'ERR_BUSY', message: expect.stringMatching(/maxConnections/) })
  })
})
