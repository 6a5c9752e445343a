import { setTimeout as delay } from 'node:timers/promises'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import {
  createSigner,
  generateKeyPair,
  immutableTarget,
  mutableTarget,
  type Signer,
  toHex,
  utf8,
} from '../../runtime/bep44/index.js'
import { GrenacheError } from '../../runtime/errors.js'
import { Link } from '../../runtime/link/index.js'
import { type StartedReferenceGrape, startReferenceGrape } from '../helpers/reference.js'

/**
 * Our Link against reference Grapes (grenache-grape 1.0.0, started in-process with an ed25519
 * verify as an embedding program would pass): two verifying Grapes, and a pair started without
 * verify, where mutable items cannot be stored.
 */

/** The code of the error a call rejects with, or 'resolved'. */
const code = (promise: Promise<unknown>) =>
  promise.then(
    () => 'resolved',
    (err: unknown) => (err instanceof GrenacheError ? err.code : `not a GrenacheError: ${String(err)}`),
  )

/** The reference Grape resolves start() before its DHT bootstrap is done: wait for its nodes. */
async function waitForReferenceNodes(grape: StartedReferenceGrape, count: number): Promise<void> {
  const deadline = Date.now() + 10_000
  while (grape.grape.node.nodes.count() < count) {
    if (Date.now() > deadline) throw new Error(`a reference Grape knows fewer than ${count} DHT nodes`)
    await delay(20)
  }
}

/** Two reference Grapes that know each other. */
async function startReferencePair(conf: Record<string, unknown> = {}): Promise<StartedReferenceGrape[]> {
  const first = await startReferenceGrape([], conf)
  const pair = [first]
  try {
    pair.push(await startReferenceGrape([`127.0.0.1:${first.dhtPort}`], conf))
    await Promise.all(pair.map((grape) => waitForReferenceNodes(grape, 1)))
    return pair
  } catch (err) {
    await Promise.all(pair.map((grape) => grape.stop()))
    throw err
  }
}

describe('our Link against reference Grapes', () => {
  const grapes: StartedReferenceGrape[] = []
  const links: Link[] = []
  let worker: Link
  let client: Link
  let signer: Signer

  beforeAll(async () => {
    grapes.push(...(await startReferencePair()))
    worker = new Link({ grape: grapes[0]?.url as string })
    client = new Link({ grape: grapes[1]?.url as string })
    links.push(worker, client)
    signer = createSigner(generateKeyPair().secretKey)
  })
  afterAll(async () => {
    await Promise.all(links.map((link) => link.close()))
    await Promise.all(grapes.map((grape) => grape.stop()))
  })

  describe('announce() and lookup()', () => {
    it('announce resolves with the number of Grapes that stored it (1)', async () => {
      await expect(worker.announce('ref-grape:count', 4200)).resolves.toBe(1)
    })

    it('finds the worker through the other Grape and through the one it announced to', async () => {
      await worker.announce('ref-grape:both', 4201)
      await expect(client.lookup('ref-grape:both')).resolves.toEqual(['127.0.0.1:4201'])
      await expect(worker.lookup('ref-grape:both')).resolves.toEqual(['127.0.0.1:4201'])
    })

    it('startAnnouncing resolves after the first announce, the worker is found, and stopAnnouncing stops it', async () => {
      await worker.startAnnouncing('ref-grape:periodic', 4202)
      await expect(client.lookup('ref-grape:periodic')).resolves.toEqual(['127.0.0.1:4202'])
      expect(worker.stopAnnouncing('ref-grape:periodic', 4202)).toBe(true)
      expect(worker.stopAnnouncing('ref-grape:periodic', 4202)).toBe(false)
    })

    it('rejects with ERR_LOOKUP_EMPTY for a name nobody announced, and sees a worker announced right after', async () => {
      await expect(code(client.lookup('ref-grape:late'))).resolves.toBe('ERR_LOOKUP_EMPTY')
      await worker.announce('ref-grape:late', 4203)
      await expect(client.lookup('ref-grape:late')).resolves.toEqual(['127.0.0.1:4203'])
    })
  })

  describe('put() and get()', () => {
    it('stores an immutable value under SHA-1 of its bencoding and reads it back through the other Grape', async () => {
      const hash = await worker.put('hello from our Link')
      expect(hash).toBe(immutableTarget('hello from our Link'))
      await expect(client.get(hash)).resolves.toMatchObject({ v: 'hello from our Link' })
      await expect(worker.get(hash, { cache: false })).resolves.toMatchObject({ v: 'hello from our Link' })
    })

    it('resolves null for a hash nobody stored', async () => {
      await expect(client.get('00'.repeat(20))).resolves.toBeNull()
    })

    it('stores a 999-byte multi-byte value', async () => {
      const value = `${'é'.repeat(499)}x`
      const hash = await worker.put(value)
      await expect(client.get(hash)).resolves.toMatchObject({ v: value })
    })

    it('rejects a value over 999 bytes with ERR_INVALID_ARGUMENT before sending it (the reference Grape would take 500 × "é")', async () => {
      await expect(code(worker.put('x'.repeat(1000)))).resolves.toBe('ERR_INVALID_ARGUMENT')
      await expect(code(worker.put('é'.repeat(500)))).resolves.toBe('ERR_INVALID_ARGUMENT')
      await expect(code(worker.putMutable('é'.repeat(500), { signer, seq: 1 }))).resolves.toBe(
        'ERR_INVALID_ARGUMENT',
      )
    })
  })

  describe('putMutable()', () => {
    it('stores an unsalted item and reads it back verified through the other Grape', async () => {
      const own = createSigner(generateKeyPair().secretKey)
      const { hash, seq } = await worker.putMutable('unsalted', { signer: own, seq: 1 })
      expect({ hash, seq }).toEqual({ hash: mutableTarget(own.publicKey), seq: 1 })
      await expect(client.get(hash)).resolves.toMatchObject({
        v: 'unsalted',
        seq: 1,
        k: toHex(own.publicKey),
      })
    })

    it('stores a salted item under SHA-1(k ‖ salt) and reads it back with the salt', async () => {
      const { hash } = await worker.putMutable('21.5', { signer, salt: 'sensor:1', seq: 1 })
      expect(hash).toBe(mutableTarget(signer.publicKey, utf8('sensor:1')))
      await expect(client.get(hash, { salt: 'sensor:1' })).resolves.toMatchObject({ v: '21.5', seq: 1 })
      await expect(worker.get(hash, { salt: 'sensor:1' })).resolves.toMatchObject({ v: '21.5', seq: 1 })
    })

    it('takes a higher seq and refuses an equal or lower one with ERR_GRAPE_SEQ_TOO_LOW', async () => {
      const salt = 'ref-grape:seq'
      const { hash } = await worker.putMutable('one', { signer, salt, seq: 1 })
      await worker.putMutable('two', { signer, salt, seq: 2 })
      await expect(client.get(hash, { salt })).resolves.toMatchObject({ v: 'two', seq: 2 })
      await expect(code(worker.putMutable('zero', { signer, salt, seq: 0 }))).resolves.toBe(
        'ERR_GRAPE_SEQ_TOO_LOW',
      )
      await expect(code(worker.putMutable('two again', { signer, salt, seq: 2 }))).resolves.toBe(
        'ERR_GRAPE_SEQ_TOO_LOW',
      )
      await expect(client.get(hash, { salt })).resolves.toMatchObject({ v: 'two', seq: 2 })
    })

    it('applies cas: a wrong one is refused with ERR_GRAPE_CAS_MISMATCH, the stored seq passes', async () => {
      const salt = 'ref-grape:cas'
      const { hash } = await worker.putMutable('one', { signer, salt, seq: 1 })
      await expect(code(worker.putMutable('two', { signer, salt, seq: 2, cas: 5 }))).resolves.toBe(
        'ERR_GRAPE_CAS_MISMATCH',
      )
      await worker.putMutable('two', { signer, salt, seq: 2, cas: 1 })
      await expect(client.get(hash, { salt })).resolves.toMatchObject({ v: 'two', seq: 2 })
    })

    it('defaults seq to an increasing number, so two puts in a row both land', async () => {
      const salt = 'ref-grape:default-seq'
      const first = await worker.putMutable('first', { signer, salt })
      const second = await worker.putMutable('second', { signer, salt })
      expect(second.seq).toBeGreaterThan(first.seq)
      await expect(client.get(second.hash, { salt })).resolves.toMatchObject({ v: 'second', seq: second.seq })
    })

    it('keeps the bytes of a salt that looks like JSON ("[104,105]"), which the reference Grape would read as "hi"', async () => {
      const own = createSigner(generateKeyPair().secretKey)
      const { hash } = await worker.putMutable('json salt', { signer: own, salt: '[104,105]', seq: 1 })
      expect(hash).toBe(mutableTarget(own.publicKey, utf8('[104,105]')))
      expect(hash).not.toBe(mutableTarget(own.publicKey, utf8('hi')))
      await expect(client.get(hash, { salt: '[104,105]' })).resolves.toMatchObject({ v: 'json salt', seq: 1 })
      await expect(client.get(mutableTarget(own.publicKey, utf8('hi')), { salt: 'hi' })).resolves.toBeNull()
    })

    it('rejects a forged signature: the reference Grape answers "All queries failed" after its KRPC timeout, ERR_GRAPE_QUERIES_FAILED', async () => {
      const forger: Signer = {
        publicKey: signer.publicKey,
        sign: (message) => {
          const signature = Uint8Array.from(signer.sign(message))
          signature[0] = (signature[0] as number) ^ 1
          return signature
        },
      }
      const started = Date.now()
      await expect(
        code(
          worker.putMutable('forged', {
            signer: forger,
            salt: 'ref-grape:forged',
            seq: 1,
            timeoutMs: 15_000,
          }),
        ),
      ).resolves.toBe('ERR_GRAPE_QUERIES_FAILED')
      // Storing nodes drop a bad signature silently: the answer comes only after the 2 s timeout.
      expect(Date.now() - started).toBeGreaterThanOrEqual(1000)
      const hash = mutableTarget(signer.publicKey, utf8('ref-grape:forged'))
      await expect(client.get(hash, { salt: 'ref-grape:forged' })).resolves.toBeNull()
    })

    it('rejects a salt over 64 bytes with ERR_INVALID_ARGUMENT before sending it', async () => {
      await expect(code(worker.putMutable('x', { signer, salt: 's'.repeat(65), seq: 1 }))).resolves.toBe(
        'ERR_INVALID_ARGUMENT',
      )
      await expect(code(worker.putMutable('x', { signer, salt: 'é'.repeat(33), seq: 1 }))).resolves.toBe(
        'ERR_INVALID_ARGUMENT',
      )
    })
  })

  describe('reference Grapes started without verify', () => {
    const unverified: StartedReferenceGrape[] = []
    let link: Link

    beforeAll(async () => {
      unverified.push(...(await startReferencePair({ verify: false })))
      link = new Link({ grape: unverified[0]?.url as string })
      links.push(link)
    })
    afterAll(async () => {
      await link?.close()
      await Promise.all(unverified.map((grape) => grape.stop()))
    })

    it('putMutable rejects with ERR_GRAPE_QUERIES_FAILED: no node can verify, so none stores it', async () => {
      await expect(
        code(link.putMutable('unverifiable', { signer, seq: 1, timeoutMs: 15_000 })),
      ).resolves.toBe('ERR_GRAPE_QUERIES_FAILED')
    })

    it('still stores immutable values', async () => {
      const hash = await link.put('immutable without verify')
      await expect(link.get(hash, { cache: false })).resolves.toMatchObject({ v: 'immutable without verify' })
    })
  })
})
