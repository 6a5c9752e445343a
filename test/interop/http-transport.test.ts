import { X509Certificate } from 'node:crypto'
import { once } from 'node:events'
import { createRequire } from 'node:module'
import { Server } from 'node:net'
import type { PeerCertificate } from 'node:tls'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { HttpClientTransport, HttpServerTransport } from '../../runtime/transport/http/index.js'
import type { RpcRequest } from '../../runtime/transport/types.js'
import { tls } from '../fixtures/tls/index.js'

/**
 * The reference HTTP transport (grenache-nodejs-http 0.7.13, on `request`) against ours, both
 * ways: its TransportRPCClient, given a `dest` directly (no Link), calls our server transport,
 * and our client transport calls its TransportRPCServer.
 */
const require = createRequire(import.meta.url)

type Callback = (err: Error | null, data?: unknown) => void

interface ReferenceClient {
  request(key: string, payload: unknown, opts: { timeout: number; compress?: boolean }, cb: Callback): void
  requestStream(key: string, opts: { timeout: number; headers?: Record<string, unknown> }): ReferenceStream
  stop(): void
}

interface ReferenceStream {
  write(chunk: string): void
  end(chunk?: string): void
  on(event: 'data', listener: (chunk: Buffer) => void): ReferenceStream
  on(event: 'end', listener: () => void): ReferenceStream
  on(event: 'error', listener: (err: Error) => void): ReferenceStream
}

interface ReferenceHandler {
  reply(err: Error | string | null, data?: unknown): void
}

interface ReferenceServer {
  listen(port: number): ReferenceServer
  on(
    event: 'request',
    listener: (
      rid: string,
      key: string,
      payload: unknown,
      handler: ReferenceHandler,
      cert: PeerCertificate | undefined,
    ) => void,
  ): ReferenceServer
  socket: { address(): { port: number } } | null
  stop(): void
}

/** The reference's TLS settings: key, cert and ca must be Buffers (it asserts so). */
interface ReferenceSecure {
  key: Buffer
  cert: Buffer
  ca: Buffer
  requestCert?: boolean
  rejectUnauthorized?: boolean
}

const ReferenceClientClass = require('grenache-nodejs-http/lib/TransportRPCClient.js') as new (
  peer: null,
  conf: { dest: string; secure?: ReferenceSecure },
) => ReferenceClient
const ReferenceServerClass = require('grenache-nodejs-http/lib/TransportRPCServer.js') as new (
  peer: null,
  conf: Record<string, unknown>,
) => ReferenceServer

/** A reference client call, settled as `{ err, data }`. */
function call(
  client: ReferenceClient,
  key: string,
  payload: unknown,
  opts: { timeout: number; compress?: boolean },
): Promise<{ err: Error | null; data: unknown }> {
  return new Promise((resolve) => client.request(key, payload, opts, (err, data) => resolve({ err, data })))
}

/**
 * Starts the reference server transport on 127.0.0.1. Its `listen(port)` binds every interface;
 * for that one synchronous call, a bare `listen(port)` is pointed at 127.0.0.1.
 */
async function startReferenceServer(
  onRequest: (payload: unknown, handler: ReferenceHandler, cert: PeerCertificate | undefined) => void,
  secure?: ReferenceSecure,
): Promise<{ server: ReferenceServer; address: string }> {
  const server = new ReferenceServerClass(null, secure === undefined ? {} : { secure })
  server.on('request', (_rid, _key, payload, handler, cert) => onRequest(payload, handler, cert))
  const originalListen = Server.prototype.listen
  const listenAll = originalListen as (this: Server, ...args: unknown[]) => Server
  Server.prototype.listen = function listen(this: Server, ...args: unknown[]) {
    if (typeof args[0] === 'number' && args.length === 1) return listenAll.call(this, args[0], '127.0.0.1')
    return listenAll.apply(this, args)
  } as typeof Server.prototype.listen
  try {
    server.listen(0)
  } finally {
    Server.prototype.listen = originalListen
  }
  const socket = server.socket as unknown as Server
  if (!socket.listening) await once(socket, 'listening')
  const bound = socket.address() as { address: string; port: number }
  if (bound.address !== '127.0.0.1') throw new Error(`the reference server bound ${bound.address}`)
  return { server, address: `127.0.0.1:${bound.port}` }
}

describe('grenache-nodejs-http 0.7.13 client against our HttpServerTransport', () => {
  let server: HttpServerTransport
  let client: ReferenceClient
  const seen: RpcRequest[] = []

  beforeAll(async () => {
    server = new HttpServerTransport({ port: 0, maxPayloadBytes: 64 * 1024 })
    const port = await server.listen((request, reply) => {
      seen.push(request)
      if (request.payload === 'hello') reply(null, 'world')
      else if (request.payload === 'fail') reply(new Error('ERR_SOMETHING'))
      else if (request.payload === 'failstr') reply('TOO_SLOW: try later')
      else reply(null, { echo: request.payload })
    })
    client = new ReferenceClientClass(null, { dest: `127.0.0.1:${port}` })
  })
  afterAll(async () => {
    client.stop()
    await server.close()
  })

  it('gets the result of a plain request', async () => {
    await expect(call(client, 'rpc_test', 'hello', { timeout: 5000 })).resolves.toEqual({
      err: null,
      data: 'world',
    })
    expect(seen.at(-1)).toMatchObject({ key: 'rpc_test', payload: 'hello', transport: 'http' })
    expect(seen.at(-1)?.rid).toMatch(/^[0-9a-f-]{36}$/)
  })

  it('gets the result of a gzip request (compress: true)', async () => {
    const payload = { text: 'compress me '.repeat(200), n: [1, 2, 3] }
    await expect(call(client, 'rpc_test', payload, { timeout: 5000, compress: true })).resolves.toEqual({
      err: null,
      data: { echo: payload },
    })
  })

  it('gets an Error reply as an Error with its message', async () => {
    const { err } = await call(client, 'rpc_test', 'fail', { timeout: 5000 })
    expect(err?.message).toBe('ERR_SOMETHING')
  })

  it('gets a string error reply as an Error too (a reference worker sends success + null, G12)', async () => {
    const { err } = await call(client, 'rpc_test', 'failstr', { timeout: 5000 })
    expect(err?.message).toBe('TOO_SLOW: try later')
  })

  it('gets ERR_PAYLOAD_TOO_LARGE for a request over the limit: the 413 body carries its rid', async () => {
    const { err } = await call(client, 'rpc_test', 'x'.repeat(100_000), { timeout: 5000 })
    expect(err?.message).toMatch(/^ERR_PAYLOAD_TOO_LARGE: /)
  })

  it('streams a request with _gr: rid and key come from the header, as the reference worker does', async () => {
    const stream = client.requestStream('rpc_test', {
      timeout: 5000,
      headers: { _a: 'uploadPublic', _ar: { foo: 'bar' } },
    })
    const chunks: Buffer[] = []
    const done = new Promise<string>((resolve, reject) => {
      stream.on('data', (chunk) => chunks.push(chunk))
      stream.on('end', () => resolve(Buffer.concat(chunks).toString()))
      stream.on('error', reject)
    })
    stream.write('["IGNORED-RID", "ignored-key", ')
    stream.end('{"hello":"stream"}]')
    const [rid, err, data] = JSON.parse(await done) as [string, null, unknown]
    expect(rid).toMatch(/^[0-9a-f-]{36}$/)
    expect(err).toBeNull()
    expect(data).toEqual({ echo: { hello: 'stream' } })
    expect(seen.at(-1)).toMatchObject({ rid, key: 'rpc_test' })
  })
})

describe('our HttpClientTransport against the grenache-nodejs-http 0.7.13 server', () => {
  let reference: { server: ReferenceServer; address: string }
  let client: HttpClientTransport
  let gzipClient: HttpClientTransport

  beforeAll(async () => {
    reference = await startReferenceServer((payload, handler) => {
      if (payload === 'hello') handler.reply(null, 'world')
      else if (payload === 'fail') handler.reply(new Error('ERR_SOMETHING: it broke'))
      else if (payload === 'failstr') handler.reply('ERR_STRING')
      else if (payload === 'slow') setTimeout(() => handler.reply(null, 'late'), 1000)
      else handler.reply(null, { echo: payload })
    })
    client = new HttpClientTransport()
    gzipClient = new HttpClientTransport({ compress: true })
  })
  afterAll(async () => {
    await Promise.all([client.close(), gzipClient.close()])
    reference.server.stop()
  })

  it('gets the result of a plain request', async () => {
    await expect(client.request(reference.address, 'rpc_test', 'hello', { timeoutMs: 5000 })).resolves.toBe(
      'world',
    )
  })

  it('gets the result of a gzip request (the reference gzips the reply without Content-Encoding)', async () => {
    const payload = { text: 'compress me '.repeat(200) }
    await expect(
      gzipClient.request(reference.address, 'rpc_test', payload, { timeoutMs: 5000 }),
    ).resolves.toEqual({
      echo: payload,
    })
  })

  it('rejects with ERR_REMOTE and the remote code for an Error reply', async () => {
    await expect(
      client.request(reference.address, 'rpc_test', 'fail', { timeoutMs: 5000 }),
    ).rejects.toMatchObject({
      code: 'ERR_REMOTE',
      remoteCode: 'ERR_SOMETHING',
      message: 'ERR_SOMETHING: it broke',
    })
  })

  it('resolves with null for a string error reply: the reference sends it as success (G12)', async () => {
    await expect(
      client.request(reference.address, 'rpc_test', 'failstr', { timeoutMs: 5000 }),
    ).resolves.toBeNull()
  })

  it('rejects with ERR_TIMEOUT at its own deadline when the reference worker is slow', async () => {
    const start = performance.now()
    await expect(
      client.request(reference.address, 'rpc_test', 'slow', { timeoutMs: 200 }),
    ).rejects.toMatchObject({
      code: 'ERR_TIMEOUT',
    })
    expect(performance.now() - start).toBeLessThan(900)
  })

  it('keeps working on the same connections after a timeout', async () => {
    const results = await Promise.all(
      [1, 2, 3, 4].map((n) => client.request(reference.address, 'rpc_test', n, { timeoutMs: 5000 })),
    )
    expect(results).toEqual([1, 2, 3, 4].map((n) => ({ echo: n })))
  })
})

describe('mutual TLS between the reference and ours', () => {
  const secure = (identity: { key: string; cert: string }, extra: Partial<ReferenceSecure> = {}) => ({
    key: Buffer.from(identity.key),
    cert: Buffer.from(identity.cert),
    ca: Buffer.from(tls.ca),
    ...extra,
  })
  const clientFingerprint = new X509Certificate(tls.client.cert).fingerprint256

  it("a reference client with secure reaches our HTTPS server, whose handler sees the client's certificate", async () => {
    const server = new HttpServerTransport({ port: 0, tls: { ...tls.server, ca: tls.ca, requestCert: true } })
    const port = await server.listen((request, reply) => reply(null, request.certificate?.fingerprint256))
    const client = new ReferenceClientClass(null, { dest: `127.0.0.1:${port}`, secure: secure(tls.client) })
    await expect(call(client, 'rpc_test', 1, { timeout: 5000 })).resolves.toEqual({
      err: null,
      data: clientFingerprint,
    })
    client.stop()
    await server.close()
  })

  it("our HTTPS client reaches a reference secure server, which sees our client's certificate", async () => {
    const reference = await startReferenceServer(
      (_payload, handler, cert) => handler.reply(null, cert?.fingerprint256),
      secure(tls.server, { requestCert: true, rejectUnauthorized: true }),
    )
    const client = new HttpClientTransport({ tls: { ca: tls.ca, ...tls.client } })
    await expect(client.request(reference.address, 'rpc_test', 1, { timeoutMs: 5000 })).resolves.toBe(
      clientFingerprint,
    )
    await client.close()
    reference.server.stop()
  })
})
