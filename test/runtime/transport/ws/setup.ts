import { type ChildProcess, spawn } from 'node:child_process'
import { once } from 'node:events'
import type { AddressInfo } from 'node:net'
import WebSocket, { type RawData, WebSocketServer } from 'ws'
import { GrenacheError } from '../../../../runtime/errors.js'

/** The code a promise rejects with (or 'resolved'), for compact assertions. */
export const code = (promise: Promise<unknown>): Promise<string> =>
  promise.then(
    () => 'resolved',
    (err: unknown) => (err instanceof GrenacheError ? err.code : `not a GrenacheError: ${String(err)}`),
  )

/** The rejection of a promise, which must reject. */
export async function rejection(promise: Promise<unknown>): Promise<GrenacheError> {
  try {
    await promise
  } catch (err) {
    if (err instanceof GrenacheError) return err
    throw new Error(`not a GrenacheError: ${String(err)}`)
  }
  throw new Error('resolved, expected a rejection')
}

/** A raw ws@8 server on 127.0.0.1, to play a worker that misbehaves in a precise way. */
export interface RawServer {
  wss: WebSocketServer
  port: number
  address: string
  /** Every socket that connected, in order. */
  sockets: WebSocket[]
  close(): Promise<void>
}

export async function startRawServer(
  onMessage: (socket: WebSocket, data: RawData, isBinary: boolean) => void,
  options: { port?: number; maxPayload?: number } = {},
): Promise<RawServer> {
  const wss = new WebSocketServer({
    port: options.port ?? 0,
    host: '127.0.0.1',
    perMessageDeflate: false,
    ...(options.maxPayload === undefined ? {} : { maxPayload: options.maxPayload }),
  })
  const sockets: WebSocket[] = []
  wss.on('connection', (socket) => {
    sockets.push(socket)
    socket.on('error', () => undefined)
    socket.on('message', (data, isBinary) => onMessage(socket, data, isBinary))
  })
  await once(wss, 'listening')
  const port = (wss.address() as AddressInfo).port
  return {
    wss,
    port,
    address: `127.0.0.1:${port}`,
    sockets,
    close: async () => {
      for (const socket of wss.clients) socket.terminate()
      await new Promise<void>((resolve) => wss.close(() => resolve()))
    },
  }
}

/** `[rid, key, payload]` of a frame our client sent. */
export function parseRequest(data: RawData): [string, string, unknown] {
  return JSON.parse((data as Buffer).toString()) as [string, string, unknown]
}

/** A raw client socket, opened. */
export async function openRawClient(url: string): Promise<WebSocket> {
  const socket = new WebSocket(url, { perMessageDeflate: false })
  socket.on('error', () => undefined)
  await once(socket, 'open')
  return socket
}

/** Sends `text` and waits for the next frame, parsed. */
export async function roundTrip(socket: WebSocket, text: string | Buffer, binary = false): Promise<unknown> {
  const reply = once(socket, 'message')
  socket.send(text, { binary })
  const [data] = (await reply) as [Buffer]
  return JSON.parse(data.toString())
}

/**
 * A worker in another process (a raw ws@8 server that never replies), so the test can kill it
 * the way a crash would. Resolves once it listens.
 */
export async function startDoomedWorker(): Promise<{ child: ChildProcess; address: string; port: number }> {
  const script = `
    import { WebSocketServer } from 'ws'
    const wss = new WebSocketServer({ port: 0, host: '127.0.0.1', perMessageDeflate: false })
    wss.on('connection', (socket) => socket.on('message', () => process.stdout.write('GOT\\n')))
    wss.on('listening', () => process.stdout.write('PORT ' + wss.address().port + '\\n'))
    setTimeout(() => process.exit(0), 60000)
  `
  const child = spawn(process.execPath, ['--input-type=module', '-e', script], {
    cwd: new URL('../../../../', import.meta.url).pathname,
    stdio: ['ignore', 'pipe', 'inherit'],
  })
  const port = await new Promise<number>((resolve, reject) => {
    let text = ''
    child.once('exit', (exitCode) => reject(new Error(`the worker exited with ${exitCode}`)))
    child.stdout?.on('data', (chunk: Buffer) => {
      text += chunk.toString()
      const match = /PORT (\d+)/.exec(text)
      if (match) resolve(Number(match[1]))
    })
  })
  return { child, port, address: `127.0.0.1:${port}` }
}

/** Resolves when the child printed `line` (counted from now). */
export function printed(child: ChildProcess, line: string): Promise<void> {
  return new Promise((resolve) => {
    const onData = (chunk: Buffer): void => {
      if (chunk.toString().includes(line)) {
        child.stdout?.off('data', onData)
        resolve()
      }
    }
    child.stdout?.on('data', onData)
  })
}
