import type { DhtPutOptions } from 'bittorrent-dht'
import fc from 'fast-check'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { createSigner, expandSeed, toHex, verifySignature } from '../../runtime/bep44/index.js'
import { encodeSignedData } from '../../runtime/bep44/signed-data.js'
import { mutableTarget } from '../../runtime/bep44/targets.js'
import { isGrenacheError } from '../../runtime/errors.js'
import { bencodedLength } from '../../runtime/grape/bencode.js'
import {
  decodeGet,
  decodePut,
  encodeItem,
  isRejection,
  MAX_SALT_BYTES,
} from '../../runtime/grape/item-codec.js'
import { Link } from '../../runtime/link/index.js'
import { itemProblem, saltForGrape } from '../../runtime/link/items.js'
import { text } from '../helpers/arbitraries.js'
import { type FakeAnswer, type FakeGrape, startFakeGrape } from '../helpers/fake-grape.js'
import { settledHandles, socketHandles } from '../helpers/handles.js'
import {
  budget,
  cases,
  fuzzAssert,
  type ProcessWatch,
  runBatches,
  timeoutFor,
  watchProcess,
} from './harness.js'
import { anyJson } from './http-requests.js'
import { field, getData, hex, putData } from './item-data.js'

/**
 * The BEP 44 item codec, both ends: what a Grape makes of the `data` of a `/put` or `/get` (any
 * JSON), the signed round trip put → store → get → verify with every tampering refused, the salt's
 * trip through the reference's JSON-first reading, keys of any bytes, and a Link reading answers
 * of any shape from a Grape. No input throws anything but a coded error.
 */

const seed = fc.uint8Array({ minLength: 32, maxLength: 32 })
const saltBytes = fc.uint8Array({ maxLength: MAX_SALT_BYTES }).map((b) => Buffer.from(b))
/** A value under 1000 UTF-8 bytes, in every width of character. */
const value = text(0, 200).filter((v) => Buffer.byteLength(v) <= 999)

/** The options a stored mutable item was put with, as the DHT keeps them. */
function signedPut(secret: Uint8Array, v: string, seq: number, salt: Buffer) {
  const signer = createSigner(secret)
  const sig = signer.sign(encodeSignedData({ v: Buffer.from(v), seq, salt }))
  const data: Record<string, unknown> = { v, seq, k: toHex(signer.publicKey), sig: toHex(sig) }
  if (salt.length > 0) data.salt = saltForGrape(salt)
  return { data, hash: mutableTarget(signer.publicKey, salt), publicKey: signer.publicKey }
}

/** What a Grape answers to a get of the item `put` stored, as the Link parses it. */
function answered(put: DhtPutOptions): Record<string, unknown> {
  const item = encodeItem({ id: Buffer.alloc(20, 7), token: Buffer.alloc(20, 8), ...put } as never)
  return JSON.parse(JSON.stringify(item)) as Record<string, unknown>
}

describe('fuzz: the BEP 44 item codec', () => {
  it('decodes any /put data to put options within the limits, or a rejection', async () => {
    await fuzzAssert(
      'bep44-put',
      fc.property(fc.oneof(putData, anyJson), (data) => {
        const put = decodePut(data, verifySignature)
        if (isRejection(put)) {
          expect([200, 500]).toContain(put.status)
          return
        }
        const v = put.v as unknown
        const size =
          typeof v === 'string' || Buffer.isBuffer(v) ? Buffer.byteLength(v) : bencodedLength(v, 999)
        expect(size).toBeLessThanOrEqual(999)
        if (put.k === undefined) return
        expect(put.k).toHaveLength(32)
        expect(Number.isSafeInteger(put.seq) && (put.seq as number) >= 0).toBe(true)
        expect(put.salt === undefined || (put.salt.length > 0 && put.salt.length <= MAX_SALT_BYTES)).toBe(
          true,
        )
        const signed = encodeSignedData({ v: put.v as Buffer, seq: put.seq as number, salt: put.salt })
        expect(verifySignature(put.sig as Buffer, signed, put.k)).toBe(true)
      }),
      budget(2000),
    )
  })

  it('decodes any /get data to a 20-byte target, or a rejection', async () => {
    await fuzzAssert(
      'bep44-get',
      fc.property(fc.oneof(getData, anyJson), (data) => {
        const get = decodeGet(data)
        if (isRejection(get)) expect([200, 500]).toContain(get.status)
        else expect(get.hash).toHaveLength(20)
      }),
      budget(2000),
    )
  })

  it('round-trips a signed item, and refuses it with any bit of it changed', async () => {
    await fuzzAssert(
      'bep44-signed',
      fc.property(seed, value, fc.maxSafeNat(), saltBytes, fc.nat(), (secret, v, seq, salt, flip) => {
        const { data, hash, publicKey } = signedPut(secret, v, seq, salt)
        const put = decodePut(data, verifySignature)
        expect(isRejection(put), JSON.stringify(put)).toBe(false)
        const stored = put as DhtPutOptions
        expect(Buffer.from(stored.k as Uint8Array)).toEqual(Buffer.from(publicKey))
        expect(Buffer.from(stored.salt ?? [])).toEqual(salt)
        expect(itemProblem(hash, answered(stored) as never, salt)).toBeUndefined()

        const sig = Buffer.from(data.sig as string, 'hex')
        sig[flip % 64] = (sig[flip % 64] as number) ^ (1 << (flip % 8))
        expect(decodePut({ ...data, sig: sig.toString('hex') }, verifySignature)).toEqual({
          status: 200,
          message: '206 invalid signature',
        })
        expect(itemProblem(hash, answered({ ...stored, sig }) as never, salt)?.kind).toBe('signature')
        const later = { ...stored, seq: (stored.seq as number) + 1 }
        expect(itemProblem(hash, answered(later) as never, salt)?.kind).toBe('signature')
      }),
      budget(100),
    )
  })

  it('keeps any salt bytes through the JSON-first reading of a Grape', async () => {
    await fuzzAssert(
      'bep44-salt',
      fc.property(
        saltBytes.filter((b) => b.length > 0),
        (salt) => {
          const put = decodePut(
            { v: 'x', k: 'ab'.repeat(32), sig: 'cd'.repeat(64), seq: 1, salt: saltForGrape(salt) },
            null,
          )
          expect(Buffer.from((put as DhtPutOptions).salt ?? [])).toEqual(salt)
        },
      ),
      budget(1000),
    )
  })

  it('signs alike with a seed and its expanded key; refuses a key of another length', async () => {
    await fuzzAssert(
      'bep44-keys',
      fc.property(seed, fc.uint8Array({ maxLength: 80 }), value, (secret, other, v) => {
        const a = createSigner(secret)
        const b = createSigner(expandSeed(secret))
        expect(Buffer.from(b.publicKey)).toEqual(Buffer.from(a.publicKey))
        expect(verifySignature(b.sign(Buffer.from(v)), Buffer.from(v), a.publicKey)).toBe(true)
        try {
          createSigner(other)
        } catch (err) {
          expect(isGrenacheError(err, 'ERR_INVALID_ARGUMENT')).toBe(true)
        }
        expect(verifySignature(other, Buffer.from(v), other)).toBe(false)
      }),
      budget(60),
    )
  })

  describe('a Link reading items from a Grape that answers anything', () => {
    const before = socketHandles()
    const GETS = budget(200)
    let grape: FakeGrape
    let link: Link
    let watch: ProcessWatch
    let answer: FakeAnswer = { status: 200 }

    beforeAll(async () => {
      watch = watchProcess()
      grape = await startFakeGrape(() => answer)
      link = new Link({ grape: grape.url, requestTimeoutMs: 2000, maxAttempts: 1 })
    })
    afterAll(async () => {
      watch?.stop()
      await link?.close()
      await grape?.close()
      expect(await settledHandles(before, 5000)).toEqual(before)
    })

    /** A signed item for the get, then some of its fields replaced by anything. */
    const item = fc
      .record({
        secret: seed,
        v: value,
        seq: fc.nat(),
        salt: saltBytes,
        replaced: fc.oneof(
          fc.constant({}),
          fc.record(
            { v: field(fc.string()), k: field(hex(32)), sig: field(hex(64)), seq: field(fc.nat()) },
            { requiredKeys: [] },
          ),
        ),
      })
      .map(({ secret, v, seq, salt, replaced }) => {
        const { data, hash } = signedPut(secret, v, seq, salt)
        const put = decodePut(data, verifySignature) as DhtPutOptions
        return { hash, salt, body: { ...answered(put), ...replaced } as unknown }
      })
    const getCase = fc.record({
      item,
      status: fc.constantFrom(200, 200, 200, 200, 301, 302, 413, 500),
      raw: fc.oneof(
        { weight: 4, arbitrary: fc.constant(undefined) },
        {
          weight: 1,
          arbitrary: fc.oneof(
            anyJson.map((v) => JSON.stringify(v)),
            fc.string(),
          ),
        },
      ),
    })

    it(
      `resolves ${GETS} gets with a verified item or null, or rejects with a coded error`,
      async () => {
        let verified = 0
        await runBatches(cases('bep44-link', getCase, GETS), {
          target: 'bep44-link',
          watch,
          concurrency: 1,
          batch: 50,
          show: (c) => JSON.stringify({ ...c, item: { ...c.item, salt: c.item.salt.toString('hex') } }),
          async probe({ item: { hash, salt, body }, status, raw }) {
            answer = { status, body: raw ?? JSON.stringify(body) }
            try {
              const got = await link.get(hash, { salt })
              if (got === null) return undefined
              verified++
              return itemProblem(hash, got, salt) === undefined
                ? undefined
                : 'resolved with an item that does not verify'
            } catch (err) {
              return isGrenacheError(err) ? undefined : `rejected with ${String(err)}`
            }
          },
          async checkpoint() {
            answer = { status: 200, body: '' }
            if ((await link.get('00'.repeat(20))) !== null) throw new Error('an empty answer is not null')
          },
        })
        expect(verified).toBeGreaterThan(0)
      },
      timeoutFor(3000),
    )
  })
})
