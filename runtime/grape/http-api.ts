import {
  createServer,
  type IncomingHttpHeaders,
  type IncomingMessage,
  type Server,
  type ServerResponse,
} from 'node:http'
import {
  busyMessage,
  capConnections,
  httpTimeouts,
  isRefused,
  type ServerLimits,
} from '../transport/shared/server-limits.js'
import type { ApiRefusal } from './api-guard.js'
import type { Answer, Handlers, Operation } from './handlers.js'

const OPERATIONS = new Set<string>(['announce', 'lookup', 'put', 'get'])

/**
 * The operation a request path names, by the reference's rule (a camelCase of the path): the first
 * letter in any case, the rest lower-case, separators (`-`, `_`) only around it. `/lookup`,
 * `/Lookup`, `/-lookup` and `/lookup_` name `lookup`; `/LOOKUP`, `/look-up`, `/lookup/` and
 * `/lookup?x=1` name nothing.
 */
export function operationOf(url: string | undefined): Operation | undefined {
  const match = /^\/[\s_-]*([A-Za-z])([a-z]*)[\s_-]*$/.exec(url ?? '')
  if (!match) return undefined
  const name = `${(match[1] as string).toLowerCase()}${match[2]}`
  return OPERATIONS.has(name) ? (name as Operation) : undefined
}

const INVALID = Symbol('invalid')

/** The `data` of a request body `{rid, data}`, or INVALID when the body is not JSON. */
function requestData(text: string): unknown {
  let message: unknown
  try {
    message = JSON.parse(text)
  } catch {
    return INVALID
  }
  // Like the reference: `null` has no `.data` (500), any other non-object simply carries no data.
  if (message === null) return INVALID
  return typeof message === 'object' ? (message as { data?: unknown }).data : undefined
}

export interface ApiServerOptions {
  handlers: Handlers
  maxPayloadBytes: number
  /** A handler threw (a bug): the request got a 500 and the server keeps serving. */
  onError(error: unknown): void
  /** Judges a request's headers before its body is read (see `createApiGuard`); none: all pass. */
  guard?: (headers: IncomingHttpHeaders) => ApiRefusal | undefined
  /** A request was refused by `guard`: it got a 403 and its connection was closed. */
  onRefused?: (refusal: ApiRefusal) => void
  /** Connection cap and timeouts. */
  limits: ServerLimits
  /**
   * `POST /addresses`, our extension (the reference answers `"ERR_REQ_NOTFOUND"`): where announces
   * through this Grape are stored, so a worker can bind that address (docs/many-hosts.md).
   */
  addresses?: () => Promise<Answer>
}

/** The path of the `addresses` extension. */
export const ADDRESSES_PATH = '/addresses'

/**
 * The Grape's HTTP API: `POST /<op>` with `{rid, data}`. Statuses and bodies are the reference's:
 * 413 `ERR_GRAPE_PAYLOAD_SIZE` and 500 `ERR_GRAPE_PAYLOAD_INVALID` as plain text, everything else
 * from the handler. Method and `rid` are ignored, as by the reference. Headers are ignored too, except
 * by `guard`: a refused request gets 403 with the text `<code>: <why>` and is never dispatched.
 */
export function createApiServer(options: ApiServerOptions): Server {
  const { handlers, maxPayloadBytes } = options

  const answer = (res: ServerResponse, { status, body }: Answer): void => {
    res.statusCode = status
    res.end(body)
  }

  const dispatch = (req: IncomingMessage, res: ServerResponse, text: string): void => {
    const data = requestData(text)
    if (data === INVALID) {
      answer(res, { status: 500, body: 'ERR_GRAPE_PAYLOAD_INVALID' })
      return
    }
    if (req.url === ADDRESSES_PATH && options.addresses) {
      options.addresses().then(
        (settled) => answer(res, settled),
        (err: unknown) => {
          options.onError(err)
          answer(res, { status: 500, body: 'ERR_GRAPE_INTERNAL' })
        },
      )
      return
    }
    const operation = operationOf(req.url)
    if (!operation) {
      answer(res, { status: 200, body: '"ERR_REQ_NOTFOUND"' })
      return
    }
    const failed = (err: unknown): void => {
      options.onError(err)
      answer(res, { status: 500, body: 'ERR_GRAPE_INTERNAL' })
    }
    let result: Answer | Promise<Answer>
    try {
      result = handlers[operation](data)
    } catch (err) {
      failed(err)
      return
    }
    if (result instanceof Promise) result.then((settled) => answer(res, settled), failed)
    else answer(res, result)
  }

  const tooLarge = (res: ServerResponse): void => {
    // The rest of the body is never read: close the connection rather than drain it.
    res.setHeader('Connection', 'close')
    answer(res, { status: 413, body: 'ERR_GRAPE_PAYLOAD_SIZE' })
  }

  const refuse = (res: ServerResponse, refusal: ApiRefusal): void => {
    options.onRefused?.(refusal)
    // The body is never read, and a browser has no business keeping the connection.
    res.setHeader('Connection', 'close')
    res.setHeader('Content-Type', 'text/plain; charset=utf-8')
    res.setHeader('X-Content-Type-Options', 'nosniff')
    answer(res, { status: 403, body: `${refusal.code}: ${refusal.message}` })
  }

  const server = createServer(httpTimeouts(options.limits), (req, res) => {
    if (isRefused(req.socket)) {
      res.setHeader('Connection', 'close')
      return answer(res, { status: 503, body: busyMessage(options.limits) })
    }
    const refusal = options.guard?.(req.headers)
    if (refusal) return refuse(res, refusal)
    const declared = Number(req.headers['content-length'])
    if (declared > maxPayloadBytes) return tooLarge(res)
    const chunks: Buffer[] = []
    let size = 0
    req.on('data', (chunk: Buffer) => {
      size += chunk.length
      if (size > maxPayloadBytes) {
        req.removeAllListeners('data')
        req.removeAllListeners('end')
        req.pause()
        tooLarge(res)
        return
      }
      chunks.push(chunk)
    })
    req.on('end', () => {
      const body = chunks.length === 1 ? (chunks[0] as Buffer) : Buffer.concat(chunks)
      dispatch(req, res, body.toString())
    })
    req.on('error', () => res.destroy())
  })
  // A broken or hostile client must never take the Grape down; Node answers 400 and closes.
  server.on('clientError', (err: NodeJS.ErrnoException, socket) => {
    if (!socket.writable) return socket.destroy()
    const status =
      err.code === 'HPE_HEADER_OVERFLOW' ? '431 Request Header Fields Too Large' : '400 Bad Request'
    socket.end(`HTTP/1.1 ${status}\r\nConnection: close\r\n\r\n`)
  })
  capConnections(server, options.limits)
  return server
}
