import { X509Certificate } from 'node:crypto'
import { once } from 'node:events'
import { createServer as createHttpsServer } from 'node:https'
import { connect } from 'node:net'
import { performance } from 'node:perf_hooks'
import type { TLSSocket } from 'node:tls'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { HttpClientTransport, HttpServerTransport } from '../../../../runtime/transport/http/index.js'
import type { RpcRequest } from '../../../../runtime/transport/types.js'
import { tls } from '../../../fixtures/tls/index.js'
import { settledHandles, socketHandles } from '../../../helpers/handles.js'
import { code, echo, rejection, type StartedServer, startServer } from './helpers.js'

const fingerprint = (pem: string) => new X509Certificate(pem).fingerprint256

describe('HTTPS', () => {
  const before = socketHandles()
  const clients: HttpClientTransport[] = []
  /** A client transport closed after the suite. */
  const client = (options: ConstructorParameters<typeof HttpClientTransport>[0]) => {
    const transport = new HttpClientTransport(options)
    clients.push(transport)
    return transport
  }
  afterAll(async () => {
    await Promise.all(clients.map((transport) => transport.close()))
    expect(await settledHandles(before)).toEqual(before)
  })

  describe('with server-only TLS', () => {
    let worker: StartedServer
    const seen: RpcRequest[] = []

    beforeAll(async () => {
      worker = await startServer(
        (request, reply) => {
          seen.push(request)
          echo(request, reply)
        },
        { tls: tls.server },
      )
    })
    afterAll(() => worker.server.close())

    it('answers a client that trusts its CA; the handler sees https and no certificate', async () => {
      const trusting = client({ tls: { ca: tls.ca } })
      expect(trusting.kind).toBe('https')
      expect(worker.server.kind).toBe('https')
      await expect(trusting.request(worker.address, 'k', { n: 1 }, { timeoutMs: 5000 })).resolves.toEqual({
        key: 'k',
        payload: { n: 1 },
      })
      expect(seen.at(-1)).toMatchObject({ transport: 'https', certificate: undefined })
    })

    it('gzips over TLS too', async () => {
      const gzip = client({ tls: { ca: tls.ca }, compress: true })
      await expect(gzip.request(worker.address, 'k', 'zip', { timeoutMs: 5000 })).resolves.toEqual({
        key: 'k',
        payload: 'zip',
      })
    })

    it('rejects with ERR_TLS when the client trusts another CA', async () => {
      const error = await rejection(
        client({ tls: { ca: tls.otherCa } }).request(worker.address, 'k', 1, { timeoutMs: 5000 }),
      )
      expect(error.code).toBe('ERR_TLS')
      expect(error.message).toContain(`https ${worker.address}`)
    })

    it('rejects with ERR_TLS when the client trusts nothing given (system CAs only)', async () => {
      await expect(
        code(client({ tls: {} }).request(worker.address, 'k', 1, { timeoutMs: 5000 })),
      ).resolves.toBe('ERR_TLS')
    })

    it('accepts any certificate with rejectUnauthorized: false', async () => {
      const lax = client({ tls: { ca: tls.otherCa, rejectUnauthorized: false } })
      await expect(lax.request(worker.address, 'k', 2, { timeoutMs: 5000 })).resolves.toEqual({
        key: 'k',
        payload: 2,
      })
    })

    it('rejects with ERR_TLS when the certificate does not carry the servername', async () => {
      const named = client({ tls: { ca: tls.ca, servername: 'worker.example.com' } })
      await expect(code(named.request(worker.address, 'k', 1, { timeoutMs: 5000 }))).resolves.toBe('ERR_TLS')
    })

    it('answers a plain HTTP client with 426: ERR_TRANSPORT_MISMATCH at once', async () => {
      const plain = client({})
      const start = performance.now()
      const error = await rejection(plain.request(worker.address, 'k', 1, { timeoutMs: 10_000 }))
      expect(error.code).toBe('ERR_TRANSPORT_MISMATCH')
      expect(error.message).toContain('426')
      expect(performance.now() - start).toBeLessThan(5000)
    })

    it('closes connections that never sent a byte when it closes', async () => {
      const silent = await startServer(echo, { tls: tls.server, drainTimeoutMs: 10_000 })
      const socket = connect(silent.port, '127.0.0.1')
      socket.on('error', () => {})
      await once(socket, 'connect')
      const start = performance.now()
      await silent.server.close()
      expect(performance.now() - start).toBeLessThan(5000)
      if (!socket.closed) await once(socket, 'close')
    })
  })

  describe('an HTTPS client against an HTTP worker', () => {
    it('rejects with ERR_TRANSPORT_MISMATCH at once', async () => {
      const plain = await startServer(echo)
      const secure = client({ tls: { ca: tls.ca } })
      const start = performance.now()
      await expect(code(secure.request(plain.address, 'k', 1, { timeoutMs: 10_000 }))).resolves.toBe(
        'ERR_TRANSPORT_MISMATCH',
      )
      expect(performance.now() - start).toBeLessThan(5000)
      await plain.server.close()
    })
  })

  describe('with mutual TLS', () => {
    let worker: StartedServer
    const seen: RpcRequest[] = []

    beforeAll(async () => {
      worker = await startServer(
        (request, reply) => {
          seen.push(request)
          echo(request, reply)
        },
        { tls: { ...tls.server, ca: tls.ca, requestCert: true } },
      )
    })
    afterAll(() => worker.server.close())

    it("hands the caller's certificate to the handler: fingerprint256 identifies it", async () => {
      const mutual = client({ tls: { ca: tls.ca, ...tls.client } })
      await mutual.request(worker.address, 'k', 1, { timeoutMs: 5000 })
      await mutual.request(worker.address, 'k', 2, { timeoutMs: 5000 })
      for (const request of seen.slice(-2)) {
        expect(request.transport).toBe('https')
        expect(request.certificate?.fingerprint256).toBe(fingerprint(tls.client.cert))
      }
    })

    // TLS 1.3: the client finishes its handshake before the worker checks the client's
    // certificate. A worker refusing a missing certificate sends an alert, one refusing an
    // untrusted certificate closes the connection, and undici reports the connection's end in
    // both cases (observed: always the reset); either way the request fails at once with a code.
    it.each([
      ['without a certificate', { ca: tls.ca }],
      ['with a certificate from another CA', { ca: tls.ca, ...tls.stranger }],
    ])('refuses a client %s: ERR_CONNECTION_RESET (or ERR_TLS), at once', async (_name, options) => {
      const calls = seen.length
      const start = performance.now()
      const result = await code(
        client({ tls: options }).request(worker.address, 'k', 1, { timeoutMs: 10_000 }),
      )
      expect(result).toMatch(/^ERR_(CONNECTION_RESET|TLS)$/)
      expect(performance.now() - start).toBeLessThan(5000)
      expect(seen.length).toBe(calls)
    })

    it('accepts any caller with rejectUnauthorized: false, and says who it is when it can', async () => {
      const lax = await startServer(
        (request, reply) => reply(null, request.certificate?.fingerprint256 ?? 'anonymous'),
        { tls: { ...tls.server, ca: tls.ca, requestCert: true, rejectUnauthorized: false } },
      )
      await expect(
        client({ tls: { ca: tls.ca } }).request(lax.address, 'k', 1, { timeoutMs: 5000 }),
      ).resolves.toBe('anonymous')
      await expect(
        client({ tls: { ca: tls.ca, ...tls.stranger } }).request(lax.address, 'k', 1, { timeoutMs: 5000 }),
      ).resolves.toBe(fingerprint(tls.stranger.cert))
      await lax.server.close()
    })
  })

  describe('TLS sessions', () => {
    it('resumes the TLS session on a new connection to the same worker', async () => {
      const reused: boolean[] = []
      const server = createHttpsServer({ ...tls.server }, (req, res) => {
        const chunks: Buffer[] = []
        req.on('data', (chunk: Buffer) => chunks.push(chunk))
        req.on('end', () => {
          const [rid] = JSON.parse(Buffer.concat(chunks).toString()) as [string]
          setTimeout(() => res.end(JSON.stringify([rid, null, 'ok'])), 20)
        })
      })
      server.on('secureConnection', (socket: TLSSocket) => reused.push(socket.isSessionReused()))
      server.listen(0, '127.0.0.1')
      await once(server, 'listening')
      const address = `127.0.0.1:${(server.address() as { port: number }).port}`
      const resuming = new HttpClientTransport({ tls: { ca: tls.ca } })
      await resuming.request(address, 'k', 1, { timeoutMs: 5000 })
      // Two at once: the second needs a new connection.
      await Promise.all([1, 2].map((n) => resuming.request(address, 'k', n, { timeoutMs: 5000 })))
      expect(reused[0]).toBe(false)
      expect(reused.slice(1)).toContain(true)
      await resuming.close()
      server.closeAllConnections()
      await new Promise<void>((resolve) => server.close(() => resolve()))
    })
  })

  describe('options', () => {
    it('requires a certificate and key for the server', () => {
      expect(() => new HttpServerTransport({ port: 0, tls: { cert: tls.server.cert } })).toThrow(/tls/)
      expect(
        () => new HttpServerTransport({ port: 0, tls: { ...tls.server, requestCert: 1 as never } }),
      ).toThrow(/requestCert/)
    })

    it("takes an explicit kind: 'https' without tls trusts the system CAs, 'http' with tls is refused", () => {
      expect(new HttpClientTransport({ kind: 'https' }).kind).toBe('https')
      expect(new HttpClientTransport({ kind: 'http' }).kind).toBe('http')
      expect(() => new HttpClientTransport({ kind: 'http', tls: { ca: tls.ca } })).toThrow(/options\.tls/)
      expect(() => new HttpClientTransport({ kind: 'ws' as never })).toThrow(/options\.kind/)
      expect(new HttpServerTransport({ port: 0, kind: 'https', tls: tls.server }).kind).toBe('https')
      expect(() => new HttpServerTransport({ port: 0, kind: 'https' })).toThrow(/options\.tls/)
      expect(() => new HttpServerTransport({ port: 0, kind: 'http', tls: tls.server })).toThrow(
        /options\.tls/,
      )
    })

    it('rejects a client servername or rejectUnauthorized of the wrong type', () => {
      expect(() => new HttpClientTransport({ tls: { servername: '' } })).toThrow(/servername/)
      expect(() => new HttpClientTransport({ tls: { rejectUnauthorized: 'no' as never } })).toThrow(
        /rejectUnauthorized/,
      )
    })
  })
})
