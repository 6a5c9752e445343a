import type { Duplex } from 'node:stream'
import type WebSocket from 'ws'

/** Sends one frame on a WebSocket; `binary` as in `ws.send` (default: a Buffer is binary). */
export type FrameSender = (data: string | Buffer, options?: { binary: boolean }) => void

/**
 * A sender that writes every frame sent in the same tick in one system call: the first frame of a
 * tick corks the TCP (or TLS) socket under the WebSocket and the next tick uncorks it. ws writes
 * each frame with its own `writev`, which is most of the CPU a small message costs; with many
 * requests in flight (or a burst of published messages) this halves it. A frame is never held
 * past the current tick. Falls back to plain `send` if ws's socket is not reachable.
 */
export function batchedSender(socket: WebSocket): FrameSender {
  // ws keeps the socket it frames on as `_socket` (set once the connection is open).
  const stream = (socket as unknown as { _socket?: Duplex | null })._socket
  const send: FrameSender = (data, options) => {
    if (options === undefined) socket.send(data)
    else socket.send(data, options)
  }
  if (!stream || typeof stream.cork !== 'function') return send
  let corked = false
  const uncork = (): void => {
    corked = false
    stream.uncork()
  }
  return (data, options) => {
    if (!corked) {
      corked = true
      stream.cork()
      process.nextTick(uncork)
    }
    send(data, options)
  }
}
