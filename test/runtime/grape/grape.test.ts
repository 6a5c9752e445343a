import { once } from 'node:events'
import { request } from 'node:http'
import { createServer } from 'node:net'
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest'
import { GrenacheError } from '../../../runtime/errors.js'
import { Grape } from '../../../runtime/grape/index.js'
import { Link } from '../../../runtime/link/index.js'
import { settledHandles, socketHandles } from '../../helpers/handles.js'
import { createTestnet, loopbackGrape, type Testnet } from '../../helpers/testnet.js'

async function post(url: string, op: string, data: unknown): Promise<{ status: number; body: string }> {
  const response = await fetch(`${url}/${op}`, {
    method: 'POST',
    body: JSON.stringify({ rid: 'test', data }),
    headers: { connection: 'close' },
  })
  return { status: response.status, body: await response.text() }
}

/** A POST with the headers given (fetch would set Host itself), as a browser or a script sends it. */
function postWith(
  url: string,
  op: string,
  body: string,
  headers: Record<string, string>,
): Promise<{ status: number; body: string }> {
  const { hostname, port } = new URL(url)
  return new Promise((resolve, reject) => {
    const req = request(
      { host: hostname, port, path: `/${op}`, method: 'POST', headers, agent: false },
      (res) => {
        const chunks: Buffer[] = []
        res.on('data', (chunk: Buffer) => chunks.push(chunk))
        res.on('end', () => resolve({ status: res.statusCode ?? 0, body: Buffer.concat(chunks).toString() }))
        res.on('error', reject)
      },
    )
    req.on('error', reject)
    req.end(body)
  })
}

describe('Grape', () => {
  describe('lifecycle', () => {
    const grapes: Grape[] = []
    const before = socketHandles()
    afterEach(async () => {
      await Promise.all(grapes.splice(0).map((grape) => grape.close()))
    })
    afterAll(async () => {
      expect(await settledHandles(before)).toEqual(before)
    })

    it('start() resolves with where it listens, emits ready, and is idempotent', async () => {
      const grape = new Grape(loopbackGrape())
      grapes.push(grape)
      const ready = once(grape, 'ready')
      const first = grape.start()
      expect(grape.start()).toBe(first)
      const address = await first
      expect(address.url).toBe(`http://127.0.0.1:${address.apiPort}`)
      expect(address.dhtPort).toBeGreaterThan(0)
      expect((await ready)[0]).toEqual(address)
      expect(grape.address).toEqual(address)
    })

    it('close() is idempotent, releases every socket, and start() after it rejects with ERR_CLOSED', async () => {
      const grape = new Grape(loopbackGrape())
      await grape.start()
      const closing = grape.close()
      expect(grape.close()).toBe(closing)
      await closing
      await expect(grape.start()).rejects.toMatchObject({ code: 'ERR_CLOSED' })
      expect(() => grape.address).toThrow(GrenacheError)
    })

    it('rejects with ERR_ADDRESS_IN_USE when the API port is taken, and leaves nothing open', async () => {
      const blocker = createServer()
      blocker.listen(0, '127.0.0.1')
      await once(blocker, 'listening')
      const port = (blocker.address() as { port: number }).port
      const grape = new Grape(loopbackGrape({ apiPort: port }))
      await expect(grape.start()).rejects.toMatchObject({ code: 'ERR_ADDRESS_IN_USE' })
      blocker.close()
      await once(blocker, 'close')
    })

    it('rejects with ERR_ADDRESS_IN_USE when the DHT port is taken', async () => {
      const first = new Grape(loopbackGrape())
      grapes.push(first)
      const { dhtPort } = await first.start()
      const second = new Grape(loopbackGrape({ dhtPort }))
      await expect(second.start()).rejects.toMatchObject({ code: 'ERR_ADDRESS_IN_USE' })
    })

    it('rejects invalid options at construction with ERR_INVALID_OPTION naming the option', () => {
      expect(() => new Grape({ apiPort: -1 })).toThrow(/options\.apiPort/)
      expect(() => new Grape({ apiPort: 0, bootstrap: ['nope'] })).toThrow(/options\.bootstrap\[0\]/)
      expect(() => new Grape({ apiPort: 0, maxPayloadBytes: 0 })).toThrow(/options\.maxPayloadBytes/)
    })
  })

  describe('alone', () => {
    it('answers "No nodes to query" to an announce and [] to a lookup, as the reference', async () => {
      const grape = new Grape(loopbackGrape())
      const { url } = await grape.start()
      expect(await post(url, 'announce', ['svc', 1000])).toEqual({ status: 200, body: '"No nodes to query"' })
      expect(await post(url, 'lookup', 'svc')).toEqual({ status: 200, body: '[]' })
      await grape.close()
    })

    it('stores its own announces under `host` when one is given, so its lookups find them', async () => {
      const grape = new Grape(loopbackGrape({ host: '127.0.0.1' }))
      const { url } = await grape.start()
      expect(await post(url, 'announce', ['svc', 1000])).toEqual({ status: 200, body: '"No nodes to query"' })
      expect(await post(url, 'lookup', 'svc')).toEqual({ status: 200, body: '["127.0.0.1:1000"]' })
      await grape.close()
    })
  })

  describe('values', () => {
    it('refuses a dictionary whose encoding passes 999 bytes, so no Grape stores or serves it', async () => {
      const net = await createTestnet(2)
      try {
        const [first, second] = net.urls as [string, string]
        expect(await post(first, 'put', { v: { a: 'x'.repeat(7000) } })).toEqual({
          status: 200,
          body: '"v must be less than 1000 bytes in put()"',
        })
        const put = await post(first, 'put', { v: { a: 'x'.repeat(990) } })
        expect(put.status).toBe(200)
        const read = await post(second, 'get', JSON.parse(put.body))
        expect(JSON.parse(read.body).v).toEqual({ a: { type: 'Buffer', data: Array(990).fill(120) } })
      } finally {
        await net.close()
      }
    })
  })

  describe('in a testnet', () => {
    let net: Testnet
    beforeAll(async () => {
      net = await createTestnet(3)
    })
    afterAll(async () => {
      await net.close()
    })

    it('emits announce on the Grapes that store an announce, with the name and the address', async () => {
      const stored = Promise.all(
        net.grapes.slice(1).map((grape) => once(grape, 'announce') as Promise<[string, string]>),
      )
      // Acknowledged once one of the two nodes stored it (the quorum of two); both store it.
      const answer = await post(net.urls[0] as string, 'announce', ['événement', 4200])
      expect(answer.status).toBe(200)
      expect(['1', '2']).toContain(answer.body)
      expect(await stored).toEqual([
        ['événement', '127.0.0.1:4200'],
        ['événement', '127.0.0.1:4200'],
      ])
    })

    it('makes a service visible on every Grape as soon as the announce is acknowledged', async () => {
      await post(net.urls[0] as string, 'announce', ['visible', 4201])
      for (const url of net.urls) {
        expect(await post(url, 'lookup', 'visible')).toEqual({ status: 200, body: '["127.0.0.1:4201"]' })
      }
    })

    it('shows a second worker on the announcing Grape right after it announces', async () => {
      const [url] = net.urls as [string]
      await post(url, 'announce', ['pair', 4202])
      expect(await post(url, 'lookup', 'pair')).toEqual({ status: 200, body: '["127.0.0.1:4202"]' })
      await post(url, 'announce', ['pair', 4203])
      await expect
        .poll(async () => JSON.parse((await post(url, 'lookup', 'pair')).body).sort(), { timeout: 5000 })
        .toEqual(['127.0.0.1:4202', '127.0.0.1:4203'])
    })

    it('answers every client of the reference kind: a lookup through a Link finds the worker', async () => {
      const link = new Link({ grape: net.urls[2] as string })
      await link.announce('through-link', 4204)
      await expect(link.lookup('through-link')).resolves.toEqual(['127.0.0.1:4204'])
      await link.close()
    })
  })

  describe('requests from browsers (CSRF, DNS rebinding)', () => {
    let net: Testnet
    const warnings: GrenacheError[] = []
    beforeAll(async () => {
      net = await createTestnet(2)
      net.grapes[0]?.on('warning', (warning) => warnings.push(warning))
    })
    afterAll(async () => {
      await net.close()
    })

    it('refuses a text/plain announce from a web page with 403, announces nothing, counts it and warns', async () => {
      const [grape, other] = net.grapes as [Grape, Grape]
      const [url] = net.urls as [string]
      const { port } = new URL(url)
      const stored: unknown[] = []
      other.on('announce', (...args) => stored.push(args))
      const page = { origin: 'http://evil.example', 'content-type': 'text/plain;charset=UTF-8' }
      const body = JSON.stringify({ rid: 'x', data: ['browser:svc', 4400] })
      const attempts = [
        { ...page, host: `127.0.0.1:${port}` },
        { ...page, host: `evil.example:${port}` },
        { host: `evil.example:${port}`, 'content-type': 'text/plain' },
        { host: `127.0.0.1:${port}`, 'sec-fetch-site': 'cross-site' },
      ]
      const refused = grape.stats.apiRequestsRefused
      for (const headers of attempts) {
        const reply = await postWith(url, 'announce', body, headers)
        expect(reply.status, JSON.stringify(headers)).toBe(403)
        expect(reply.body).toMatch(/^ERR_GRAPE_(ORIGIN|HOST): /)
      }
      expect(grape.stats.apiRequestsRefused).toBe(refused + attempts.length)
      expect(warnings.slice(-attempts.length).map((w) => w.code)).toEqual(
        attempts.map(() => 'ERR_GRAPE_REJECTED'),
      )
      expect(warnings.at(-1)?.message).toMatch(/^API request refused with 403 ERR_GRAPE_ORIGIN: /)
      expect(stored).toEqual([])
      for (const grapeUrl of net.urls) {
        expect(await post(grapeUrl, 'lookup', 'browser:svc')).toEqual({ status: 200, body: '[]' })
      }
    })

    it('serves our Link by any loopback name of the API, so announces and lookups still work', async () => {
      const { apiPort } = net.grapes[0]?.address ?? { apiPort: 0 }
      for (const [i, grape] of [`http://localhost:${apiPort}`, `http://127.0.0.1:${apiPort}`].entries()) {
        const link = new Link({ grape })
        await link.announce(`browser:link-${i}`, 4401 + i)
        await expect(link.lookup(`browser:link-${i}`)).resolves.toEqual([`127.0.0.1:${4401 + i}`])
        await link.close()
      }
    })

    it('serves the origins in allowedOrigins and the names in allowedHosts', async () => {
      const grape = new Grape(
        loopbackGrape({
          host: '127.0.0.1',
          allowedOrigins: ['https://dash.example'],
          allowedHosts: ['grape.test'],
        }),
      )
      const { url, apiPort } = await grape.start()
      try {
        const body = JSON.stringify({ data: ['allowed', 4410] })
        const dashboard = { origin: 'https://dash.example', 'sec-fetch-site': 'cross-site' }
        expect(
          await postWith(url, 'announce', body, { ...dashboard, host: `grape.test:${apiPort}` }),
        ).toEqual({
          status: 200,
          body: '"No nodes to query"',
        })
        expect(await post(url, 'lookup', 'allowed')).toEqual({ status: 200, body: '["127.0.0.1:4410"]' })
        const other = { origin: 'https://other.example', host: `grape.test:${apiPort}` }
        expect((await postWith(url, 'lookup', body, other)).status).toBe(403)
        expect((await postWith(url, 'lookup', body, { host: `other.test:${apiPort}` })).status).toBe(403)
        expect(grape.stats.apiRequestsRefused).toBe(2)
      } finally {
        await grape.close()
      }
    })
  })

  describe('lookups answered from memory', () => {
    it('revalidate the name in the background, counted in stats', async () => {
      const net = await createTestnet(3, { lookupRefreshMs: 0 })
      try {
        const [first, second] = net.urls as [string, string]
        const reader = net.grapes[1] as Grape
        await post(first, 'announce', ['revalidated', 4310])
        expect(await post(second, 'lookup', 'revalidated')).toEqual({
          status: 200,
          body: '["127.0.0.1:4310"]',
        })
        expect(reader.stats.dhtRevalidations).toBe(0)
        expect(await post(second, 'lookup', 'revalidated')).toEqual({
          status: 200,
          body: '["127.0.0.1:4310"]',
        })
        await expect.poll(() => reader.stats.dhtRevalidations, { timeout: 10_000 }).toBe(1)
        expect(reader.stats.dhtRevalidationFallbacks).toBe(0)
      } finally {
        await net.close()
      }
    })
  })

  describe('peer expiry', () => {
    it('drops a worker that stopped announcing once the peer max-age has passed', async () => {
      const net = await createTestnet(2, {
        dhtPeerMaxAgeMs: 1500,
        lookupCacheMaxAgeMs: 500,
        lookupRefreshMs: 0,
      })
      try {
        const [first, second] = net.urls as [string, string]
        await post(first, 'announce', ['short-lived', 4300])
        expect(await post(second, 'lookup', 'short-lived')).toEqual({
          status: 200,
          body: '["127.0.0.1:4300"]',
        })
        await expect
          .poll(async () => (await post(second, 'lookup', 'short-lived')).body, {
            timeout: 15_000,
            interval: 200,
          })
          .toBe('[]')
      } finally {
        await net.close()
      }
    })
  })
})
