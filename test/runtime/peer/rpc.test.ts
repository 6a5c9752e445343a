import { afterEach, describe, expect, it } from 'vitest'
import { GrenacheError } from '../../../runtime/errors.js'
import { actionHandler, type Handler, RpcClient, RpcServer } from '../../../runtime/peer/index.js'
import { MemoryServerTransport } from '../../../runtime/transport/memory.js'
import type { ClientTransport } from '../../../runtime/transport/types.js'
import { StaticDiscovery } from '../../helpers/static-discovery.js'

const code = (promise: Promise<unknown>) =>
  promise.then(
    () => 'resolved',
    (err: unknown) => (err instanceof GrenacheError ? err.code : `not a GrenacheError: ${String(err)}`),
  )

const echo: Handler = (request, reply) => reply(null, { echo: request.payload, key: request.key })

describe('RpcServer and RpcClient over the memory transport', () => {
  const closers: Array<{ close(): Promise<void> }> = []
  afterEach(async () => {
    await Promise.all(closers.splice(0).map((c) => c.close()))
  })

  async function server(link: StaticDiscovery, handlers: Record<string, Handler>, drainTimeoutMs?: number) {
    const rpc = new RpcServer({
      link,
      listen: [{ transport: 'memory' }],
      ...(drainTimeoutMs === undefined ? {} : { drainTimeoutMs }),
    })
    for (const [key, handler] of Object.entries(handlers)) rpc.handle(key, handler)
    closers.push(rpc)
    const [endpoint] = await rpc.start()
    return { rpc, address: `127.0.0.1:${endpoint?.port}` }
  }

  function client(link: StaticDiscovery, options: Partial<ConstructorParameters<typeof RpcClient>[0]> = {}) {
    const rpc = new RpcClient({ link, transport: 'memory', ...options })
    closers.push(rpc)
    return rpc
  }

  describe('RpcServer', () => {
    it('announces each key under <key>/<transport> and answers requests for it', async () => {
      const link = new StaticDiscovery()
      const { address } = await server(link, { 'calc@1': echo })
      expect([...(link.names.get('calc@1/memory') ?? [])]).toEqual([address])
      await expect(client(link).request('calc@1', { n: 1 })).resolves.toEqual({
        echo: { n: 1 },
        key: 'calc@1',
      })
    })

    it('answers a key nobody handles with ERR_UNKNOWN_KEY, or passes it to the "*" handler', async () => {
      const link = new StaticDiscovery()
      const { address } = await server(link, { known: echo })
      link.add('other/memory', address)
      const error = await client(link)
        .request('other', 1)
        .catch((err: GrenacheError) => err)
      expect(error).toMatchObject({
        code: 'ERR_REMOTE',
        remoteCode: 'ERR_UNKNOWN_KEY',
        message: 'ERR_UNKNOWN_KEY: other',
      })
      const fallback = await server(new StaticDiscovery(), { '*': echo })
      link.add('anything/memory', fallback.address)
      await expect(client(link).request('anything', 2)).resolves.toEqual({ echo: 2, key: 'anything' })
    })

    it('sends a handler error as ERR_REMOTE with its code, whether an Error or a string', async () => {
      const link = new StaticDiscovery()
      await server(link, {
        thrown: (_request, reply) => reply(new Error('TOO_SLOW: n is too large')),
        string: (_request, reply) => reply('NOT_ALLOWED'),
        sync: () => {
          throw new Error('boom')
        },
      })
      const rpc = client(link)
      await expect(rpc.request('thrown', 1)).rejects.toMatchObject({
        code: 'ERR_REMOTE',
        remoteCode: 'TOO_SLOW',
      })
      await expect(rpc.request('string', 1)).rejects.toMatchObject({
        code: 'ERR_REMOTE',
        message: 'NOT_ALLOWED',
      })
      await expect(rpc.request('sync', 1)).rejects.toMatchObject({ code: 'ERR_REMOTE', message: 'boom' })
    })

    it('refuses a plain key on several transport kinds without saying which one', async () => {
      const rpc = new RpcServer({ listen: [{ transport: 'memory' }, new MemoryServerTransport({ port: 0 })] })
      rpc.handle('legacy', echo, { discovery: 'plain' })
      closers.push(rpc)
      // Both are memory, so one kind: allowed.
      await expect(rpc.start()).resolves.toHaveLength(2)
    })

    it('announces a plain key as it is', async () => {
      const link = new StaticDiscovery()
      const rpc = new RpcServer({ link, listen: [{ transport: 'memory' }] })
      rpc.handle('rpc_test', echo, { discovery: 'plain' })
      closers.push(rpc)
      await rpc.start()
      expect(link.names.has('rpc_test')).toBe(true)
      await expect(client(link, { discovery: 'plain' }).request('rpc_test', 'hello')).resolves.toMatchObject({
        echo: 'hello',
      })
    })

    it('on close, stops announcing, refuses new requests and lets requests in flight finish', async () => {
      const link = new StaticDiscovery()
      let release: () => void = () => undefined
      const { rpc, address } = await server(link, {
        slow: (_request, reply) => {
          release = () => reply(null, 'done')
        },
      })
      const caller = client(link)
      const inFlight = caller.request('slow', 1)
      await expect.poll(() => typeof release).toBe('function')
      const closing = rpc.close()
      await expect.poll(() => link.names.get('slow/memory')?.has(address)).toBe(false)
      setTimeout(() => release(), 50)
      await expect(inFlight).resolves.toBe('done')
      await closing
      link.add('slow/memory', address)
      await expect(code(caller.request('slow', 1))).resolves.toBe('ERR_CONNECTION_REFUSED')
    })

    it('drops a request still in flight after drainTimeoutMs with ERR_CONNECTION_RESET', async () => {
      const link = new StaticDiscovery()
      const { rpc } = await server(link, { never: () => undefined }, 50)
      const pending = code(client(link).request('never', 1, { timeoutMs: 10_000 }))
      await new Promise((resolve) => setTimeout(resolve, 20))
      await rpc.close()
      await expect(pending).resolves.toBe('ERR_CONNECTION_RESET')
    })

    it('rejects invalid options and late handle() calls', async () => {
      expect(() => new RpcServer({ listen: [] })).toThrow(/options\.listen/)
      expect(() => new RpcServer({ listen: [{ transport: 'nope' as never }] })).toThrow(/transport/)
      const rpc = new RpcServer({ listen: [{ transport: 'memory' }] })
      closers.push(rpc)
      rpc.handle('a', echo)
      expect(() => rpc.handle('a', echo)).toThrow(/already handled/)
      await rpc.start()
      expect(() => rpc.handle('b', echo)).toThrow(/before start/)
    })
  })

  describe('RpcClient', () => {
    it('rejects with ERR_LOOKUP_EMPTY when no worker is announced', async () => {
      await expect(code(client(new StaticDiscovery()).request('nobody', 1))).resolves.toBe('ERR_LOOKUP_EMPTY')
    })

    it('retries on another worker when one refuses, benches it, and never hands the caller the refusal', async () => {
      const link = new StaticDiscovery()
      const { address } = await server(link, { svc: echo })
      link.add('svc/memory', '127.0.0.1:1', '127.0.0.1:2')
      const rpc = client(link)
      for (let i = 0; i < 20; i++) await expect(rpc.request('svc', i)).resolves.toMatchObject({ echo: i })
      expect(address).not.toBe('127.0.0.1:1')
    })

    it('asks the discovery again when every known worker failed', async () => {
      const link = new StaticDiscovery().add('svc/memory', '127.0.0.1:1')
      await expect(code(client(link).request('svc', 1))).resolves.toBe('ERR_CONNECTION_REFUSED')
      expect(link.invalidated).toEqual(['svc/memory'])
      expect(link.lookups).toEqual(['svc/memory', 'svc/memory'])
    })

    it('retries a dropped request elsewhere only when the call is idempotent', async () => {
      const link = new StaticDiscovery().add('svc/memory', '127.0.0.1:1', '127.0.0.1:2')
      let calls = 0
      const dropping: ClientTransport = {
        kind: 'memory',
        isWarm: () => false,
        close: async () => undefined,
        request: async (address) => {
          calls++
          if (address.endsWith(':1')) throw new GrenacheError('ERR_CONNECTION_RESET', 'dropped')
          return 'ok'
        },
      }
      const rpc = client(link, { transport: dropping, benchMs: 0 })
      for (let i = 0; i < 10; i++)
        await expect(rpc.request('svc', 1, { idempotent: true })).resolves.toBe('ok')
      const outcomes = new Set<string>()
      for (let i = 0; i < 30; i++) outcomes.add(await code(rpc.request('svc', 1)))
      expect(outcomes).toEqual(new Set(['resolved', 'ERR_CONNECTION_RESET']))
      expect(calls).toBeGreaterThan(40)
    })

    it('does not retry a worker error, a timeout or a bad reply', async () => {
      const link = new StaticDiscovery()
      let calls = 0
      await server(link, {
        fail: (_request, reply) => {
          calls++
          reply('NOPE')
        },
      })
      await server(link, {
        fail: (_request, reply) => {
          calls++
          reply('NOPE')
        },
      })
      await expect(code(client(link).request('fail', 1))).resolves.toBe('ERR_REMOTE')
      expect(calls).toBe(1)
    })

    it('honours timeoutMs and the signal', async () => {
      const link = new StaticDiscovery()
      await server(link, { never: () => undefined }, 0)
      const rpc = client(link)
      const started = Date.now()
      await expect(code(rpc.request('never', 1, { timeoutMs: 100 }))).resolves.toBe('ERR_TIMEOUT')
      expect(Date.now() - started).toBeLessThan(5000)
      const controller = new AbortController()
      const pending = code(rpc.request('never', 1, { signal: controller.signal }))
      controller.abort()
      await expect(pending).resolves.toBe('ERR_ABORTED')
    })

    it('rejects with ERR_CLOSED after close(), and bad arguments with ERR_INVALID_ARGUMENT', async () => {
      const rpc = client(new StaticDiscovery())
      await expect(code(rpc.request('', 1))).resolves.toBe('ERR_INVALID_ARGUMENT')
      await rpc.close()
      await expect(code(rpc.request('svc', 1))).resolves.toBe('ERR_CLOSED')
      expect(() => new RpcClient({ link: new StaticDiscovery(), transport: 'memory', timeoutMs: 0 })).toThrow(
        /options\.timeoutMs/,
      )
    })
  })

  describe('map()', () => {
    it('calls every worker and returns one settled result per worker, failures included', async () => {
      const link = new StaticDiscovery()
      const a = await server(link, { svc: (_r, reply) => reply(null, 'a') })
      const b = await server(link, { svc: (_r, reply) => setTimeout(() => reply(null, 'b'), 100) })
      const c = await server(link, { svc: (_r, reply) => reply('BROKEN') })
      link.add('svc/memory', '127.0.0.1:1')
      const results = await client(link).map('svc', 1)
      const byWorker = Object.fromEntries(results.map((r) => [r.worker, r.ok ? r.value : r.error.code]))
      expect(byWorker).toEqual({
        [a.address]: 'a',
        [b.address]: 'b',
        [c.address]: 'ERR_REMOTE',
        '127.0.0.1:1': 'ERR_CONNECTION_REFUSED',
      })
    })

    it('calls at most `limit` workers', async () => {
      const link = new StaticDiscovery()
      for (let i = 0; i < 4; i++) await server(link, { svc: echo })
      expect(await client(link).map('svc', 1, { limit: 2 })).toHaveLength(2)
      await expect(code(client(link).map('svc', 1, { limit: 0 }))).resolves.toBe('ERR_INVALID_ARGUMENT')
    })

    it('reports a worker that misses the deadline as ERR_TIMEOUT without holding the others back', async () => {
      const link = new StaticDiscovery()
      await server(link, { svc: (_r, reply) => reply(null, 'fast') }, 0)
      await server(link, { svc: () => undefined }, 0)
      const results = await client(link).map('svc', 1, { timeoutMs: 200 })
      expect(results.map((r) => (r.ok ? r.value : r.error.code)).sort()).toEqual(['ERR_TIMEOUT', 'fast'])
    })

    it('rejects with ERR_LOOKUP_EMPTY when there is nobody to call', async () => {
      await expect(code(client(new StaticDiscovery()).map('svc', 1))).resolves.toBe('ERR_LOOKUP_EMPTY')
    })
  })

  describe('actionHandler()', () => {
    it('dispatches { action, args } and replies with the result, awaited', async () => {
      const link = new StaticDiscovery()
      await server(link, {
        math: actionHandler({
          add: ([a, b]) => (a as number) + (b as number),
          later: async ([n]) => (n as number) * 2,
          fail: async () => {
            throw new Error('TOO_SLOW')
          },
          key: (_args, request) => request.key,
        }),
      })
      const rpc = client(link)
      await expect(rpc.request('math', { action: 'add', args: [2, 3] })).resolves.toBe(5)
      await expect(rpc.request('math', { action: 'later', args: [21] })).resolves.toBe(42)
      await expect(rpc.request('math', { action: 'key' })).resolves.toBe('math')
      await expect(rpc.request('math', { action: 'fail', args: [] })).rejects.toMatchObject({
        remoteCode: 'TOO_SLOW',
      })
    })

    it('answers an unknown action with ERR_UNKNOWN_ACTION and another payload shape with ERR_BAD_REQUEST', async () => {
      const link = new StaticDiscovery()
      await server(link, { math: actionHandler({ add: () => 0 }) })
      const rpc = client(link)
      await expect(rpc.request('math', { action: 'toString', args: [] })).rejects.toMatchObject({
        remoteCode: 'ERR_UNKNOWN_ACTION',
      })
      await expect(rpc.request('math', 'add')).rejects.toMatchObject({ remoteCode: 'ERR_BAD_REQUEST' })
      await expect(rpc.request('math', { action: 'add', args: 1 })).rejects.toMatchObject({
        remoteCode: 'ERR_BAD_REQUEST',
      })
    })
  })
})
