import { once } from 'node:events'
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest'
import { createSigner, generateKeyPair, immutableTarget, toHex } from '../../../runtime/bep44/index.js'
import { GrenacheError } from '../../../runtime/errors.js'
import { Link } from '../../../runtime/link/index.js'
import { type FakeGrape, json, startFakeGrape } from '../../helpers/fake-grape.js'
import { settledHandles, socketHandles } from '../../helpers/handles.js'
import { createTestnet, type Testnet } from '../../helpers/testnet.js'

const code = (promise: Promise<unknown>) =>
  promise.then(
    () => 'resolved',
    (err: unknown) => (err instanceof GrenacheError ? err.code : `not a GrenacheError: ${String(err)}`),
  )

describe('Link', () => {
  describe('against a testnet of two Grapes', () => {
    let net: Testnet
    let worker: Link
    let client: Link
    const before = socketHandles()

    beforeAll(async () => {
      net = await createTestnet(2)
      worker = net.link(0)
      client = net.link(1)
    })
    afterAll(async () => {
      await net.close()
      expect(await settledHandles(before)).toEqual(before)
    })

    describe('lookup()', () => {
      it('rejects with ERR_LOOKUP_EMPTY when nothing is announced', async () => {
        await expect(code(client.lookup('nobody-here'))).resolves.toBe('ERR_LOOKUP_EMPTY')
      })

      it('does not cache an empty answer: a worker announced just after is found at once', async () => {
        await expect(code(client.lookup('late-worker'))).resolves.toBe('ERR_LOOKUP_EMPTY')
        await worker.announce('late-worker', 4100)
        await expect(client.lookup('late-worker')).resolves.toEqual(['127.0.0.1:4100'])
      })

      it('finds a worker through the Grape it announced to and through the other one', async () => {
        await worker.announce('both-ways', 4101)
        await expect(client.lookup('both-ways')).resolves.toEqual(['127.0.0.1:4101'])
        await expect(worker.lookup('both-ways')).resolves.toEqual(['127.0.0.1:4101'])
      })

      it('returns every worker announced under a name', async () => {
        await worker.announce('many', 4102)
        await worker.announce('many', 4103)
        const found = await client.lookup('many')
        expect([...found].sort()).toEqual(['127.0.0.1:4102', '127.0.0.1:4103'])
      })

      it('rejects a name that is not a non-empty string with ERR_INVALID_ARGUMENT', async () => {
        await expect(code(client.lookup(''))).resolves.toBe('ERR_INVALID_ARGUMENT')
        await expect(code(client.lookup(42 as unknown as string))).resolves.toBe('ERR_INVALID_ARGUMENT')
      })
    })

    describe('announce()', () => {
      it('resolves with the number of DHT nodes that stored the announce', async () => {
        await expect(worker.announce('counted', 4104)).resolves.toBe(1)
      })

      it('rejects a port outside 1 to 65535 with ERR_INVALID_ARGUMENT', async () => {
        await expect(code(worker.announce('bad-port', 0))).resolves.toBe('ERR_INVALID_ARGUMENT')
        await expect(code(worker.announce('bad-port', 70000))).resolves.toBe('ERR_INVALID_ARGUMENT')
      })
    })

    describe('put() and get()', () => {
      it('stores an immutable value under SHA-1 of its bencoding and reads it back through the other Grape', async () => {
        const hash = await worker.put('Hello World!')
        expect(hash).toBe('e5f96f6f38320f0f33959cb4d3d656452117aadb')
        const item = await client.get(hash)
        expect(item?.v).toBe('Hello World!')
        expect(item?.id).toMatch(/^[0-9a-f]{40}$/)
      })

      it('counts values in UTF-8 bytes: 999 bytes pass, 1000 are refused before reaching the Grape', async () => {
        const fits = `${'é'.repeat(499)}a`
        await expect(worker.put(fits)).resolves.toBe(immutableTarget(fits))
        await expect(code(worker.put('é'.repeat(500)))).resolves.toBe('ERR_INVALID_ARGUMENT')
      })

      it('resolves null for a hash nobody stored, and accepts upper-case hashes', async () => {
        await expect(client.get('AB'.repeat(20))).resolves.toBeNull()
      })

      it('rejects a hash that is not 40 hex digits with ERR_INVALID_ARGUMENT', async () => {
        await expect(code(client.get('zz'))).resolves.toBe('ERR_INVALID_ARGUMENT')
      })
    })

    describe('putMutable()', () => {
      const signer = createSigner(generateKeyPair().secretKey)

      it('stores a signed item, with and without salt, and reads it back verified', async () => {
        const plain = await worker.putMutable('v1', { signer, seq: 1 })
        const salted = await worker.putMutable('sv1', { signer, seq: 1, salt: 'sensor:1' })
        expect(plain.hash).not.toBe(salted.hash)
        const item = await client.get(salted.hash, { salt: 'sensor:1' })
        expect(item).toMatchObject({ v: 'sv1', seq: 1, k: toHex(signer.publicKey) })
        await expect(client.get(plain.hash)).resolves.toMatchObject({ v: 'v1', seq: 1 })
      })

      it('accepts a higher seq and refuses an equal or lower one with ERR_GRAPE_SEQ_TOO_LOW', async () => {
        await worker.putMutable('a', { signer, seq: 10, salt: 'seq' })
        await worker.putMutable('b', { signer, seq: 11, salt: 'seq' })
        await expect(code(worker.putMutable('c', { signer, seq: 11, salt: 'seq' }))).resolves.toBe(
          'ERR_GRAPE_SEQ_TOO_LOW',
        )
        await expect(code(worker.putMutable('c', { signer, seq: 3, salt: 'seq' }))).resolves.toBe(
          'ERR_GRAPE_SEQ_TOO_LOW',
        )
        await expect(
          client.get((await worker.putMutable('d', { signer, seq: 12, salt: 'seq' })).hash, { salt: 'seq' }),
        ).resolves.toMatchObject({ v: 'd', seq: 12 })
      })

      it('applies cas: the stored seq passes, another is refused with ERR_GRAPE_CAS_MISMATCH', async () => {
        await worker.putMutable('x', { signer, seq: 1, salt: 'cas' })
        await expect(code(worker.putMutable('y', { signer, seq: 2, cas: 5, salt: 'cas' }))).resolves.toBe(
          'ERR_GRAPE_CAS_MISMATCH',
        )
        await expect(worker.putMutable('y', { signer, seq: 2, cas: 1, salt: 'cas' })).resolves.toMatchObject({
          seq: 2,
        })
      })

      it('defaults seq to microseconds since the epoch, increasing from one put to the next', async () => {
        const first = await worker.putMutable('t1', { signer, salt: 'clock' })
        const second = await worker.putMutable('t2', { signer, salt: 'clock' })
        expect(first.seq).toBeGreaterThan(Date.now() * 1000 - 60_000_000)
        expect(second.seq).toBeGreaterThan(first.seq)
      })

      it('keeps the bytes of a salt that looks like JSON, which Grapes would otherwise reinterpret', async () => {
        const { hash } = await worker.putMutable('json salt', { signer, seq: 1, salt: '[104,105]' })
        await expect(client.get(hash, { salt: '[104,105]' })).resolves.toMatchObject({ v: 'json salt' })
        const hi = await worker.putMutable('plain salt', { signer, seq: 1, salt: 'hi' })
        expect(hi.hash).not.toBe(hash)
      })

      it('signs with a grenache-cli expanded key as well as with a seed', async () => {
        const { secretKey } = generateKeyPair()
        const { expandSeed } = await import('../../../runtime/bep44/index.js')
        const fromCli = createSigner(expandSeed(secretKey))
        const { hash } = await worker.putMutable('from the cli key', { signer: fromCli, seq: 1 })
        await expect(client.get(hash)).resolves.toMatchObject({ v: 'from the cli key' })
      })

      it('refuses a salt over 64 bytes and a missing signer with ERR_INVALID_ARGUMENT', async () => {
        await expect(code(worker.putMutable('v', { signer, seq: 1, salt: 's'.repeat(65) }))).resolves.toBe(
          'ERR_INVALID_ARGUMENT',
        )
        await expect(code(worker.putMutable('v', { seq: 1 } as never))).resolves.toBe('ERR_INVALID_ARGUMENT')
      })

      it('rejects a salted item read without its salt with ERR_ITEM_INVALID (it cannot be verified)', async () => {
        const { hash } = await worker.putMutable('secret', { signer, seq: 1, salt: 'needed' })
        await expect(code(client.get(hash))).resolves.toBe('ERR_ITEM_INVALID')
      })
    })
  })

  describe('against a scripted Grape', () => {
    let fake: FakeGrape | undefined
    let link: Link | undefined
    afterEach(async () => {
      await link?.close()
      await fake?.close()
      link = undefined
      fake = undefined
    })

    it('shares one Grape call between concurrent lookups of a name', async () => {
      fake = await startFakeGrape(async () => {
        await new Promise((resolve) => setTimeout(resolve, 50))
        return json(['10.0.0.1:1'])
      })
      link = new Link({ grape: fake.url })
      const answers = await Promise.all(Array.from({ length: 10 }, () => link?.lookup('shared')))
      expect(answers.every((a) => a?.[0] === '10.0.0.1:1')).toBe(true)
      expect(fake.count('lookup')).toBe(1)
    })

    it('serves a cached answer, then refreshes it in the background once it is older than lookupRefreshMs', async () => {
      let n = 0
      fake = await startFakeGrape(() => json([`10.0.0.${++n}:1`]))
      link = new Link({ grape: fake.url, lookupRefreshMs: 100 })
      await expect(link.lookup('svc')).resolves.toEqual(['10.0.0.1:1'])
      await expect(link.lookup('svc')).resolves.toEqual(['10.0.0.1:1'])
      expect(fake.count('lookup')).toBe(1)
      await new Promise((resolve) => setTimeout(resolve, 150))
      await expect(link.lookup('svc')).resolves.toEqual(['10.0.0.1:1'])
      await expect.poll(() => fake?.count('lookup'), { timeout: 5000 }).toBe(2)
      await expect(link.lookup('svc')).resolves.toEqual(['10.0.0.2:1'])
    })

    it('peek() answers from the cache without waiting, and nothing before a lookup filled it', async () => {
      fake = await startFakeGrape(() => json(['10.0.0.9:1']))
      link = new Link({ grape: fake.url })
      expect(link.peek('svc')).toBeUndefined()
      await link.lookup('svc')
      expect(link.peek('svc')).toEqual(['10.0.0.9:1'])
      expect(fake.count('lookup')).toBe(1)
      link.invalidate('svc')
      expect(link.peek('svc')).toBeUndefined()
    })

    it('honours timeoutMs within a generous bound against a Grape that never answers', async () => {
      fake = await startFakeGrape(() => 'hang')
      link = new Link({ grape: fake.url })
      const started = Date.now()
      await expect(code(link.lookup('slow', { timeoutMs: 200 }))).resolves.toBe('ERR_TIMEOUT')
      expect(Date.now() - started).toBeLessThan(5000)
      await expect(code(link.put('x', { timeoutMs: 100 }))).resolves.toBe('ERR_TIMEOUT')
    })

    it('rejects with ERR_ABORTED when the signal aborts', async () => {
      fake = await startFakeGrape(() => 'hang')
      link = new Link({ grape: fake.url })
      const controller = new AbortController()
      const pending = code(link.announce('svc', 1000, { signal: controller.signal }))
      setTimeout(() => controller.abort(new Error('user gave up')), 50)
      await expect(pending).resolves.toBe('ERR_ABORTED')
      await expect(code(link.announce('svc', 1000, { signal: AbortSignal.abort() }))).resolves.toBe(
        'ERR_ABORTED',
      )
    })

    it('turns the Grape error strings into codes instead of reporting success', async () => {
      const answers: Record<string, unknown> = {
        announce: 'No nodes to query',
        put: 'All queries failed',
        get: 'ERR_GRAPE_HASH_FORMAT',
        lookup: 'ERR_GRAPE_LOOKUP',
      }
      fake = await startFakeGrape(({ op }) => json(answers[op]))
      link = new Link({ grape: fake.url })
      await expect(code(link.announce('svc', 1000))).resolves.toBe('ERR_GRAPE_NO_NODES')
      await expect(code(link.put('x'))).resolves.toBe('ERR_GRAPE_QUERIES_FAILED')
      await expect(code(link.get('a'.repeat(40)))).resolves.toBe('ERR_GRAPE_REJECTED')
      await expect(code(link.lookup('svc'))).resolves.toBe('ERR_GRAPE_REJECTED')
    })

    it('rejects answers of the wrong shape with ERR_GRAPE_BAD_ANSWER', async () => {
      fake = await startFakeGrape(({ op }) =>
        op === 'lookup'
          ? json({ not: 'an array' })
          : op === 'put'
            ? json('0'.repeat(40))
            : { body: 'not json' },
      )
      link = new Link({ grape: fake.url })
      await expect(code(link.lookup('svc'))).resolves.toBe('ERR_GRAPE_BAD_ANSWER')
      await expect(code(link.put('x'))).resolves.toBe('ERR_GRAPE_BAD_ANSWER')
      await expect(code(link.announce('svc', 1))).resolves.toBe('ERR_GRAPE_BAD_ANSWER')
    })

    it('rejects a forged item with ERR_ITEM_INVALID', async () => {
      const hash = immutableTarget('genuine')
      fake = await startFakeGrape(() => json({ id: '0'.repeat(40), token: null, v: 'forged' }))
      link = new Link({ grape: fake.url })
      await expect(code(link.get(hash))).resolves.toBe('ERR_ITEM_INVALID')
      await expect(link.get(hash, { verify: false })).resolves.toMatchObject({ v: 'forged' })
    })

    it('rejects with ERR_CONNECTION_REFUSED after maxAttempts when no Grape listens', async () => {
      fake = await startFakeGrape(() => json(1))
      const url = fake.url
      await fake.close()
      fake = undefined
      link = new Link({ grape: url, maxAttempts: 2 })
      await expect(code(link.lookup('svc'))).resolves.toBe('ERR_CONNECTION_REFUSED')
    })

    it('maps HTTP 413 to ERR_GRAPE_PAYLOAD_SIZE', async () => {
      fake = await startFakeGrape(() => ({ status: 413, body: 'ERR_GRAPE_PAYLOAD_SIZE' }))
      link = new Link({ grape: fake.url })
      await expect(code(link.put('x'))).resolves.toBe('ERR_GRAPE_PAYLOAD_SIZE')
    })

    describe('startAnnouncing()', () => {
      it('retries the first announce until it succeeds, then re-announces every announceIntervalMs', async () => {
        fake = await startFakeGrape((_, i) => (i < 1 ? json('No nodes to query') : json(1)))
        link = new Link({ grape: fake.url, announceIntervalMs: 150 })
        await link.startAnnouncing('svc', 1000)
        expect(fake.count('announce')).toBe(2)
        await expect.poll(() => fake?.count('announce'), { timeout: 5000 }).toBeGreaterThanOrEqual(4)
        expect(fake.requests.every((r) => JSON.stringify(r.data) === '["svc",1000]')).toBe(true)
      })

      it('rejects with ERR_TIMEOUT naming the last failure, and then announces nothing', async () => {
        fake = await startFakeGrape(() => json('No nodes to query'))
        link = new Link({ grape: fake.url, announceIntervalMs: 100 })
        const error = await link.startAnnouncing('svc', 1000, { timeoutMs: 300 }).catch((err: unknown) => err)
        expect(error).toBeInstanceOf(GrenacheError)
        expect((error as GrenacheError).code).toBe('ERR_TIMEOUT')
        expect((error as GrenacheError).message).toContain('No nodes to query')
        const seen = fake.count('announce')
        await new Promise((resolve) => setTimeout(resolve, 1300))
        expect(fake.count('announce')).toBe(seen)
      })

      it('reports a failed re-announce as announce:error and keeps going', async () => {
        let failing = false
        fake = await startFakeGrape(() => (failing ? { status: 500, body: 'boom' } : json(1)))
        link = new Link({ grape: fake.url, announceIntervalMs: 100 })
        await link.startAnnouncing('svc', 1000)
        failing = true
        const [name, port, error] = await once(link, 'announce:error')
        expect([name, port, (error as GrenacheError).code]).toEqual(['svc', 1000, 'ERR_GRAPE_REJECTED'])
        failing = false
        const seen = fake.count('announce')
        await expect.poll(() => fake?.count('announce'), { timeout: 5000 }).toBeGreaterThan(seen)
      })

      it('joins a running announcer for the same name and port, and stops on stopAnnouncing()', async () => {
        fake = await startFakeGrape(() => json(1))
        link = new Link({ grape: fake.url, announceIntervalMs: 100 })
        await Promise.all([link.startAnnouncing('svc', 1000), link.startAnnouncing('svc', 1000)])
        expect(fake.count('announce')).toBe(1)
        expect(link.stopAnnouncing('svc', 1000)).toBe(true)
        expect(link.stopAnnouncing('svc', 1000)).toBe(false)
        const seen = fake.count('announce')
        await new Promise((resolve) => setTimeout(resolve, 400))
        expect(fake.count('announce')).toBe(seen)
      })
    })

    describe('close()', () => {
      it('is idempotent, stops announcing, and rejects later calls with ERR_CLOSED', async () => {
        const before = socketHandles()
        fake = await startFakeGrape(() => json(1))
        link = new Link({ grape: fake.url, announceIntervalMs: 100 })
        await link.startAnnouncing('svc', 1000)
        const closing = link.close()
        expect(link.close()).toBe(closing)
        await closing
        const seen = fake.count('announce')
        await expect(code(link.lookup('svc'))).resolves.toBe('ERR_CLOSED')
        await expect(code(link.startAnnouncing('svc', 1000))).resolves.toBe('ERR_CLOSED')
        await new Promise((resolve) => setTimeout(resolve, 300))
        expect(fake.count('announce')).toBe(seen)
        await fake.close()
        fake = undefined
        expect(await settledHandles(before)).toEqual(before)
      })
    })
  })

  describe('constructor', () => {
    it('rejects invalid options with ERR_INVALID_OPTION naming the option', () => {
      expect(() => new Link({ grape: 'not a url' })).toThrow(/options\.grape/)
      expect(() => new Link({ grape: 'ws://127.0.0.1:1' })).toThrow(/http: or https:/)
      expect(() => new Link({ grape: 'http://127.0.0.1:1', requestTimeoutMs: 0 })).toThrow(/requestTimeoutMs/)
      const thrown = (() => {
        try {
          new Link({ grape: 'http://127.0.0.1:1', maxAttempts: 1.5 })
        } catch (err) {
          return err
        }
      })()
      expect(thrown).toBeInstanceOf(GrenacheError)
      expect((thrown as GrenacheError).code).toBe('ERR_INVALID_OPTION')
    })
  })
})
