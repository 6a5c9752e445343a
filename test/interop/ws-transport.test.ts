import { EventEmitter, once } from 'node:events'
import { createRequire } from 'node:module'
import { type AddressInfo, createServer } from 'node:net'
import { dirname } from 'node:path'
import { afterEach, beforeEach, describe, expect, it } from 'vitest'
import type { RequestHandler } from '../../runtime/transport/types.js'
import {
  WsClientTransport,
  type WsMessage,
  WsPublisher,
  WsServerTransport,
  WsSubscriber,
} from '../../runtime/transport/ws/index.js'
import { settledHandles, socketHandles } from '../helpers/handles.js'

/**
 * grenache-nodejs-ws 0.7.10 (on ws 7) against our WebSocket transports, both ways: its RPC client
 * transport calling our worker, our client calling its worker, and pub/sub in both directions.
 * The reference sockets register no 'error' listener, so they are never pointed at dead ports and
 * are stopped before our side closes.
 */
const require = createRequire(import.meta.url)

type Callback = (err: Error | null, result?: unknown) => void

interface RefRpcClient {
  init(): void
  stop(): void
  request(key: string, payload: unknown, opts: { timeout?: number }, cb: Callback): void
}
interface RefRpcServer extends EventEmitter {
  init(): void
  stop(): void
  listen(port: number): RefRpcServer
  /** The ws 7 server, once listening. */
  socket: EventEmitter
}
interface RefSub extends EventEmitter {
  init(): void
  stop(): void
  sub(): void
}
interface RefPub {
  init(): void
  listen(port: number): RefPub
  pub(message: string | Buffer): void
  socket: { close(cb?: () => void): void }
}
type RefTransport<T> = new (client: unknown, conf: Record<string, unknown>) => T

const RefRpcClientClass =
  require('grenache-nodejs-ws/lib/TransportRPCClient.js') as RefTransport<RefRpcClient>
const RefRpcServerClass =
  require('grenache-nodejs-ws/lib/TransportRPCServer.js') as RefTransport<RefRpcServer>
const RefSubClass = require('grenache-nodejs-ws/lib/TransportSub.js') as RefTransport<RefSub>
const RefPubClass = require('grenache-nodejs-ws/lib/TransportPub.js') as RefTransport<RefPub>

// The reference servers call `new Ws.Server({ port })`, which binds every interface; bind loopback.
const ws7 = require(require.resolve('ws', { paths: [dirname(require.resolve('grenache-nodejs-ws'))] })) as {
  Server: new (options: Record<string, unknown>, cb?: () => void) => object
}
const OriginalWs7Server = ws7.Server
ws7.Server = class LoopbackServer extends OriginalWs7Server {
  constructor(options: Record<string, unknown>, cb?: () => void) {
    super(
      options.port !== undefined && options.host === undefined ? { ...options, host: '127.0.0.1' } : options,
      cb,
    )
  }
}

async function freePort(): Promise<number> {
  const server = createServer()
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve))
  const { port } = server.address() as AddressInfo
  await new Promise<void>((resolve) => server.close(() => resolve()))
  return port
}

function call(
  client: RefRpcClient,
  key: string,
  payload: unknown,
): Promise<{ err: Error | null; res: unknown }> {
  return new Promise((resolve) =>
    client.request(key, payload, { timeout: 10_000 }, (err, res) => resolve({ err, res })),
  )
}

async function until(condition: () => boolean, timeoutMs = 5000): Promise<void> {
  const deadline = Date.now() + timeoutMs
  while (!condition()) {
    if (Date.now() > deadline) throw new Error('condition not met in time')
    await new Promise((resolve) => setTimeout(resolve, 5))
  }
}

describe('grenache-nodejs-ws 0.7.10 against our WebSocket transports', () => {
  let before: Record<string, number>
  const cleanups: Array<() => unknown> = []

  beforeEach(() => {
    before = socketHandles()
  })
  afterEach(async () => {
    // Reference sides first (they have no 'error' listener), in reverse order of creation.
    for (const cleanup of cleanups.splice(0).reverse()) await cleanup()
    expect(await settledHandles(before)).toEqual(before)
  })

  describe('the reference RPC client calling our WsServerTransport', () => {
    async function setup(handler: RequestHandler): Promise<RefRpcClient> {
      const server = new WsServerTransport({ port: 0 })
      cleanups.push(() => server.close())
      const port = await server.listen(handler)
      const client = new RefRpcClientClass({}, { dest: `127.0.0.1:${port}` })
      client.init()
      cleanups.push(async () => {
        client.stop()
        // Let its close handshake finish before our server closes.
        await new Promise((resolve) => setTimeout(resolve, 20))
      })
      return client
    }

    it('gets the result of a request', async () => {
      const client = await setup((request, reply) =>
        reply(null, request.payload === 'hello' ? 'world' : null),
      )
      await expect(call(client, 'rpc_ws', 'hello')).resolves.toEqual({ err: null, res: 'world' })
    })

    it('gets every result of concurrent requests on its socket, replied out of order', async () => {
      const client = await setup((request, reply) => {
        const n = request.payload as number
        setTimeout(() => reply(null, { echo: n, key: request.key }), (5 - n) * 15)
      })
      const results = await Promise.all([1, 2, 3, 4, 5].map((n) => call(client, 'rpc_ws', n)))
      expect(results).toEqual([1, 2, 3, 4, 5].map((n) => ({ err: null, res: { echo: n, key: 'rpc_ws' } })))
    })

    it('gets an Error reply as an Error with the message', async () => {
      const client = await setup((_request, reply) => reply(new Error('ERR_WS_FAIL')))
      const { err, res } = await call(client, 'rpc_ws', 'fail')
      expect(err).toBeInstanceOf(Error)
      expect(err?.message).toBe('ERR_WS_FAIL')
      expect(res).toBeNull()
    })

    it('gets a string error reply as an Error too (the reference worker would send success, G12)', async () => {
      const client = await setup((_request, reply) => reply('ERR_STRING_FAIL'))
      const { err } = await call(client, 'rpc_ws', 'fail')
      expect(err?.message).toBe('ERR_STRING_FAIL')
    })
  })

  describe('our WsClientTransport calling the reference TransportRPCServer', () => {
    async function setup(): Promise<{ client: WsClientTransport; address: string }> {
      const port = await freePort()
      const server = new RefRpcServerClass({}, {})
      server.init()
      server.on('request', (rid: unknown, key: string, payload: unknown, handler: { reply: Callback }) => {
        if (payload === 'fail') handler.reply(new Error('ERR_WS_FAIL'))
        else if (payload === 'remote-code') handler.reply(new Error('TOO_SLOW: busy'))
        else if (typeof payload === 'number')
          setTimeout(() => handler.reply(null, { rid, key, payload }), (5 - payload) * 15)
        else handler.reply(null, payload === 'hello' ? 'world' : { echo: payload })
      })
      server.listen(port)
      cleanups.push(() => server.stop())
      await once(server.socket, 'listening')
      const client = new WsClientTransport()
      cleanups.push(() => client.close())
      return { client, address: `127.0.0.1:${port}` }
    }

    it('gets the result of requests, concurrent ones included, matched by rid', async () => {
      const { client, address } = await setup()
      await expect(client.request(address, 'rpc_ws', { a: 1 }, { timeoutMs: 5000 })).resolves.toEqual({
        echo: { a: 1 },
      })
      const results = (await Promise.all(
        [1, 2, 3, 4].map((n) => client.request(address, 'rpc_ws', n, { timeoutMs: 5000 })),
      )) as Array<{ rid: unknown; key: string; payload: number }>
      expect(results.map((r) => r.payload)).toEqual([1, 2, 3, 4])
      expect(results.every((r) => typeof r.rid === 'string' && r.key === 'rpc_ws')).toBe(true)
      expect(client.isWarm(address)).toBe(true)
    })

    it('turns an Error reply into ERR_REMOTE with the remote code', async () => {
      const { client, address } = await setup()
      await expect(client.request(address, 'rpc_ws', 'fail', { timeoutMs: 5000 })).rejects.toMatchObject({
        code: 'ERR_REMOTE',
        remoteCode: 'ERR_WS_FAIL',
        message: 'ERR_WS_FAIL',
      })
      await expect(
        client.request(address, 'rpc_ws', 'remote-code', { timeoutMs: 5000 }),
      ).rejects.toMatchObject({
        code: 'ERR_REMOTE',
        remoteCode: 'TOO_SLOW',
      })
    })

    it('fails a request in flight with ERR_CONNECTION_RESET when the reference worker stops', async () => {
      const port = await freePort()
      const server = new RefRpcServerClass({}, {})
      server.init()
      const received = new Promise<void>((resolve) => server.on('request', () => resolve()))
      server.listen(port)
      await once(server.socket, 'listening')
      const client = new WsClientTransport()
      cleanups.push(() => client.close())
      const address = `127.0.0.1:${port}`
      const pending = client
        .request(address, 'rpc_ws', 'never answered', { timeoutMs: 20_000 })
        .catch((e) => e)
      await received
      server.stop()
      await expect(pending).resolves.toMatchObject({ code: 'ERR_CONNECTION_RESET' })
    })
  })

  describe('pub/sub', () => {
    it('the reference TransportSub receives what our WsPublisher publishes: text as strings, in order', async () => {
      const publisher = new WsPublisher()
      cleanups.push(() => publisher.close())
      const port = await publisher.listen({ port: 0 })
      const peer = new EventEmitter()
      const sub = new RefSubClass(peer, { dest: `127.0.0.1:${port}` })
      sub.init()
      const got: unknown[] = []
      sub.on('message', (data: unknown) => got.push(data))
      const connected = once(sub, 'connected')
      sub.sub()
      cleanups.push(async () => {
        sub.stop()
        await until(() => publisher.subscribers === 0)
      })
      await connected
      await until(() => publisher.subscribers === 1)
      const messages = ['msg-6', JSON.stringify({ chan: 'x', n: 7 }), 'msg-7']
      for (const message of messages) publisher.publish(message)
      publisher.publish(Buffer.from([1, 2, 3]))
      await until(() => got.length === 4)
      expect(got.slice(0, 3)).toEqual(messages)
      expect(got[3]).toEqual(Buffer.from([1, 2, 3]))
    })

    it('our WsSubscriber receives what the reference TransportPub publishes', async () => {
      const port = await freePort()
      const publisher = new RefPubClass({}, {})
      publisher.init()
      publisher.listen(port)
      await once(publisher.socket as unknown as EventEmitter, 'listening')
      cleanups.push(() => new Promise<void>((resolve) => publisher.socket.close(() => resolve())))
      const subscriber = new WsSubscriber({ address: `127.0.0.1:${port}`, minReconnectDelayMs: 10 })
      cleanups.push(() => subscriber.close())
      const got: WsMessage[] = []
      subscriber.on('sub:message', (data) => got.push(data))
      const connected = once(subscriber, 'sub:connected')
      subscriber.start()
      await connected
      // The reference publisher tracks the socket on its 'connection' event: wait until it has it.
      const sockets = (publisher as unknown as { _sockets: Map<string, unknown> })._sockets
      await until(() => sockets.size === 1)
      publisher.pub('msg-1')
      publisher.pub(JSON.stringify({ chan: 'x', n: 2 }))
      publisher.pub(Buffer.from('raw bytes'))
      await until(() => got.length === 3)
      expect(got).toEqual(['msg-1', '{"chan":"x","n":2}', Buffer.from('raw bytes')])
    })
  })
})
