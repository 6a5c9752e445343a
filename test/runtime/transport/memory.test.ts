import { afterEach, describe, expect, it } from 'vitest'
import { MemoryClientTransport, MemoryServerTransport } from '../../../runtime/transport/memory.js'
import type { RequestHandler } from '../../../runtime/transport/types.js'

describe('memory transport', () => {
  const servers: MemoryServerTransport[] = []
  afterEach(async () => {
    await Promise.all(servers.splice(0).map((server) => server.close()))
  })

  async function listen(handler: RequestHandler, options: { maxPayloadBytes?: number; port?: number } = {}) {
    const server = new MemoryServerTransport({ port: options.port ?? 0, ...options })
    servers.push(server)
    const port = await server.listen(handler)
    return `127.0.0.1:${port}`
  }

  const call = { timeoutMs: 5000 }

  it('carries requests through JSON, as a socket would', async () => {
    const address = await listen((request, reply) =>
      reply(null, { payload: request.payload, transport: request.transport }),
    )
    const client = new MemoryClientTransport()
    const sent = { date: new Date(0), gone: undefined, list: [1, undefined] }
    await expect(client.request(address, 'k', sent, call)).resolves.toEqual({
      payload: { date: '1970-01-01T00:00:00.000Z', list: [1, null] },
      transport: 'memory',
    })
    expect(client.isWarm(address)).toBe(true)
    expect(client.isWarm('127.0.0.1:65000')).toBe(false)
  })

  it('answers a request over the limit with ERR_PAYLOAD_TOO_LARGE', async () => {
    const address = await listen((_request, reply) => reply(null, 'ok'), { maxPayloadBytes: 100 })
    const client = new MemoryClientTransport()
    await expect(client.request(address, 'k', 'x'.repeat(200), call)).rejects.toMatchObject({
      code: 'ERR_REMOTE',
      remoteCode: 'ERR_PAYLOAD_TOO_LARGE',
    })
  })

  it('refuses a taken port and an address nobody listens on', async () => {
    const address = await listen((_request, reply) => reply(null))
    const port = Number(address.split(':')[1])
    await expect(new MemoryServerTransport({ port }).listen(() => undefined)).rejects.toMatchObject({
      code: 'ERR_ADDRESS_IN_USE',
    })
    await expect(new MemoryClientTransport().request('127.0.0.1:65001', 'k', 1, call)).rejects.toMatchObject({
      code: 'ERR_CONNECTION_REFUSED',
    })
  })

  it('answers the first reply only', async () => {
    const address = await listen((_request, reply) => {
      reply(null, 'first')
      reply(null, 'second')
    })
    await expect(new MemoryClientTransport().request(address, 'k', 1, call)).resolves.toBe('first')
  })

  it('rejects with ERR_CLOSED after close()', async () => {
    const client = new MemoryClientTransport()
    await client.close()
    await expect(client.request('127.0.0.1:1', 'k', 1, call)).rejects.toMatchObject({ code: 'ERR_CLOSED' })
  })
})
