import { describe, expect, it } from 'vitest'
import { GrenacheError } from '../../../runtime/errors.js'
import { PendingRequests } from '../../../runtime/transport/pending.js'

describe('PendingRequests', () => {
  it('resolves the request a reply names, and ignores replies nobody waits for', async () => {
    const pending = new PendingRequests('test')
    const a = pending.add('a', 10_000, undefined)
    const b = pending.add('b', 10_000, undefined)
    expect(pending.settle('b', null, 2)).toBe(true)
    expect(pending.settle('a', null, 1)).toBe(true)
    expect(pending.settle('a', null, 1)).toBe(false)
    expect(pending.settle(42, null, 1)).toBe(false)
    await expect(Promise.all([a, b])).resolves.toEqual([1, 2])
    expect(pending.size).toBe(0)
  })

  it('rejects with ERR_REMOTE when the reply carries an error', async () => {
    const pending = new PendingRequests('test')
    const a = pending.add('a', 10_000, undefined)
    pending.settle('a', 'TOO_SLOW: no', null)
    await expect(a).rejects.toMatchObject({ code: 'ERR_REMOTE', remoteCode: 'TOO_SLOW' })
  })

  it('times each request out at its own deadline with ERR_TIMEOUT', async () => {
    const pending = new PendingRequests('ws 127.0.0.1:1')
    const started = Date.now()
    await expect(pending.add('a', 50, undefined)).rejects.toMatchObject({ code: 'ERR_TIMEOUT' })
    expect(Date.now() - started).toBeGreaterThanOrEqual(45)
    expect(pending.size).toBe(0)
  })

  it('rejects with ERR_ABORTED when the signal aborts, keeping the reason as cause', async () => {
    const pending = new PendingRequests('test')
    const controller = new AbortController()
    const a = pending.add('a', 10_000, controller.signal)
    controller.abort(new Error('gave up'))
    const error = await a.catch((err: GrenacheError) => err)
    expect(error).toMatchObject({ code: 'ERR_ABORTED' })
    expect((error as GrenacheError).cause).toEqual(new Error('gave up'))
  })

  it('fails every request at once when the connection drops', async () => {
    const pending = new PendingRequests('test')
    const all = [pending.add('a', 10_000, undefined), pending.add('b', 10_000, undefined)]
    pending.failAll(new GrenacheError('ERR_CONNECTION_RESET', 'closed'))
    for (const request of all) await expect(request).rejects.toMatchObject({ code: 'ERR_CONNECTION_RESET' })
    expect(pending.size).toBe(0)
  })
})

describe('PendingRequests edge cases', () => {
  it('rejects at once with ERR_ABORTED when the signal is already aborted', async () => {
    const pending = new PendingRequests('test')
    await expect(pending.add('a', 10_000, AbortSignal.abort())).rejects.toMatchObject({ code: 'ERR_ABORTED' })
    expect(pending.size).toBe(0)
    expect(pending.has('a')).toBe(false)
  })

  it('does not fire a deadline Node cannot hold (over 2^31-1 ms) after 1 ms', async () => {
    const pending = new PendingRequests('test')
    const request = pending.add('a', 2 ** 31, undefined)
    await new Promise((resolve) => setTimeout(resolve, 30))
    expect(pending.has('a')).toBe(true)
    pending.settle('a', null, 'ok')
    await expect(request).resolves.toBe('ok')
  })
})
