import type { Server } from 'node:http'
import type { Socket } from 'node:net'
import { debuglog } from 'node:util'
import { encodeReply } from '../envelope.js'

const debug = debuglog('grenache')

/** How long a refused connection may linger so that the caller reads the answer, in ms. */
const LINGER_MS = 1000

/** A raw HTTP/1.1 answer that closes the connection. */
export function rawResponse(status: number, reason: string, body: string, extra = ''): string {
  return `HTTP/1.1 ${status} ${reason}\r\nConnection: close\r\n${extra}Content-Length: ${Buffer.byteLength(body)}\r\n\r\n${body}`
}

/**
 * On a TLS port (HTTPS, WSS), looks at each connection's first byte before TLS starts: a TLS
 * handshake goes on to node:https, anything else is answered in plain HTTP with 426 (TLS
 * required), so a plain client fails at once with `ERR_TRANSPORT_MISMATCH` instead of a reset.
 * `silent` holds the connections not sniffed yet (close() ends them at once); one silent for
 * `firstByteTimeoutMs` is closed.
 */
export function sniffPlainHttp(
  server: Server,
  silent: Set<Socket>,
  firstByteTimeoutMs: number,
  speaks: string,
): void {
  const listeners = server.listeners('connection')
  const tlsListener = listeners.at(-1) as ((socket: Socket) => void) | undefined
  if (tlsListener === undefined) return
  server.removeListener('connection', tlsListener)
  server.on('connection', (socket: Socket) => {
    silent.add(socket)
    socket.on('error', onSniffError)
    socket.once('close', () => silent.delete(socket))
    socket.setTimeout(firstByteTimeoutMs, onSniffTimeout)
    socket.once('data', (chunk: Buffer) => {
      silent.delete(socket)
      socket.pause()
      socket.setTimeout(0)
      socket.removeListener('timeout', onSniffTimeout)
      socket.unshift(chunk)
      if (chunk[0] === 0x16) {
        tlsListener.call(server, socket)
        return
      }
      const body = encodeReply(null, `ERR_TRANSPORT_MISMATCH: this port speaks ${speaks}`, null)
      socket.resume()
      socket.end(rawResponse(426, 'Upgrade Required', body, 'Upgrade: TLS/1.3, HTTP/1.1\r\n'))
      socket.setTimeout(LINGER_MS, onSniffTimeout)
    })
  })
}

function onSniffError(this: Socket, err: Error): void {
  debug('connection error before TLS: %s', err.message)
  this.destroy()
}

function onSniffTimeout(this: Socket): void {
  this.destroy()
}
