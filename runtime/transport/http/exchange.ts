import { IncomingMessage, type ServerResponse } from 'node:http'
import type { Socket } from 'node:net'
import type { PeerCertificate, TLSSocket } from 'node:tls'
import { gunzip, gzip } from 'node:zlib'
import { GrenacheError } from '../../errors.js'
import {
  decodeRequest,
  encodeHandlerReply,
  encodeReply,
  errorMessage,
  peekRequestId,
  type RequestEnvelope,
} from '../envelope.js'
import type { ConnectionBounds } from '../shared/in-flight.js'
import { ConnectionRequest } from '../shared/rpc-request.js'
import { isRefused } from '../shared/server-limits.js'
import type { RequestHandler, RpcRequest } from '../types.js'

/** What every exchange of one server shares. */
export interface ExchangeContext {
  readonly kind: 'http' | 'https'
  readonly maxPayloadBytes: number
  /** Mutual TLS: hand the caller's certificate to the handler. */
  readonly peerCertificates: boolean
  handler: RequestHandler
  /** The server is closing: replies close their connection. */
  closing: boolean
  /** The refusal of a connection past `maxConnections`. */
  readonly busy: string
  /** What one connection may hold: requests not yet flushed, and their reply bytes. */
  readonly bounds: ConnectionBounds
}

/** On each connection: its requests not answered yet (close() ends the connections without any). */
export const kInFlight = Symbol('grenache.http.inFlight')

/** A connection of the server, with its count of requests in flight. */
export interface TrackedSocket extends Socket {
  [kInFlight]: number
  [kLoad]?: Load
}

/**
 * What a connection holds: exchanges whose reply is not flushed yet and their bytes. Past a bound
 * its next requests wait in `backlog` unread and the socket is paused, until replies flush: a
 * caller that pipelines requests and never reads cannot make the worker hold their replies
 * (node:http alone stops only after a whole read of requests, ~1000 small ones).
 */
interface Load {
  open: number
  unsent: number
  backlog: RpcIncomingMessage[] | undefined
}

const kLoad = Symbol('grenache.http.load')
const kBytes = Symbol('grenache.http.bytes')

const EMPTY = Buffer.alloc(0)
/** How much of an oversized body is searched for its rid. */
const RID_HEAD_BYTES = 512
const certificates = new WeakMap<object, PeerCertificate | undefined>()

/**
 * One request and its reply: node:http builds it (the server's `IncomingMessage` class), and it
 * keeps the body read so far and the reply state, so the body listeners need no closure.
 */
export class RpcIncomingMessage extends IncomingMessage {
  context: ExchangeContext | undefined = undefined
  response: ServerResponse | undefined = undefined
  /** The body: its first chunk, then every chunk once there are two. */
  first: Buffer | undefined = undefined
  chunks: Buffer[] | undefined = undefined
  size = 0
  compress = false
  tooLarge = false
  replied = false
  rid: unknown = null
  /** rid and key from a `_gr` header (stream-mode clients); they override the body's. */
  headerRid: unknown = undefined
  headerKey: string | undefined = undefined
}

/** Starts an exchange: checks the headers, then reads the body (the server's `request` listener). */
export function startExchange(context: ExchangeContext, req: RpcIncomingMessage, res: ServerResponse): void {
  req.context = context
  req.response = res
  const socket = req.socket as TrackedSocket
  socket[kInFlight]++
  let load = socket[kLoad]
  if (load === undefined) {
    load = { open: 0, unsent: 0, backlog: undefined }
    socket[kLoad] = load
  }
  load.open++
  const headers = req.headers
  if (isRefused(req.socket)) {
    sendStatus(req, 503, encodeReply(null, context.busy, null), true)
    return
  }
  if (headers.upgrade !== undefined) {
    // A WebSocket client dialled an HTTP worker: say so at once rather than leave it waiting.
    const message = `ERR_TRANSPORT_MISMATCH: this port speaks Grenache RPC over ${context.kind.toUpperCase()}, not ${String(headers.upgrade)}`
    sendStatus(req, 400, encodeReply(null, message, null), true)
    return
  }
  const gr = headers._gr
  if (typeof gr === 'string' && !readGrHeader(req, gr)) {
    // The reference's answer, byte for byte.
    sendStatus(req, 500, '[null, "ERR_HEADER_PARSE_GR", null]', false)
    return
  }
  const compress = headers['grc-compress']
  req.compress = typeof compress === 'string' && compress.includes('gzip')
  if (load.backlog !== undefined) {
    // node:http resumes a socket whose replies drained: it stays paused while requests wait.
    load.backlog.push(req)
    socket.pause()
    return
  }
  if (overLoaded(load, context.bounds)) {
    load.backlog = [req]
    socket.pause()
    return
  }
  readBody(req)
}

function readBody(req: RpcIncomingMessage): void {
  req.on('data', onBodyData)
  req.on('end', onBodyEnd)
}

function overLoaded(load: Load, bounds: ConnectionBounds): boolean {
  return load.open > bounds.maxInFlight || load.unsent > bounds.maxUnsentBytes
}

/** A reply was flushed to the kernel (its `finish`): the requests waiting may go on. */
function onResponseFinish(this: ServerResponse & { [kBytes]?: number }): void {
  const req = this.req as RpcIncomingMessage
  const socket = req.socket as TrackedSocket
  const load = socket[kLoad]
  if (load === undefined) return
  load.open--
  load.unsent -= this[kBytes] ?? 0
  if (load.backlog !== undefined) releaseBacklog(socket, load, (req.context as ExchangeContext).bounds)
}

/** Reads the requests that waited, as far as the bounds allow; resumes the socket once none wait. */
function releaseBacklog(socket: TrackedSocket, load: Load, bounds: ConnectionBounds): void {
  const backlog = load.backlog as RpcIncomingMessage[]
  // `open` counts the requests waiting too; the others are being read, handled or flushed.
  while (
    backlog.length > 0 &&
    load.open - backlog.length < bounds.maxInFlight &&
    load.unsent <= bounds.maxUnsentBytes / 2
  ) {
    readBody(backlog.shift() as RpcIncomingMessage)
  }
  if (backlog.length === 0) {
    load.backlog = undefined
    socket.resume()
  }
}

/** Reads `_gr: [rid, key]`; false when it is not JSON. */
function readGrHeader(req: RpcIncomingMessage, header: string): boolean {
  let info: unknown
  try {
    info = JSON.parse(header)
  } catch {
    return false
  }
  // As the reference: a truthy element overrides the body's (a key only when it is a string).
  if (Array.isArray(info)) {
    if (info[0]) req.headerRid = info[0]
    if (typeof info[1] === 'string' && info[1] !== '') req.headerKey = info[1]
  }
  return true
}

function onBodyData(this: RpcIncomingMessage, chunk: Buffer): void {
  if (this.tooLarge) return
  const size = this.size + chunk.length
  this.size = size
  if (size > (this.context as ExchangeContext).maxPayloadBytes) {
    this.tooLarge = true
    refuseTooLarge(this, bodyHead(this, chunk))
    this.first = this.chunks = undefined
  } else if (this.first === undefined) this.first = chunk
  else if (this.chunks === undefined) this.chunks = [this.first, chunk]
  else this.chunks.push(chunk)
}

/** The first bytes of the body so far and `chunk`, where the rid is. */
function bodyHead(req: RpcIncomingMessage, chunk: Buffer): Buffer {
  const parts = req.chunks ?? (req.first === undefined ? [] : [req.first])
  parts.push(chunk)
  let length = 0
  let count = 0
  while (count < parts.length && length < RID_HEAD_BYTES) length += (parts[count++] as Buffer).length
  return count === 1 ? (parts[0] as Buffer) : Buffer.concat(parts.slice(0, count))
}

function onBodyEnd(this: RpcIncomingMessage): void {
  if (this.tooLarge) return
  const body = this.chunks !== undefined ? Buffer.concat(this.chunks, this.size) : (this.first ?? EMPTY)
  this.first = this.chunks = undefined
  if (this.compress) gunzipBody(this, body)
  else dispatch(this, body.toString())
}

function gunzipBody(req: RpcIncomingMessage, body: Buffer): void {
  const limit = (req.context as ExchangeContext).maxPayloadBytes
  gunzip(body, { maxOutputLength: limit }, (err, text) => {
    if (err && (err as { code?: string }).code === 'ERR_BUFFER_TOO_LARGE') refuseTooLarge(req, EMPTY)
    // As the reference: a body that does not gunzip is used as it came.
    else dispatch(req, (err ? body : text).toString())
  })
}

/** Decodes the request and hands it to the handler. */
function dispatch(req: RpcIncomingMessage, text: string): void {
  const context = req.context as ExchangeContext
  let envelope: RequestEnvelope
  try {
    envelope = req.headerKey === undefined ? decodeRequest(text) : decodeStreamRequest(text, req.headerKey)
  } catch (err) {
    sendStatus(req, 400, encodeReply(req.headerRid ?? null, err, null), false)
    return
  }
  const rid = req.headerRid ?? envelope.rid
  req.rid = rid
  const request: RpcRequest = new ConnectionRequest(
    rid,
    envelope.key,
    envelope.payload,
    context.kind,
    context.peerCertificates ? peerCertificate(req) : undefined,
    () => connectionClosed(req.socket),
  )
  try {
    context.handler(request, (error, result) => reply(req, error, result))
  } catch (err) {
    // A handler that throws answers with what it threw (even `throw null` is an error).
    reply(req, errorMessage(err) ?? `ERR_INTERNAL: the handler threw ${String(err)}`, undefined)
  }
}

/** A stream-mode body: any JSON array, whose key `_gr` gives when the body has none. */
function decodeStreamRequest(text: string, key: string): RequestEnvelope {
  let value: unknown
  try {
    value = JSON.parse(text)
  } catch {
    throw new GrenacheError('ERR_BAD_REQUEST', 'ERR_BAD_REQUEST: the request is not JSON')
  }
  if (!Array.isArray(value)) {
    throw new GrenacheError('ERR_BAD_REQUEST', 'ERR_BAD_REQUEST: the request is not [rid, key, payload]')
  }
  return { rid: value[0], key, payload: value[2] }
}

/** The handler's `reply`: the first call answers, later ones are ignored. */
function reply(req: RpcIncomingMessage, error: unknown, result: unknown): void {
  if (req.replied) return
  req.replied = true
  const text = encodeHandlerReply(req.rid, error, result)
  if (!req.compress) {
    writeResponse(req, 200, text, false)
    return
  }
  // The reply of a gzip request is gzipped too, without Content-Encoding (as the reference).
  gzip(text, (err, compressed) => writeResponse(req, 200, err ? text : compressed, false))
}

/** Answers with `status` unless the handler already did. */
function sendStatus(req: RpcIncomingMessage, status: number, body: string, close: boolean): void {
  if (req.replied) return
  req.replied = true
  writeResponse(req, status, body, close)
}

/**
 * 413 with the rid read from the first bytes, and the connection closes after it: the rest of
 * the body is not worth reading.
 */
function refuseTooLarge(req: RpcIncomingMessage, head: Buffer): void {
  const context = req.context as ExchangeContext
  const rid = req.headerRid ?? readRid(head)
  const message = `ERR_PAYLOAD_TOO_LARGE: the request is larger than ${context.maxPayloadBytes} bytes`
  sendStatus(req, 413, encodeReply(rid, message, null), true)
}

function readRid(head: Buffer): unknown {
  const raw = peekRequestId(head.toString('utf8', 0, Math.min(head.length, RID_HEAD_BYTES)))
  if (raw === undefined) return null
  try {
    return JSON.parse(`"${raw}"`)
  } catch {
    return null
  }
}

/** Writes the one response of an exchange. */
function writeResponse(req: RpcIncomingMessage, status: number, body: string | Buffer, close: boolean): void {
  ;(req.socket as TrackedSocket)[kInFlight]--
  const res = req.response as ServerResponse
  if (res.headersSent || res.destroyed) return
  if (close || (req.context as ExchangeContext).closing) res.shouldKeepAlive = false
  const bytes = typeof body === 'string' ? Buffer.byteLength(body) : body.length
  res.writeHead(status, { 'content-length': bytes })
  res.end(body)
  const socket = req.socket as TrackedSocket
  const load = socket[kLoad]
  if (load === undefined) return
  // Nearly always the reply went to the kernel inside end(): the exchange is over, and no
  // per-reply `finish` listener is paid for. Otherwise (a caller slow to read, or earlier
  // pipelined replies still queued) its bytes count until it flushes.
  if (res.writableLength === 0) {
    load.open--
    if (load.backlog !== undefined) releaseBacklog(socket, load, (req.context as ExchangeContext).bounds)
    return
  }
  load.unsent += bytes
  ;(res as ServerResponse & { [kBytes]?: number })[kBytes] = bytes
  res.once('finish', onResponseFinish)
}

const closedSignals = new WeakMap<Socket, AbortSignal>()

/** One signal per connection that aborts when its socket closes (`RpcRequest.closed`). */
function connectionClosed(socket: Socket): AbortSignal {
  let signal = closedSignals.get(socket)
  if (signal) return signal
  const controller = new AbortController()
  signal = controller.signal
  closedSignals.set(socket, signal)
  const abort = (): void =>
    controller.abort(new GrenacheError('ERR_CONNECTION_RESET', 'the caller closed the connection'))
  if (socket.destroyed) abort()
  else socket.once('close', abort)
  return signal
}

/** The caller's certificate, read once per connection; undefined when it sent none. */
function peerCertificate(req: RpcIncomingMessage): PeerCertificate | undefined {
  const socket = req.socket as TLSSocket
  if (certificates.has(socket)) return certificates.get(socket)
  const certificate = socket.getPeerCertificate?.()
  const found = certificate?.fingerprint256 ? certificate : undefined
  certificates.set(socket, found)
  return found
}
