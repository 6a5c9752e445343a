import { once } from 'node:events'
import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http'
import { type AddressInfo, createServer as createTcpServer, type Socket } from 'node:net'
import { GrenacheError } from '../../../../runtime/errors.js'
import {
  HttpServerTransport,
  type HttpServerTransportOptions,
} from '../../../../runtime/transport/http/index.js'
import type { RequestHandler } from '../../../../runtime/transport/types.js'

/** The code a promise rejects with (`'resolved'` when it does not reject). */
export function code(promise: Promise<unknown>): Promise<string> {
  return promise.then(
    () => 'resolved',
    (err: unknown) => (err instanceof GrenacheError ? err.code : `not a GrenacheError: ${String(err)}`),
  )
}

/** The GrenacheError a promise rejects with; throws when it resolves or rejects with anything else. */
export async function rejection(promise: Promise<unknown>): Promise<GrenacheError> {
  try {
    await promise
  } catch (err) {
    if (err instanceof GrenacheError) return err
    throw new Error(`not a GrenacheError: ${String(err)}`)
  }
  throw new Error('the promise resolved')
}

export interface StartedServer {
  server: HttpServerTransport
  address: string
  port: number
}

/** Our server transport on 127.0.0.1, port 0. */
export async function startServer(
  handler: RequestHandler,
  options: Partial<HttpServerTransportOptions> = {},
): Promise<StartedServer> {
  const server = new HttpServerTransport({ port: 0, ...options })
  const port = await server.listen(handler)
  return { server, port, address: `127.0.0.1:${port}` }
}

/** Echoes the payload, with the key: `{ key, payload }`. */
export const echo: RequestHandler = (request, reply) =>
  reply(null, { key: request.key, payload: request.payload })

export interface RawServer {
  address: string
  port: number
  /** Every request's body as it came, in order. */
  bodies: Buffer[]
  /** Every request as it arrived. */
  requests: IncomingMessage[]
  close(): Promise<void>
}

/** A bare node:http server whose answers the test writes itself. */
export async function rawHttpServer(
  onRequest: (req: IncomingMessage, res: ServerResponse, body: Buffer) => void,
): Promise<RawServer> {
  const bodies: Buffer[] = []
  const requests: IncomingMessage[] = []
  const server: Server = createServer((req, res) => {
    requests.push(req)
    const chunks: Buffer[] = []
    req.on('data', (chunk: Buffer) => chunks.push(chunk))
    req.on('end', () => {
      const body = Buffer.concat(chunks)
      bodies.push(body)
      onRequest(req, res, body)
    })
  })
  server.listen(0, '127.0.0.1')
  await once(server, 'listening')
  const { port } = server.address() as AddressInfo
  return {
    port,
    address: `127.0.0.1:${port}`,
    bodies,
    requests,
    close: () =>
      new Promise<void>((resolve) => {
        server.close(() => resolve())
        server.closeAllConnections()
      }),
  }
}

/** A bare TCP server: `onSocket` does whatever it wants with each connection. */
export async function rawTcpServer(
  onSocket: (socket: Socket) => void,
): Promise<{ address: string; close(): Promise<void> }> {
  const sockets = new Set<Socket>()
  const server = createTcpServer((socket) => {
    sockets.add(socket)
    socket.on('error', () => {})
    socket.on('close', () => sockets.delete(socket))
    onSocket(socket)
  })
  server.listen(0, '127.0.0.1')
  await once(server, 'listening')
  const { port } = server.address() as AddressInfo
  return {
    address: `127.0.0.1:${port}`,
    close: () =>
      new Promise<void>((resolve) => {
        server.close(() => resolve())
        for (const socket of sockets) socket.destroy()
      }),
  }
}

/** A free port on 127.0.0.1 that nothing listens on (for refused connections). */
export async function closedPort(): Promise<number> {
  const server = createTcpServer()
  server.listen(0, '127.0.0.1')
  await once(server, 'listening')
  const { port } = server.address() as AddressInfo
  await new Promise<void>((resolve) => server.close(() => resolve()))
  return port
}

/** Resolves after `ms`. */
export function delay(ms: number): Promise<void> {
  return new Promise((resolve) => setTimeout(resolve, ms))
}
