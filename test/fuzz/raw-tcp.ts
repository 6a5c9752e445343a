import { connect, type Socket } from 'node:net'

/** What a server did with the bytes of one raw connection. */
export interface RawOutcome {
  /** Everything it sent. */
  received: Buffer
  /** It closed the connection (or reset it) within the bound after our half-close. */
  closed: boolean
}

export interface RawOptions {
  /** With nothing received for this long after the last write or data, we half-close. */
  quietMs?: number
  /** After our half-close, how long the server has to close its side: past it, a hang. */
  closeMs?: number
  /** True once `received` holds a whole answer: we half-close at once instead of waiting. */
  complete?: (received: Buffer) => boolean
  /** The time between two writes of `parts`, so a server sees them as separate reads. */
  gapMs?: number
}

/** Raw sockets still open, so a failed test can destroy them before checking handles. */
const open = new Set<Socket>()

export function destroyRawSockets(): void {
  for (const socket of open) socket.destroy()
}

/**
 * Opens a TCP connection to 127.0.0.1:`port`, writes `parts`, reads until the answer is complete
 * or the server goes quiet, half-closes, and waits (bounded) for the server to close. Never
 * rejects: a reset counts as a close.
 */
export function rawExchange(
  port: number,
  parts: readonly Uint8Array[],
  options: RawOptions = {},
): Promise<RawOutcome> {
  const { quietMs = 150, closeMs = 3000, complete, gapMs = 1 } = options
  return new Promise((resolve) => {
    const socket = connect(port, '127.0.0.1')
    open.add(socket)
    const chunks: Buffer[] = []
    let quiet: NodeJS.Timeout | undefined
    let deadline: NodeJS.Timeout | undefined
    let written = false
    let settled = false
    const finish = (closed: boolean): void => {
      if (settled) return
      settled = true
      clearTimeout(quiet)
      clearTimeout(deadline)
      open.delete(socket)
      socket.destroy()
      resolve({ received: Buffer.concat(chunks), closed })
    }
    const halfClose = (): void => {
      clearTimeout(quiet)
      if (deadline !== undefined || settled) return
      socket.end()
      deadline = setTimeout(() => finish(false), closeMs)
    }
    const rearm = (): void => {
      if (!written || deadline !== undefined) return
      clearTimeout(quiet)
      quiet = setTimeout(halfClose, quietMs)
    }
    socket.on('data', (chunk: Buffer) => {
      chunks.push(chunk)
      if (complete?.(Buffer.concat(chunks))) halfClose()
      else rearm()
    })
    socket.on('error', () => finish(true))
    socket.on('close', () => finish(true))
    socket.on('connect', async () => {
      for (const part of parts) {
        if (!socket.writable) break
        socket.write(part)
        if (parts.length > 1) await new Promise((r) => setTimeout(r, gapMs))
      }
      written = true
      rearm()
    })
  })
}

/** The first HTTP response in `bytes`: status, headers (lower-case names) and body, when whole. */
export interface HttpAnswer {
  status: number
  headers: Record<string, string>
  body: Buffer
  /** The body is all there (by its Content-Length, or the connection closed after it). */
  whole: boolean
}

/**
 * Parses the first final response (after any `100 Continue`); undefined when `bytes` do not start
 * with an HTTP/1.1 status line.
 */
export function firstResponse(bytes: Buffer, closed = false): HttpAnswer | undefined {
  const interim = /^HTTP\/1\.1 1\d\d [^\r\n]*\r\n\r\n/.exec(bytes.toString('latin1', 0, 200))
  if (interim) return firstResponse(bytes.subarray(interim[0].length), closed)
  const end = bytes.indexOf('\r\n\r\n')
  if (end === -1) return undefined
  const [statusLine = '', ...lines] = bytes.subarray(0, end).toString('latin1').split('\r\n')
  const match = /^HTTP\/1\.1 (\d{3}) /.exec(statusLine)
  if (!match) return undefined
  const headers: Record<string, string> = {}
  for (const line of lines) {
    const colon = line.indexOf(':')
    if (colon > 0) headers[line.slice(0, colon).trim().toLowerCase()] = line.slice(colon + 1).trim()
  }
  const rest = bytes.subarray(end + 4)
  if (/chunked/i.test(headers['transfer-encoding'] ?? ''))
    return { status: Number(match[1]), headers, ...dechunk(rest) }
  const length = headers['content-length']
  if (length !== undefined) {
    const size = Number(length)
    return { status: Number(match[1]), headers, body: rest.subarray(0, size), whole: rest.length >= size }
  }
  return { status: Number(match[1]), headers, body: rest, whole: closed }
}

/** A chunked body, decoded as far as it goes. */
function dechunk(bytes: Buffer): { body: Buffer; whole: boolean } {
  const parts: Buffer[] = []
  let at = 0
  for (;;) {
    const eol = bytes.indexOf('\r\n', at)
    if (eol === -1) return { body: Buffer.concat(parts), whole: false }
    const size = Number.parseInt(bytes.toString('latin1', at, eol), 16)
    if (!Number.isFinite(size)) return { body: Buffer.concat(parts), whole: false }
    if (size === 0) return { body: Buffer.concat(parts), whole: true }
    parts.push(bytes.subarray(eol + 2, eol + 2 + size))
    at = eol + 2 + size + 2
  }
}

/** `complete` for `rawExchange`: a whole first response with a Content-Length. */
export function hasWholeResponse(bytes: Buffer): boolean {
  const answer = firstResponse(bytes)
  return answer !== undefined && answer.headers['content-length'] !== undefined && answer.whole
}
