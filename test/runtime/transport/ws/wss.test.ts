import { afterEach, beforeEach, describe, expect, it } from 'vitest'
import type { RequestHandler, RpcRequest } from '../../../../runtime/transport/types.js'
import { WsClientTransport, WsServerTransport } from '../../../../runtime/transport/ws/index.js'
import { tls } from '../../../fixtures/tls/index.js'
import { settledHandles, socketHandles } from '../../../helpers/handles.js'
import { code, rejection } from './setup.js'

/** WSS: the WebSocket transports over TLS, server-only and mutual. */
describe('WsClientTransport and WsServerTransport over TLS (wss)', () => {
  const servers: WsServerTransport[] = []
  const clients: WsClientTransport[] = []
  let before: Record<string, number>
  let seen: RpcRequest[]
  const handler: RequestHandler = (request, reply) => {
    seen.push(request)
    reply(null, 'secure hello')
  }

  async function worker(options: ConstructorParameters<typeof WsServerTransport>[0]): Promise<string> {
    const server = new WsServerTransport(options)
    servers.push(server)
    return `127.0.0.1:${await server.listen(handler)}`
  }
  function client(options?: ConstructorParameters<typeof WsClientTransport>[0]): WsClientTransport {
    const transport = new WsClientTransport(options)
    clients.push(transport)
    return transport
  }

  beforeEach(() => {
    before = socketHandles()
    seen = []
  })
  afterEach(async () => {
    await Promise.all(clients.splice(0).map((c) => c.close()))
    await Promise.all(servers.splice(0).map((s) => s.close()))
    expect(await settledHandles(before)).toEqual(before)
  })

  it('serves a client that trusts the worker CA (server-only TLS); the request carries no certificate', async () => {
    const address = await worker({ port: 0, tls: tls.server })
    const caller = client({ tls: { ca: tls.ca } })
    expect(caller.kind).toBe('wss')
    await expect(caller.request(address, 'k', 1, { timeoutMs: 5000 })).resolves.toBe('secure hello')
    expect(seen[0]?.transport).toBe('wss')
    expect(seen[0]?.certificate).toBeUndefined()
  })

  it('hands the handler the caller certificate with mutual TLS', async () => {
    const address = await worker({ port: 0, tls: { ...tls.server, ca: tls.ca, requestCert: true } })
    await expect(
      client({ tls: { ca: tls.ca, ...tls.client } }).request(address, 'k', 1, { timeoutMs: 5000 }),
    ).resolves.toBe('secure hello')
    const certificate = seen[0]?.certificate
    expect(certificate?.fingerprint256).toMatch(/^([0-9A-F]{2}:){31}[0-9A-F]{2}$/)
    expect(certificate?.subject).toBeDefined()
  })

  it('rejects with ERR_TLS when the worker certificate is from a CA the client does not trust', async () => {
    const address = await worker({ port: 0, tls: tls.server })
    const err = await rejection(
      client({ tls: { ca: tls.otherCa } }).request(address, 'k', 1, { timeoutMs: 5000 }),
    )
    expect(err.code).toBe('ERR_TLS')
    expect(seen).toEqual([])
  })

  it('rejects with ERR_TLS when the certificate does not carry the servername asked for', async () => {
    const address = await worker({ port: 0, tls: tls.server })
    const caller = client({ tls: { ca: tls.ca, servername: 'not-this-worker.example' } })
    await expect(code(caller.request(address, 'k', 1, { timeoutMs: 5000 }))).resolves.toBe('ERR_TLS')
  })

  it('rejects with ERR_TLS when a mutual-TLS worker gets no certificate or a stranger one', async () => {
    const address = await worker({ port: 0, tls: { ...tls.server, ca: tls.ca, requestCert: true } })
    await expect(
      code(client({ tls: { ca: tls.ca } }).request(address, 'k', 1, { timeoutMs: 5000 })),
    ).resolves.toBe('ERR_TLS')
    await expect(
      code(client({ tls: { ca: tls.ca, ...tls.stranger } }).request(address, 'k', 1, { timeoutMs: 5000 })),
    ).resolves.toBe('ERR_TLS')
    expect(seen).toEqual([])
  })

  it('lets a worker that asks for certificates accept callers without one when rejectUnauthorized is false', async () => {
    const address = await worker({
      port: 0,
      tls: { ...tls.server, ca: tls.ca, requestCert: true, rejectUnauthorized: false },
    })
    await expect(client({ tls: { ca: tls.ca } }).request(address, 'k', 1, { timeoutMs: 5000 })).resolves.toBe(
      'secure hello',
    )
    expect(seen[0]?.certificate).toBeUndefined()
  })

  it('fails fast with ERR_TRANSPORT_MISMATCH when a wss client dials a plain ws worker', async () => {
    const address = await worker({ port: 0 })
    await expect(
      code(client({ tls: { ca: tls.ca } }).request(address, 'k', 1, { timeoutMs: 20_000 })),
    ).resolves.toBe('ERR_TRANSPORT_MISMATCH')
  })

  it('fails fast with ERR_TRANSPORT_MISMATCH when a plain ws client dials a wss worker (426 in the clear)', async () => {
    const address = await worker({ port: 0, tls: tls.server })
    const started = Date.now()
    const err = await rejection(client().request(address, 'k', 1, { timeoutMs: 20_000 }))
    expect(err.code).toBe('ERR_TRANSPORT_MISMATCH')
    expect(err.message).toContain('HTTP 426')
    expect(Date.now() - started).toBeLessThan(5000)
  })

  it('answers plain HTTPS requests to a wss worker with 426', async () => {
    const address = await worker({ port: 0, tls: tls.server })
    const { Agent, request } = await import('undici')
    const dispatcher = new Agent({ connect: { ca: tls.ca } })
    try {
      const response = await request(`https://${address}/`, { method: 'POST', body: '[]', dispatcher })
      expect(response.statusCode).toBe(426)
      expect(await response.body.text()).toMatch(/^ERR_TRANSPORT_MISMATCH/)
    } finally {
      await dispatcher.close()
    }
  })
})
