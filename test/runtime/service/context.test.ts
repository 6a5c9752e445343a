import { once } from 'node:events'
import { connect } from 'node:net'
import { afterEach, describe, expect, it } from 'vitest'
import WebSocket from 'ws'
import { GrenacheError } from '../../../runtime/errors.js'
import type { ClientInterceptor, ServerInterceptor, ServiceContext } from '../../../runtime/service/index.js'
import type { TransportKind } from '../../../runtime/transport/types.js'
import { tls } from '../../fixtures/tls/index.js'
import { StaticDiscovery } from '../../helpers/static-discovery.js'
import { closers, shopClient, startShop } from './helpers.js'

afterEach(async () => {
  await Promise.all(closers.splice(0).map((c) => c.close()))
})

/** A worker whose `slow` hands its context out and waits for its signal (or `ms`). */
function capturing() {
  const contexts: ServiceContext[] = []
  const aborted: unknown[] = []
  const slow = async ({ ms }: { ms: number }, context: ServiceContext) => {
    contexts.push(context)
    const { signal } = context
    await new Promise<void>((resolve) => {
      const timer = setTimeout(resolve, ms)
      signal.addEventListener('abort', () => {
        clearTimeout(timer)
        aborted.push(signal.reason)
        // Answer well after the caller gave up, so the caller's own timer always wins the race.
        setTimeout(resolve, 500)
      })
    })
    return 'done'
  }
  return { contexts, aborted, slow }
}

describe('ServiceContext', () => {
  it("carries the caller's deadline and metadata, merged from the client and the call", async () => {
    const { contexts, slow } = capturing()
    const link = await startShop({ slow })
    const client = shopClient(link, { metadata: { tenant: 't1', traceparent: 'old' } })
    const before = Date.now()
    await client.call('slow', { ms: 0 }, { timeoutMs: 5000, metadata: { traceparent: '00-abc-01' } })
    const [context] = contexts
    expect(context?.metadata).toEqual({ tenant: 't1', traceparent: '00-abc-01' })
    expect(context?.deadline).toBeGreaterThanOrEqual(before + 5000 - 50)
    expect(context?.deadline).toBeLessThanOrEqual(Date.now() + 5000)
    expect(context?.peer).toBeUndefined()
    expect(context).toMatchObject({ service: 'shop', method: 'slow' })
  })

  it('tells the worker the budget left when the call is sent, after a slow lookup', async () => {
    /** A discovery whose lookups take 300 ms, as a cold lookup through a busy Grape may. */
    class SlowDiscovery extends StaticDiscovery {
      override async lookup(name: string): Promise<readonly string[]> {
        await new Promise((resolve) => setTimeout(resolve, 300))
        return super.lookup(name)
      }
    }
    const { contexts, slow } = capturing()
    const link = await startShop({ slow }, {}, new SlowDiscovery())
    const before = Date.now()
    await shopClient(link).call('slow', { ms: 0 }, { timeoutMs: 5000 })
    // Not 5000 ms from when the worker got it: the caller gives up 5000 ms after it called.
    expect(contexts[0]?.deadline).toBeLessThanOrEqual(before + 5000 + 20)
    expect(contexts[0]?.deadline).toBeGreaterThanOrEqual(before + 5000 - 50)
  })

  it("aborts the handler's signal when the caller's deadline passes", async () => {
    const { aborted, slow } = capturing()
    const link = await startShop({ slow })
    const started = Date.now()
    await expect(shopClient(link).call('slow', { ms: 10_000 }, { timeoutMs: 100 })).rejects.toMatchObject({
      code: 'ERR_TIMEOUT',
    })
    await expect.poll(() => aborted.length, { timeout: 5000 }).toBe(1)
    expect(aborted[0]).toMatchObject({ code: 'ERR_TIMEOUT' })
    expect(Date.now() - started).toBeLessThan(5000)
  })

  it('refuses metadata that is not strings, on the client, naming the option', async () => {
    const link = new StaticDiscovery()
    expect(() => shopClient(link, { metadata: { n: 1 } as never })).toThrow(/options\.metadata/)
    await expect(
      shopClient(link).call('slow', { ms: 0 }, { metadata: { n: 1 } as never }),
    ).rejects.toMatchObject({
      code: 'ERR_INVALID_ARGUMENT',
    })
  })

  for (const transport of ['http', 'ws'] as const) {
    it(`aborts the handler's signal when the caller's ${transport} connection drops`, async () => {
      const { aborted, contexts, slow } = capturing()
      const link = await startShop({ slow }, { listen: [{ transport }] })
      const address = [...(link.names.get(`shop@1/${transport}`) ?? [])][0] as string
      const port = Number(address.split(':')[1])
      const body = JSON.stringify(['rid-1', 'shop@1', { action: 'slow', args: [{ ms: 10_000 }] }])
      if (transport === 'http') {
        const socket = connect(port, '127.0.0.1')
        await once(socket, 'connect')
        socket.write(
          `POST / HTTP/1.1\r\nHost: 127.0.0.1\r\nContent-Length: ${Buffer.byteLength(body)}\r\n\r\n${body}`,
        )
        await expect.poll(() => contexts.length, { timeout: 5000 }).toBe(1)
        socket.destroy()
      } else {
        const socket = new WebSocket(`ws://127.0.0.1:${port}/ws`)
        await once(socket, 'open')
        socket.send(body)
        await expect.poll(() => contexts.length, { timeout: 5000 }).toBe(1)
        socket.terminate()
      }
      await expect.poll(() => aborted.length, { timeout: 5000 }).toBe(1)
      expect(aborted[0]).toMatchObject({ code: 'ERR_CONNECTION_RESET' })
      expect(contexts[0]?.deadline).toBeUndefined()
    })
  }

  it("gives the caller's certificate subject and fingerprint under mutual TLS", async () => {
    const { contexts, slow } = capturing()
    const listen = [
      { transport: 'https' as TransportKind, tls: { ...tls.server, ca: tls.ca, requestCert: true } },
    ]
    const link = await startShop({ slow }, { listen })
    const client = shopClient(link, { transport: 'https', tls: { ca: tls.ca, ...tls.client } })
    await client.call('slow', { ms: 0 })
    expect(contexts[0]?.peer).toEqual({
      subject: expect.objectContaining({ CN: expect.any(String) }),
      fingerprint256: expect.stringMatching(/^([0-9A-F]{2}:){31}[0-9A-F]{2}$/),
    })
  })
})

describe('interceptors', () => {
  it('run outermost first on both sides; a client one adds metadata a server one checks', async () => {
    const order: string[] = []
    const auth: ClientInterceptor = (next) => async (request) => {
      order.push('client auth')
      request.metadata.authorization = 'Bearer good'
      return next(request)
    }
    const trace: ClientInterceptor = (next) => async (request) => {
      order.push('client trace')
      return next(request)
    }
    const check: ServerInterceptor = (next) => async (request) => {
      order.push(`server check ${request.method}`)
      if (request.metadata.authorization !== 'Bearer good') {
        throw new GrenacheError('ERR_PERMISSION_DENIED', 'a bearer token is required')
      }
      return next(request)
    }
    const time: ServerInterceptor = (next) => async (request) => {
      order.push('server time')
      return next(request)
    }
    const link = await startShop({}, { interceptors: [check, time] })
    await expect(shopClient(link, { interceptors: [trace, auth] }).call('slow', { ms: 0 })).resolves.toBe(
      'done',
    )
    expect(order).toEqual(['client trace', 'client auth', 'server check slow', 'server time'])
    const refused = shopClient(link).call('slow', { ms: 0 })
    await expect(refused).rejects.toMatchObject({
      code: 'ERR_PERMISSION_DENIED',
      message: 'a bearer token is required',
    })
  })

  it('lets a client interceptor retry a call', async () => {
    let calls = 0
    const link = await startShop({
      slow: () => {
        if (++calls === 1) throw new Error('flaky')
        return 'second'
      },
    })
    const retry: ClientInterceptor = (next) => async (request) => {
      try {
        return await next(request)
      } catch (err) {
        if (err instanceof GrenacheError && err.code === 'ERR_WORKER') return next(request)
        throw err
      }
    }
    await expect(shopClient(link, { interceptors: [retry] }).call('slow', { ms: 0 })).resolves.toBe('second')
  })

  it('masks what a server interceptor throws like a handler error', async () => {
    const broken: ServerInterceptor = () => async () => {
      throw new Error('secret')
    }
    const link = await startShop({}, { interceptors: [broken] })
    const err: unknown = await shopClient(link)
      .call('slow', { ms: 0 })
      .catch((e: unknown) => e)
    expect(err).toMatchObject({ code: 'ERR_WORKER' })
    expect((err as Error).message).not.toContain('secret')
  })
})
