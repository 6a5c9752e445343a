import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import {
  createSigner,
  encodeSignedData,
  generateKeyPair,
  immutableTarget,
  mutableTarget,
  toHex,
  utf8,
} from '../../runtime/bep44/index.js'
import { type ReferenceLink, referenceLink } from '../helpers/reference.js'
import { createTestnet, type Testnet } from '../helpers/testnet.js'

/**
 * The reference Link (grenache-nodejs-link 1.0.2) used unchanged against our Grapes: a two-Grape
 * testnet, one reference Link per Grape.
 */

/** The error or result a callback-style reference call ends with. */
interface Outcome<T> {
  err: (Error & { code?: unknown }) | null
  res: T | undefined
}

/** A callback-style call; the callback accepts any result, typed by the caller as `T`. */
type Start = (cb: (err: Error | null, res?: unknown) => void) => void

function settle<T = unknown>(start: Start): Promise<Outcome<T>> {
  return new Promise((resolve) => start((err, res) => resolve({ err, res: res as T | undefined })))
}

/** A result, or a rejection with the reference Link's error. */
async function result<T = unknown>(start: Start): Promise<T | undefined> {
  const { err, res } = await settle<T>(start)
  if (err) throw err
  return res
}

/** The announce loop of the reference Link (not in the shared helper's interface). */
interface AnnouncingLink extends ReferenceLink {
  startAnnouncing(name: string, port: number, opts: object, cb: (err: Error | null) => void): void
  stopAnnouncing(name: string, port: number): void
}

const signer = createSigner(generateKeyPair().secretKey)
const publicKey = toHex(signer.publicKey)

/** The `data` of a mutable put as any reference client posts it: `{v, k, sig, seq, salt?, cas?}`. */
function signedItem(v: string, seq: number, extra: { salt?: string; cas?: number } = {}) {
  const salt = extra.salt === undefined ? undefined : utf8(extra.salt)
  const sig = toHex(signer.sign(encodeSignedData({ v: utf8(v), seq, salt })))
  return { v, k: publicKey, sig, seq, ...extra }
}

describe('grenache-nodejs-link 1.0.2 against our Grapes', () => {
  let net: Testnet
  let first: ReferenceLink
  let second: ReferenceLink

  beforeAll(async () => {
    net = await createTestnet(2)
    first = referenceLink(net.urls[0] as string)
    second = referenceLink(net.urls[1] as string)
  })
  afterAll(async () => {
    first?.stop()
    second?.stop()
    await net?.close()
  })

  describe('announce and lookup', () => {
    it('announce calls back with the number of Grapes that stored it (1)', async () => {
      await expect(result((cb) => first.announce('ref-link:count', 4100, {}, cb))).resolves.toBe(1)
    })

    it('finds an announced worker through the same Grape and through the other one', async () => {
      await result((cb) => first.announce('ref-link:both', 4101, {}, cb))
      await expect(result((cb) => first.lookup('ref-link:both', {}, cb))).resolves.toEqual(['127.0.0.1:4101'])
      await expect(result((cb) => second.lookup('ref-link:both', {}, cb))).resolves.toEqual([
        '127.0.0.1:4101',
      ])
    })

    it('finds every worker announced under a name', async () => {
      await result((cb) => first.announce('ref-link:many', 4102, {}, cb))
      await result((cb) => first.announce('ref-link:many', 4103, {}, cb))
      const found = await result<string[]>((cb) => second.lookup('ref-link:many', {}, cb))
      expect([...(found ?? [])].sort()).toEqual(['127.0.0.1:4102', '127.0.0.1:4103'])
    })

    // BUG (fails until fixed): the second Grape stored the first worker's announce, so it answers
    // the name from memory without asking the DHT, and the worker announced through it (stored on
    // the first Grape only) is missing; the reference Link then caches that answer for 10 s. A
    // reference Grape runs a DHT lookup for every lookup and answers both.
    it('finds a worker announced through the Grape it asks, next to one that Grape stored for another Grape', async () => {
      await result((cb) => first.announce('ref-link:own-grape', 4105, {}, cb))
      await result((cb) => second.announce('ref-link:own-grape', 4106, {}, cb))
      const found = await result<string[]>((cb) => second.lookup('ref-link:own-grape', {}, cb))
      expect([...(found ?? [])].sort()).toEqual(['127.0.0.1:4105', '127.0.0.1:4106'])
    })

    it('startAnnouncing calls back once with the first result, and the worker is then found', async () => {
      const announcing = first as AnnouncingLink
      const calls: Outcome<unknown>[] = []
      const firstResult = new Promise<void>((resolve) =>
        announcing.startAnnouncing('ref-link:periodic', 4104, { interval: 60_000 }, (err: Error | null) => {
          calls.push({ err, res: undefined })
          resolve()
        }),
      )
      await firstResult
      try {
        expect(calls).toEqual([{ err: null, res: undefined }])
        await expect(result((cb) => second.lookup('ref-link:periodic', {}, cb))).resolves.toEqual([
          '127.0.0.1:4104',
        ])
      } finally {
        announcing.stopAnnouncing('ref-link:periodic', 4104)
      }
    })

    it('reports ERR_GRAPE_LOOKUP_EMPTY for a name nobody announced (our Grape answers [])', async () => {
      const { err } = await settle((cb) => second.lookup('ref-link:nobody', {}, cb))
      expect(err?.message).toBe('ERR_GRAPE_LOOKUP_EMPTY')
    })

    it('reports our Grape\'s answer to a bad port as the reference Grape\'s: "ERR_GRAPE_SERVICE_PORT" as a result, not an error', async () => {
      await expect(result((cb) => first.announce('ref-link:bad-port', 1.5, {}, cb))).resolves.toBe(
        'ERR_GRAPE_SERVICE_PORT',
      )
    })
  })

  describe('immutable put and get', () => {
    it('put calls back with SHA-1 of the bencoded value, and get finds it through either Grape', async () => {
      const v = 'hello from the reference Link'
      const hash = await result<string>((cb) => first.put({ v }, cb))
      expect(hash).toBe(immutableTarget(v))
      for (const link of [second, first]) {
        const item = await result<Record<string, unknown>>((cb) => link.get(hash as string, cb))
        expect(item).toMatchObject({ v, id: expect.stringMatching(/^[0-9a-f]{40}$/) })
        expect(Object.keys(item ?? {})).toEqual(['id', 'token', 'v'])
      }
      const asObject = await result<Record<string, unknown>>((cb) => second.get({ hash }, cb))
      expect(asObject).toMatchObject({ v })
    })

    it("hands back '' for a hash nobody stored (our Grape answers an empty body)", async () => {
      await expect(result((cb) => second.get('00'.repeat(20), cb))).resolves.toBe('')
      await expect(result((cb) => second.get({ hash: 'ff'.repeat(20) }, cb))).resolves.toBe('')
    })

    it('gets the put-layer error of a value of 1000 bytes as a result string, as from the reference Grape', async () => {
      await expect(result((cb) => first.put({ v: 'x'.repeat(1000) }, cb))).resolves.toBe(
        'v must be less than 1000 bytes in put()',
      )
    })
  })

  describe('mutable put (posted as {v, k, sig, seq, salt}) and get', () => {
    it('stores an unsalted item signed with our createSigner, and get {hash} returns it with k, sig and seq', async () => {
      const item = signedItem('unsalted one', 1)
      const hash = await result<string>((cb) => first.put(item, cb))
      expect(hash).toBe(mutableTarget(signer.publicKey))
      const got = await result<Record<string, unknown>>((cb) => second.get({ hash }, cb))
      expect(got).toMatchObject({ v: 'unsalted one', k: publicKey, sig: item.sig, seq: 1 })
      const again = await result<Record<string, unknown>>((cb) => first.get(hash as string, cb))
      expect(again).toMatchObject({ v: 'unsalted one', seq: 1 })
    })

    it('stores a salted item under SHA-1(k ‖ salt), and get {hash, salt} returns it', async () => {
      const salt = 'sensor:1'
      const item = signedItem('21.5', 1, { salt })
      const hash = await result<string>((cb) => first.put(item, cb))
      expect(hash).toBe(mutableTarget(signer.publicKey, utf8(salt)))
      const got = await result<Record<string, unknown>>((cb) => second.get({ hash, salt }, cb))
      expect(got).toMatchObject({ v: '21.5', k: publicKey, sig: item.sig, seq: 1 })
      const fromPutter = await result<Record<string, unknown>>((cb) => first.get({ hash, salt }, cb))
      expect(fromPutter).toMatchObject({ v: '21.5', seq: 1, salt })
    })

    it('takes a higher seq, then refuses a lower one with an error of code 302 and a wrong cas with code 301', async () => {
      const salt = 'ref-link:seq'
      const hash = await result<string>((cb) => first.put(signedItem('v1', 1, { salt }), cb))
      await expect(result((cb) => first.put(signedItem('v2', 2, { salt }), cb))).resolves.toBe(hash)
      await expect(result((cb) => second.get({ hash, salt }, cb))).resolves.toMatchObject({ v: 'v2', seq: 2 })

      const lower = await settle((cb) => first.put(signedItem('v0', 1, { salt }), cb))
      expect({ code: lower.err?.code, message: lower.err?.message }).toEqual({
        code: 302,
        message: '302 sequence number less than current',
      })
      // Through the Grape that put it: the other Grape stores the item and refuses an equal seq.
      const equal = await settle((cb) => first.put(signedItem('v2 again', 2, { salt }), cb))
      expect(equal.err?.code).toBe(302)

      const wrongCas = await settle((cb) => first.put(signedItem('v3', 3, { salt, cas: 1 }), cb))
      expect({ code: wrongCas.err?.code, message: wrongCas.err?.message }).toEqual({
        code: 301,
        message: '301 CAS mismatch, re-read and try again',
      })
      await expect(result((cb) => first.put(signedItem('v3', 3, { salt, cas: 2 }), cb))).resolves.toBe(hash)
      await expect(result((cb) => second.get({ hash, salt }, cb))).resolves.toMatchObject({ v: 'v3', seq: 3 })
    })

    it('gets "206 invalid signature" as a result string for a forged item (our Grape verifies), and nothing is stored', async () => {
      const item = signedItem('forged', 1, { salt: 'ref-link:forged' })
      item.sig = toHex(signer.sign(utf8('something else')))
      await expect(result((cb) => first.put(item, cb))).resolves.toBe('206 invalid signature')
      const hash = mutableTarget(signer.publicKey, utf8('ref-link:forged'))
      await expect(result((cb) => second.get({ hash, salt: 'ref-link:forged' }, cb))).resolves.toBe('')
    })
  })
})

describe('grenache-nodejs-link 1.0.2 against Grapes that refuse browsers (Origin and Host checks)', () => {
  let net: Testnet
  const links: ReferenceLink[] = []
  beforeAll(async () => {
    net = await createTestnet(2, {
      allowedOrigins: ['https://dash.example'],
      allowedHosts: ['grape.internal'],
    })
  })
  afterAll(async () => {
    for (const link of links) link.stop()
    await net?.close()
  })

  it('announces and looks up by http://127.0.0.1 and http://localhost, and no request is refused', async () => {
    const [first, second] = net.grapes.map((grape) => grape.address.apiPort) as [number, number]
    const byAddress = referenceLink(`http://127.0.0.1:${first}`)
    const byName = referenceLink(`http://localhost:${second}`)
    links.push(byAddress, byName)
    await expect(result((cb) => byName.announce('ref-link:guarded', 4120, {}, cb))).resolves.toBe(1)
    await expect(result((cb) => byAddress.lookup('ref-link:guarded', {}, cb))).resolves.toEqual([
      '127.0.0.1:4120',
    ])
    await expect(result((cb) => byAddress.announce('ref-link:guarded-2', 4121, {}, cb))).resolves.toBe(1)
    await expect(result((cb) => byName.lookup('ref-link:guarded-2', {}, cb))).resolves.toEqual([
      '127.0.0.1:4121',
    ])
    expect(net.grapes.map((grape) => grape.stats.apiRequestsRefused)).toEqual([0, 0])
  })
})
