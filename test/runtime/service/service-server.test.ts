import { afterEach, describe, expect, it } from 'vitest'
import type { GrenacheError } from '../../../runtime/errors.js'
import { isDeclaredError, ServiceError, type WorkerErrorInfo } from '../../../runtime/service/index.js'
import { closers, code, shopClient, startShop } from './helpers.js'

const rejection = (promise: Promise<unknown>) =>
  promise.then(
    () => {
      throw new Error('resolved')
    },
    (err: unknown) => err as GrenacheError,
  )

afterEach(async () => {
  await Promise.all(closers.splice(0).map((c) => c.close()))
})

describe('ServiceServer', () => {
  describe('outputs', () => {
    it('checks outputs by default: a wrong type is ERR_INVALID_OUTPUT, not a lie typed as a number', async () => {
      const link = await startShop({ order: () => ({ id: 'lots' }) as never })
      const err = await rejection(shopClient(link).call('order', { sku: 'a', qty: 1 }))
      expect(err).toMatchObject({
        code: 'ERR_INVALID_OUTPUT',
        issues: [{ path: ['id'], code: 'invalid_type' }],
      })
      expect(err.message).toMatch(/^shop\.order: id: /)
    })

    it('sends the parsed output: unknown fields stripped, defaults applied', async () => {
      const link = await startShop({ order: () => ({ id: 7, secret: 'db password' }) as never })
      await expect(shopClient(link).call('order', { sku: 'a', qty: 1 })).resolves.toEqual({
        id: 7,
        status: 'new',
      })
    })

    it('sends the raw output unchecked with validateOutput: false', async () => {
      const link = await startShop({ order: () => ({ id: 'lots' }) as never }, { validateOutput: false })
      await expect(shopClient(link).call('order', { sku: 'a', qty: 1 })).resolves.toEqual({ id: 'lots' })
    })

    it('reports an invalid output to onError with the error id', async () => {
      const seen: WorkerErrorInfo[] = []
      const link = await startShop(
        { order: async () => ({ id: null }) as never },
        { onError: (_error, info) => seen.push(info) },
      )
      await code(shopClient(link).call('order', { sku: 'a', qty: 1 }))
      expect(seen).toMatchObject([{ service: 'shop', method: 'order', errorId: expect.any(String) }])
    })
  })

  describe('inputs', () => {
    it('lists every issue of an invalid input, in the message and in issues', async () => {
      const link = await startShop({})
      const err = await rejection(shopClient(link).call('order', { sku: 1, qty: 0 }))
      expect(err.code).toBe('ERR_INVALID_INPUT')
      expect(err.issues?.map((i) => i.path)).toEqual([['sku'], ['qty']])
      expect(err.message).toMatch(/^shop\.order: sku: .+; qty: .+/)
    })

    it('has one shape whether the client or the worker refused the input', async () => {
      const link = await startShop({})
      const remote = await rejection(shopClient(link).call('order', { sku: 1, qty: 0 }))
      const local = await rejection(
        shopClient(link, { validateInput: true }).call('order', { sku: 1, qty: 0 }),
      )
      const shape = (e: GrenacheError) => ({
        code: e.code,
        remoteCode: e.remoteCode,
        message: e.message,
        issues: e.issues,
      })
      expect(shape(remote)).toEqual(shape(local))
      expect(remote.cause).toMatchObject({ code: 'ERR_REMOTE', remoteCode: 'ERR_INVALID_INPUT' })
    })
  })

  describe('errors', () => {
    it('masks an undeclared error: ERR_WORKER with a correlation id, the full error to onError', async () => {
      const seen: Array<[unknown, WorkerErrorInfo]> = []
      const link = await startShop(
        {
          order: () => {
            throw new Error('db password=hunter2 at /srv/app/db.js')
          },
        },
        { onError: (error, info) => seen.push([error, info]) },
      )
      const err = await rejection(shopClient(link).call('order', { sku: 'a', qty: 1 }))
      expect(err.code).toBe('ERR_WORKER')
      expect(err.message).not.toContain('hunter2')
      expect(err.errorId).toMatch(/^[0-9a-f-]{36}$/)
      expect(err.message).toContain(err.errorId)
      expect(seen).toHaveLength(1)
      expect(String(seen[0]?.[0])).toContain('hunter2')
      expect(seen[0]?.[1].errorId).toBe(err.errorId)
    })

    it('logs an undeclared error to stderr once, with its id, when no onError is given', async () => {
      const lines: unknown[][] = []
      const original = console.error
      console.error = (...args: unknown[]) => lines.push(args)
      try {
        const link = await startShop(
          { slow: async () => Promise.reject(new Error('boom')) },
          { onError: undefined as never },
        )
        const err = await rejection(shopClient(link).call('slow', { ms: 0 }))
        expect(lines).toHaveLength(1)
        expect(String(lines[0]?.[0])).toContain(String(err.errorId))
      } finally {
        console.error = original
      }
    })

    it('forwards the message after ERR_WORKER with exposeErrors: true', async () => {
      const link = await startShop(
        {
          order: () => {
            throw new Error('UNKNOWN_SKU: x')
          },
        },
        { exposeErrors: true },
      )
      const err = await rejection(shopClient(link).call('order', { sku: 'a', qty: 1 }))
      expect(err).toMatchObject({ code: 'ERR_WORKER', remoteCode: undefined })
      expect(err.message).toMatch(/^UNKNOWN_SKU: x \(error id [0-9a-f-]+\)$/)
    })

    it('lets only a declared ServiceError pass the declared-error guard', async () => {
      const thrown: Record<string, unknown> = {
        declared: new ServiceError('UNKNOWN_SKU', 'no sku "a"'),
        forged: new Error('UNKNOWN_SKU: no sku "a"'),
        undeclared: new ServiceError('TYPO', 'oops'),
      }
      const link = await startShop({
        order: (input) => {
          throw thrown[input.sku]
        },
      })
      const codes = ['UNKNOWN_SKU', 'OUT_OF_STOCK'] as const
      const client = shopClient(link)
      const declared = await rejection(client.call('order', { sku: 'declared', qty: 1 }))
      expect(isDeclaredError(declared, codes, 'UNKNOWN_SKU')).toBe(true)
      expect(declared).toMatchObject({
        code: 'ERR_REMOTE',
        remoteCode: 'UNKNOWN_SKU',
        message: 'UNKNOWN_SKU: no sku "a"',
      })
      for (const sku of ['forged', 'undeclared']) {
        const err = await rejection(client.call('order', { sku, qty: 1 }))
        expect(isDeclaredError(err, codes)).toBe(false)
        expect(err.code).toBe('ERR_WORKER')
      }
    })

    it('refuses a malformed ctx with ERR_BAD_REQUEST', async () => {
      const link = await startShop({})
      const { RpcClient } = await import('../../../runtime/peer/index.js')
      const rpc = new RpcClient({ link, transport: 'memory' })
      closers.push(rpc)
      const payload = { action: 'slow', args: [{ ms: 0 }], ctx: { metadata: { n: 1 } } }
      await expect(rpc.request('shop@1', payload)).rejects.toMatchObject({ remoteCode: 'ERR_BAD_REQUEST' })
    })
  })
})
