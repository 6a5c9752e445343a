import { performance } from 'node:perf_hooks'
import { setTimeout as sleep } from 'node:timers/promises'
import { describe, expect, it } from 'vitest'
import type { DhtNode } from '../../../runtime/grape/dht-node.js'
import {
  BACKGROUND_REFRESH_DELAY_MS,
  createHandlers,
  dhtFailure,
  FULL_LOOKUP_EVERY_MS,
} from '../../../runtime/grape/handlers.js'
import { PeerTable } from '../../../runtime/grape/peer-table.js'

const hex = (name: string) => Buffer.from(name).toString('hex')

/** A DHT node whose lookups find `found[name]` and count how often they ran. */
function fakeNode(table: PeerTable, found: Record<string, string[]>, failWith?: Error) {
  const calls = { refresh: 0, revalidate: 0, announce: 0 }
  let release: () => void = () => undefined
  let gate: Promise<void> = Promise.resolve()
  const node = {
    verify: null,
    async refresh(key: string) {
      calls.refresh++
      await gate
      if (failWith) throw failWith
      for (const address of found[Buffer.from(key, 'hex').toString()] ?? []) table.add(key, address)
      table.markRefreshed(key)
    },
    async revalidate(key: string) {
      calls.revalidate++
      await gate
      for (const address of found[Buffer.from(key, 'hex').toString()] ?? []) table.add(key, address)
      table.markRefreshed(key, false)
    },
    async announce(_infoHash: Buffer, _port: number) {
      calls.announce++
      return 1
    },
  }
  return {
    node: node as unknown as DhtNode,
    calls,
    /** Holds refreshes until `open()`. */
    hold() {
      gate = new Promise((resolve) => {
        release = resolve
      })
    },
    open: () => release(),
  }
}

function setup(
  found: Record<string, string[]>,
  lookupRefreshMs = 60_000,
  failWith?: Error,
  signal?: AbortSignal,
) {
  let now = 1_000_000
  const table = new PeerTable({ maxAgeMs: 60_000, now: () => now })
  const fake = fakeNode(table, found, failWith)
  const handlers = createHandlers({
    node: fake.node,
    table,
    lookupRefreshMs,
    onRefreshError: () => undefined,
    ...(signal ? { signal } : {}),
  })
  return { handlers, table, fake, advance: (ms: number) => (now += ms) }
}

describe('createHandlers()', () => {
  describe('lookup', () => {
    it('asks the DHT for a name it has no live peer for, then answers from memory', async () => {
      const { handlers, fake } = setup({ svc: ['127.0.0.1:1'] })
      expect(await handlers.lookup('svc')).toEqual({ status: 200, body: '["127.0.0.1:1"]' })
      expect(await handlers.lookup('svc')).toEqual({ status: 200, body: '["127.0.0.1:1"]' })
      expect(fake.calls.refresh).toBe(1)
    })

    it('never caches an empty answer: every lookup of an unknown name asks the DHT', async () => {
      const { handlers, fake } = setup({})
      expect(await handlers.lookup('nobody')).toEqual({ status: 200, body: '[]' })
      expect(await handlers.lookup('nobody')).toEqual({ status: 200, body: '[]' })
      expect(fake.calls.refresh).toBe(2)
    })

    it('answers from memory at once and revalidates in the background once the name is older than lookupRefreshMs', async () => {
      const { handlers, fake, advance } = setup({ svc: ['127.0.0.1:1'] }, 1000)
      await handlers.lookup('svc')
      advance(1500)
      fake.hold()
      expect(await handlers.lookup('svc')).toEqual({ status: 200, body: '["127.0.0.1:1"]' })
      expect(fake.calls.revalidate).toBe(0)
      await expect.poll(() => fake.calls.revalidate).toBe(1)
      // A revalidation, not a second full lookup.
      expect(fake.calls.refresh).toBe(1)
      fake.open()
    })

    it('starts the background refresh BACKGROUND_REFRESH_DELAY_MS after the answer, once for the lookups in between', async () => {
      const { handlers, fake, advance } = setup({ svc: ['127.0.0.1:1'] }, 1000)
      await handlers.lookup('svc')
      advance(1500)
      const answered = performance.now()
      await handlers.lookup('svc')
      await handlers.lookup('svc')
      await new Promise((resolve) => setImmediate(resolve))
      await handlers.lookup('svc')
      expect(fake.calls.revalidate).toBe(0)
      await expect.poll(() => fake.calls.revalidate).toBe(1)
      // Timers may fire a millisecond early.
      expect(performance.now() - answered).toBeGreaterThanOrEqual(BACKGROUND_REFRESH_DELAY_MS - 2)
      await sleep(BACKGROUND_REFRESH_DELAY_MS * 2)
      expect(fake.calls.revalidate).toBe(1)
    })

    it('drops the background refreshes not started yet when its signal aborts (the Grape closed)', async () => {
      const closed = new AbortController()
      const { handlers, fake, advance } = setup({ svc: ['127.0.0.1:1'] }, 1000, undefined, closed.signal)
      await handlers.lookup('svc')
      advance(1500)
      await handlers.lookup('svc')
      closed.abort()
      await handlers.lookup('svc')
      await sleep(BACKGROUND_REFRESH_DELAY_MS * 3)
      expect(fake.calls).toMatchObject({ refresh: 1, revalidate: 0 })
    })

    it('refreshes with a full lookup instead once the last one is FULL_LOOKUP_EVERY_MS old', async () => {
      const { handlers, fake, advance } = setup({ svc: ['127.0.0.1:1'] }, 1000)
      await handlers.lookup('svc')
      advance(1500)
      await handlers.lookup('svc')
      await expect.poll(() => fake.calls.revalidate).toBe(1)
      advance(FULL_LOOKUP_EVERY_MS)
      expect(await handlers.lookup('svc')).toEqual({ status: 200, body: '["127.0.0.1:1"]' })
      await expect.poll(() => fake.calls.refresh).toBe(2)
      expect(fake.calls.revalidate).toBe(1)
    })

    it('answers the DHT error for a name it knows nothing about', async () => {
      const { handlers } = setup({}, 1000, new Error('No nodes to query'))
      expect(await handlers.lookup('svc')).toEqual({ status: 200, body: '"No nodes to query"' })
    })

    it('answers "ERR_GRAPE_LOOKUP" for a missing, empty or non-string name', async () => {
      const { handlers } = setup({})
      for (const data of [undefined, '', 42, ['svc'], {}]) {
        expect(await handlers.lookup(data)).toEqual({ status: 200, body: '"ERR_GRAPE_LOOKUP"' })
      }
    })

    it('answers at most 100 peers', async () => {
      const many = Array.from({ length: 150 }, (_, i) => `127.0.0.1:${i + 1}`)
      const { handlers } = setup({ big: many })
      const answer = JSON.parse((await handlers.lookup('big')).body as string) as string[]
      expect(answer).toHaveLength(100)
      expect(new Set(answer).size).toBe(100)
    })
  })

  describe('announce', () => {
    it('validates the request like the reference, and the port range besides', async () => {
      const { handlers, fake } = setup({})
      expect(await handlers.announce('svc')).toEqual({ status: 200, body: '"ERR_GRAPE_ANNOUNCE"' })
      expect(await handlers.announce(['svc', '1234'])).toEqual({
        status: 200,
        body: '"ERR_GRAPE_SERVICE_PORT"',
      })
      expect(await handlers.announce(['svc', 1.5])).toEqual({ status: 200, body: '"ERR_GRAPE_SERVICE_PORT"' })
      expect(await handlers.announce(['svc', 70000])).toEqual({
        status: 200,
        body: '"ERR_GRAPE_SERVICE_PORT"',
      })
      expect(await handlers.announce(['svc', -1])).toEqual({ status: 200, body: '"ERR_GRAPE_SERVICE_PORT"' })
      expect(await handlers.announce(['', 1000])).toEqual({ status: 200, body: '"ERR_GRAPE_ANNOUNCE"' })
      expect(await handlers.announce([42, 1000])).toEqual({ status: 500, body: 'ERR_GRAPE_PAYLOAD_INVALID' })
      expect(fake.calls.announce).toBe(0)
      expect(await handlers.announce(['svc', 1000])).toEqual({ status: 200, body: '1' })
    })

    it('refreshes a name answered from memory after announcing it, so the new peer shows up', async () => {
      const found: Record<string, string[]> = { svc: ['127.0.0.1:1'] }
      const { handlers, table, fake } = setup(found)
      await handlers.lookup('svc')
      found.svc = ['127.0.0.1:1', '127.0.0.1:2']
      await handlers.announce(['svc', 2])
      await expect.poll(() => table.get(hex('svc')).length).toBe(2)
      expect(fake.calls.refresh).toBe(2)
    })

    it('acks an announce of a known name before its refresh ends; the next lookup waits for it', async () => {
      const found: Record<string, string[]> = { svc: ['127.0.0.1:1'] }
      const { handlers, fake } = setup(found)
      await handlers.lookup('svc')
      found.svc = ['127.0.0.1:1', '127.0.0.1:2']
      fake.hold()
      expect(await handlers.announce(['svc', 2])).toEqual({ status: 200, body: '1' })
      const next = handlers.lookup('svc')
      expect(next).toBeInstanceOf(Promise)
      fake.open()
      const answer = await next
      expect(JSON.parse(answer.body ?? '[]').sort()).toEqual(['127.0.0.1:1', '127.0.0.1:2'])
      expect(fake.calls.refresh).toBe(2)
    })

    it('answers a stale name with its known peers when the refresh fails', async () => {
      const { handlers, table } = setup({}, 60_000, new Error('No nodes to query'))
      table.add(hex('svc'), '127.0.0.1:1')
      table.markStale(hex('svc'))
      expect(await handlers.lookup('svc')).toEqual({ status: 200, body: '["127.0.0.1:1"]' })
    })
  })

  describe('dhtFailure()', () => {
    it('sends BEP 44 3xx codes as the HTTP status and everything else as 200', () => {
      const seq = Object.assign(new Error('302 sequence number less than current'), { code: 302 })
      expect(dhtFailure(seq)).toEqual({ status: 302, body: '"302 sequence number less than current"' })
      const timeout = Object.assign(new Error('Query timed out'), { code: 'ETIMEDOUT' })
      expect(dhtFailure(timeout)).toEqual({ status: 200, body: '"Query timed out"' })
      expect(dhtFailure(Object.assign(new Error('x'), { code: 400 }))).toEqual({ status: 200, body: '"x"' })
    })
  })
})
