import { X509Certificate } from 'node:crypto'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { GrenacheError } from '../../../runtime/errors.js'
import { type Handler, RpcClient, RpcServer } from '../../../runtime/peer/index.js'
import type { TransportKind } from '../../../runtime/transport/types.js'
import { tls } from '../../fixtures/tls/index.js'
import { settledHandles, socketHandles } from '../../helpers/handles.js'
import { sendMalformed } from '../../helpers/raw-send.js'
import { killAllWorkers, killWorker, spawnWorker } from '../../helpers/spawn-worker.js'
import { StaticDiscovery } from '../../helpers/static-discovery.js'
import { createTestnet, type Testnet } from '../../helpers/testnet.js'

/** The same behaviour, on every transport. */
const KINDS: TransportKind[] = ['memory', 'http', 'https', 'ws', 'wss', 'zmq']
const SECURE = new Set<TransportKind>(['https', 'wss'])
const LIMIT = 64 * 1024

const code = (promise: Promise<unknown>) =>
  promise.then(
    () => 'resolved',
    (err: unknown) => (err instanceof GrenacheError ? err.code : `not a GrenacheError: ${String(err)}`),
  )

let busyRuns = 0
const handlers: Record<string, Handler> = {
  echo: (request, reply) => reply(null, request.payload),
  fail: (_request, reply) => reply(new Error('TOO_SLOW: n is too large')),
  'fail-string': (_request, reply) => reply('NOT_ALLOWED'),
  'fail-busy': (_request, reply) => {
    busyRuns++
    reply(new GrenacheError('ERR_BUSY', 'ERR_BUSY: a call of its own was refused'))
  },
  hang: () => undefined,
  slow: (request, reply) => setTimeout(() => reply(null, request.payload), 300),
  whoami: (request, reply) => reply(null, request.certificate?.fingerprint256 ?? null),
}

const clientFingerprint = new X509Certificate(tls.client.cert).fingerprint256

/** Just over 16 KiB of order-like records, as in the perf baseline. */
const orders = Array.from({ length: 280 }, (_, i) => ({
  id: i,
  price: 100 + i / 7,
  amount: i % 13,
  side: 'buy',
}))

describe.each(KINDS)('the %s transport', (kind) => {
  let net: Testnet
  const servers: RpcServer[] = []
  let client: RpcClient
  const before = socketHandles()
  const secure = SECURE.has(kind)

  function server(extra: Record<string, Handler> = {}): RpcServer {
    const rpc = new RpcServer({
      link: net.link(0, { announceIntervalMs: 60_000 }),
      listen: [
        {
          transport: kind,
          maxPayloadBytes: LIMIT,
          ...(secure
            ? { tls: { ...tls.server, ca: tls.ca, requestCert: true, rejectUnauthorized: false } }
            : {}),
        },
      ],
    })
    for (const [key, handler] of Object.entries({ ...handlers, ...extra })) rpc.handle(key, handler)
    servers.push(rpc)
    return rpc
  }

  beforeAll(async () => {
    net = await createTestnet(2)
    await server().start()
    client = new RpcClient({
      link: net.link(1),
      transport: kind,
      ...(secure ? { tls: { ca: tls.ca, ...tls.client } } : {}),
    })
  })

  afterAll(async () => {
    await client?.close()
    await Promise.all(servers.map((rpc) => rpc.close()))
    await net?.close()
    await killAllWorkers()
    expect(await settledHandles(before)).toEqual(before)
  })

  it('finds the worker through the other Grape and gets its reply', async () => {
    await expect(client.request('echo', { n: 1, text: 'héllo ✓' })).resolves.toEqual({
      n: 1,
      text: 'héllo ✓',
    })
  })

  it('carries a 16 KiB payload both ways', async () => {
    const reply = (await client.request('echo', orders)) as typeof orders
    expect(JSON.stringify(orders).length).toBeGreaterThan(16_384)
    expect(reply).toEqual(orders)
  })

  it("rejects with ERR_REMOTE carrying the worker's message and code, for an Error and a string", async () => {
    await expect(client.request('fail', 1)).rejects.toMatchObject({
      code: 'ERR_REMOTE',
      remoteCode: 'TOO_SLOW',
      message: 'TOO_SLOW: n is too large',
    })
    await expect(client.request('fail-string', 1)).rejects.toMatchObject({
      code: 'ERR_REMOTE',
      message: 'NOT_ALLOWED',
    })
  })

  it("sends a handler's ERR_BUSY as ERR_WORKER: the request ran, so no client sends it elsewhere", async () => {
    const before = busyRuns
    const error = await client.request('fail-busy', 1).then(
      () => undefined,
      (err: unknown) => err as GrenacheError,
    )
    expect([error?.code, error?.remoteCode, error?.message]).toEqual([
      'ERR_REMOTE',
      'ERR_WORKER',
      'ERR_WORKER: ERR_BUSY: a call of its own was refused',
    ])
    expect(busyRuns - before).toBe(1)
  })

  it('times a request out at its deadline with ERR_TIMEOUT', async () => {
    const started = Date.now()
    await expect(code(client.request('hang', 1, { timeoutMs: 200 }))).resolves.toBe('ERR_TIMEOUT')
    const took = Date.now() - started
    expect(took).toBeGreaterThanOrEqual(190)
    expect(took).toBeLessThan(5000)
  })

  it('aborts a request in flight with ERR_ABORTED', async () => {
    const controller = new AbortController()
    const pending = code(client.request('hang', 1, { signal: controller.signal }))
    setTimeout(() => controller.abort(), 50)
    await expect(pending).resolves.toBe('ERR_ABORTED')
  })

  it('answers a request over the worker limit with ERR_PAYLOAD_TOO_LARGE, and keeps serving', async () => {
    await expect(client.request('echo', 'x'.repeat(LIMIT + 1000))).rejects.toMatchObject({
      code: 'ERR_REMOTE',
      remoteCode: 'ERR_PAYLOAD_TOO_LARGE',
    })
    await expect(client.request('echo', 'still here')).resolves.toBe('still here')
  })

  if (kind !== 'memory')
    it('answers a malformed request with ERR_BAD_REQUEST, and keeps serving', async () => {
      const [endpoint] = servers[0]?.ports ?? []
      const answer = await sendMalformed(kind, `127.0.0.1:${endpoint?.port}`)
      expect(answer[1]).toMatch(/^ERR_BAD_REQUEST/)
      await expect(client.request('echo', 'still here')).resolves.toBe('still here')
    })

  it('calls every worker with map(), late replies included', async () => {
    const second = server({
      echo: (request, reply) => setTimeout(() => reply(null, { late: request.payload }), 100),
    })
    await second.start()
    await expect
      .poll(async () => (await client.map('echo', 1)).length, { timeout: 10_000, interval: 200 })
      .toBe(2)
    const results = await client.map('echo', 7)
    expect(results.every((r) => r.ok)).toBe(true)
    expect(results.map((r) => (r.ok ? r.value : null))).toEqual(expect.arrayContaining([7, { late: 7 }]))
    await second.close()
  })

  it('lets a request in flight finish when its worker closes, then refuses new ones', async () => {
    const closing = server()
    const [endpoint] = await closing.start()
    const link = new StaticDiscovery().add(`slow/${kind}`, `127.0.0.1:${endpoint?.port}`)
    const direct = new RpcClient({
      link,
      transport: kind,
      ...(secure ? { tls: { ca: tls.ca, ...tls.client } } : {}),
    })
    // A warm connection: the request must reach the worker before it starts closing.
    await expect(direct.request('slow', 'warm')).resolves.toBe('warm')
    const inFlight = direct.request('slow', 'finished')
    await new Promise((resolve) => setTimeout(resolve, 50))
    await closing.close()
    await expect(inFlight).resolves.toBe('finished')
    expect(await code(direct.request('slow', 1, { timeoutMs: 5000 }))).toMatch(
      /^ERR_CONNECTION_(REFUSED|RESET)$|^ERR_TIMEOUT$/,
    )
    await direct.close()
  })

  if (secure)
    it('hands the handler the caller certificate (mutual TLS)', async () => {
      await expect(client.request('whoami', null)).resolves.toBe(clientFingerprint)
    })

  if (kind !== 'memory')
    it('fails a request at once with ERR_CONNECTION_RESET when its worker is killed mid-request', async () => {
      const { child, address } = await spawnWorker(kind)
      const link = new StaticDiscovery().add(`hang/${kind}`, address).add(`echo/${kind}`, address)
      const direct = new RpcClient({ link, transport: kind, ...(secure ? { tls: { ca: tls.ca } } : {}) })
      await expect(direct.request('echo', 'warm')).resolves.toBe('warm')
      const started = Date.now()
      const pending = code(direct.request('hang', 1, { timeoutMs: 20_000 }))
      await new Promise((resolve) => setTimeout(resolve, 200))
      await killWorker(child)
      await expect(pending).resolves.toBe('ERR_CONNECTION_RESET')
      expect(Date.now() - started).toBeLessThan(10_000)
      expect(await code(direct.request('echo', 1, { timeoutMs: 15_000 }))).toMatch(
        /^ERR_CONNECTION_(REFUSED|RESET)$/,
      )
      await direct.close()
    })
})
