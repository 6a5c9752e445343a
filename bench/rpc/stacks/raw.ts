/**
 * The raw floor, as perf-baseline measured it: the bare libraries with the least code around them.
 * - raw-http: undici `Pool` (keep-alive, pipelining 1, up to 128 connections) → node:http server;
 *   the bare payload as the body, with content-length both ways.
 * - raw-ws: one ws@8 socket (no deflate), text frames `[id, payload]` matched by id.
 * - raw-zmq: a zeromq@6 Dealer with a send queue (zeromq allows one pending send) → a Router doing
 *   `for await` receive and `await send`; one frame `[id, payload]` each way.
 * Every server JSON-parses the request and JSON-stringifies the payload back (echo).
 */
import { once } from 'node:events'
import { createServer, type IncomingMessage, type ServerResponse } from 'node:http'
import type { AddressInfo } from 'node:net'
import { Pool } from 'undici'
import { WebSocket, WebSocketServer } from 'ws'
import { Dealer, Router } from 'zeromq'
import type { Proto } from '../protocol.js'
import type { BenchClient, EchoServer } from './types.js'

const HOST = '127.0.0.1'

export function startRawServer(proto: Proto, port: number): Promise<EchoServer> {
  if (proto === 'http') return startHttpServer(port)
  if (proto === 'ws') return startWsServer(port)
  return startZmqServer(port)
}

export async function createRawClient(proto: Proto, addresses: string[]): Promise<BenchClient> {
  const address = addresses[0]
  if (addresses.length !== 1 || address === undefined) throw new Error('raw clients call exactly one worker')
  if (proto === 'http') return httpClient(address)
  if (proto === 'ws') return wsClient(address)
  return zmqClient(address)
}

const noMap = () => Promise.reject(new Error('raw clients have no map'))

async function startHttpServer(port: number): Promise<EchoServer> {
  const server = createServer((req: IncomingMessage, res: ServerResponse) => {
    const chunks: Buffer[] = []
    req.on('data', (chunk: Buffer) => chunks.push(chunk))
    req.on('end', () => {
      let out: string
      try {
        const body = chunks.length === 1 ? (chunks[0] as Buffer) : Buffer.concat(chunks)
        out = JSON.stringify(JSON.parse(body.toString()))
      } catch {
        res.writeHead(400).end()
        return
      }
      res.writeHead(200, { 'content-type': 'application/json', 'content-length': Buffer.byteLength(out) })
      res.end(out)
    })
  })
  server.listen(port, HOST)
  await once(server, 'listening')
  return {
    host: (server.address() as AddressInfo).address,
    port,
    close: () =>
      new Promise<void>((resolve) => {
        server.close(() => resolve())
        server.closeAllConnections()
      }),
  }
}

function httpClient(address: string): BenchClient {
  const pool = new Pool(`http://${address}`, { connections: 128, pipelining: 1 })
  return {
    async request(payload) {
      const { statusCode, body } = await pool.request({
        path: '/',
        method: 'POST',
        headers: { 'content-type': 'application/json' },
        body: JSON.stringify(payload),
      })
      const text = await body.text()
      if (statusCode !== 200) throw new Error(`HTTP ${statusCode} ${text.slice(0, 200)}`)
      return JSON.parse(text)
    },
    map: noMap,
    close: () => pool.close(),
  }
}

async function startWsServer(port: number): Promise<EchoServer> {
  const server = new WebSocketServer({ host: HOST, port, perMessageDeflate: false })
  server.on('connection', (socket) => {
    socket.on('message', (data: Buffer) => {
      const [id, payload] = JSON.parse(data.toString()) as [number, unknown]
      socket.send(JSON.stringify([id, payload]))
    })
  })
  await once(server, 'listening')
  return {
    host: (server.address() as AddressInfo).address,
    port,
    close: () =>
      new Promise<void>((resolve) => {
        for (const client of server.clients) client.terminate()
        server.close(() => resolve())
      }),
  }
}

interface Waiter {
  resolve(value: unknown): void
  reject(error: Error): void
}

async function wsClient(address: string): Promise<BenchClient> {
  const socket = new WebSocket(`ws://${address}/`, { perMessageDeflate: false })
  const pending = new Map<number, Waiter>()
  let nextId = 0
  socket.on('message', (data: Buffer) => {
    const [id, payload] = JSON.parse(data.toString()) as [number, unknown]
    const waiter = pending.get(id)
    if (!waiter) return
    pending.delete(id)
    waiter.resolve(payload)
  })
  socket.on('close', () => {
    for (const waiter of pending.values()) waiter.reject(new Error('raw ws: socket closed'))
    pending.clear()
  })
  socket.on('error', () => undefined)
  await once(socket, 'open')
  return {
    request(payload) {
      const id = ++nextId
      return new Promise((resolve, reject) => {
        pending.set(id, { resolve, reject })
        socket.send(JSON.stringify([id, payload]))
      })
    },
    map: noMap,
    close: async () => {
      socket.close()
    },
  }
}

async function startZmqServer(port: number): Promise<EchoServer> {
  const router = new Router({ linger: 0 })
  await router.bind(`tcp://${HOST}:${port}`)
  const loop = (async () => {
    for await (const [identity, message] of router) {
      if (!identity || !message) continue
      const [id, payload] = JSON.parse(message.toString()) as [number, unknown]
      await router.send([identity, JSON.stringify([id, payload])])
    }
  })().catch(() => undefined)
  return {
    host: HOST,
    port,
    close: async () => {
      router.close()
      await loop
    },
  }
}

async function zmqClient(address: string): Promise<BenchClient> {
  const dealer = new Dealer({ linger: 0 })
  dealer.connect(`tcp://${address}`)
  const pending = new Map<number, Waiter>()
  let nextId = 0
  // zeromq@6 allows one pending send() per socket: frames wait here for their turn.
  const queue: string[] = []
  let sending = false
  const pump = async () => {
    sending = true
    try {
      while (queue.length > 0) await dealer.send(queue.shift() as string)
    } catch (err) {
      for (const waiter of pending.values()) waiter.reject(err as Error)
      pending.clear()
    } finally {
      sending = false
    }
  }
  const receiving = (async () => {
    for await (const [message] of dealer) {
      if (!message) continue
      const [id, payload] = JSON.parse(message.toString()) as [number, unknown]
      const waiter = pending.get(id)
      if (!waiter) continue
      pending.delete(id)
      waiter.resolve(payload)
    }
  })().catch(() => undefined)
  return {
    request(payload) {
      const id = ++nextId
      return new Promise((resolve, reject) => {
        pending.set(id, { resolve, reject })
        queue.push(JSON.stringify([id, payload]))
        if (!sending) void pump()
      })
    },
    map: noMap,
    close: async () => {
      dealer.close()
      await receiving
    },
  }
}
