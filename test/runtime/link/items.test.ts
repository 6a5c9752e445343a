import { afterEach, describe, expect, it, vi } from 'vitest'
import { createSigner, generateKeyPair } from '../../../runtime/bep44/ed25519.js'
import { encodeSignedData } from '../../../runtime/bep44/signed-data.js'
import { immutableTarget, mutableTarget } from '../../../runtime/bep44/targets.js'
import { GrenacheError } from '../../../runtime/errors.js'
import { grapeBytes } from '../../../runtime/grape/item-codec.js'
import { type DhtItem, nextSeq, saltBytes, saltForGrape, verifyItem } from '../../../runtime/link/items.js'

// BEP 44 test vectors (shared/reference/grenache-cli-bep44.md §6).
const K = '77ff84905a91936367c01360803104f92432fcd904a43511876df5cdf3e7e548'
const SIG1 =
  '305ac8aeb6c9c151fa120f120ea2cfb923564e11552d06a5d856091e5e853cff' +
  '1260d3f39e4999684aa92eb73ffd136e6f4f3ecbfda0ce53a1608ecd7ae21f01'
const SIG2 =
  '6834284b6b24c3204eb2fea824d82f88883a3d95e8b4a21b8c0ded553d17d17d' +
  'df9a8a7104b1258f30bed3787e6cb896fca78c58f8e03b5f18f14951a87d9a08'
const TARGET1 = '4a533d47ec9c7d95b1ad75f576cffc641853b750'
const TARGET2 = '411eba73b6f087ca51a3795d9c8c938d365e32c1'
const IMMUTABLE = 'e5f96f6f38320f0f33959cb4d3d656452117aadb'
const ID = 'ab'.repeat(20)
const FOOBAR = new Uint8Array(Buffer.from('foobar'))

const case1 = (): DhtItem => ({ id: ID, token: 'cd'.repeat(20), v: 'Hello World!', k: K, sig: SIG1, seq: 1 })
const case2 = (): DhtItem => ({ ...case1(), sig: SIG2, salt: 'foobar' })

/** `item` without one of its optional fields. */
function without(item: DhtItem, field: 'k' | 'sig' | 'seq'): DhtItem {
  const copy = { ...item }
  delete copy[field]
  return copy
}

/** Runs `fn` and returns the GrenacheError it threw. */
function thrown(fn: () => unknown): GrenacheError {
  try {
    fn()
  } catch (err) {
    expect(err).toBeInstanceOf(GrenacheError)
    return err as GrenacheError
  }
  throw new Error('expected a throw')
}

function flipHex(text: string, index: number): string {
  const digit = Number.parseInt(text[index] as string, 16) ^ 1
  return `${text.slice(0, index)}${digit.toString(16)}${text.slice(index + 1)}`
}

/** A deterministic stream of pseudo-random bytes (a 32-bit LCG). */
function pseudoRandomBytes(seed: number, length: number): Uint8Array {
  let state = seed >>> 0
  const out = new Uint8Array(length)
  for (let i = 0; i < length; i++) {
    state = (Math.imul(state, 1664525) + 1013904223) >>> 0
    out[i] = state >>> 24
  }
  return out
}

afterEach(() => {
  vi.restoreAllMocks()
})

describe('saltForGrape()', () => {
  const roundTrips = (bytes: Uint8Array): void => {
    const sent = saltForGrape(bytes)
    expect(typeof sent).toBe('string')
    expect(grapeBytes(sent, 'utf8').equals(Buffer.from(bytes)), `${JSON.stringify(sent)}`).toBe(true)
  }

  it('sends a plain UTF-8 salt that is not JSON as it is', () => {
    for (const salt of ['foobar', 'sensor:1', 'sälz €', ' ', 'x"y', '1a', 'nul']) {
      const bytes = new Uint8Array(Buffer.from(salt))
      expect(saltForGrape(bytes), salt).toBe(salt)
      roundTrips(bytes)
    }
  })

  it('sends any salt that is valid JSON as a JSON byte array, whatever a Grape would make of it', () => {
    for (const salt of [
      '123',
      '0',
      '-1',
      'null',
      'true',
      '{"a":1}',
      '[104,105]',
      '"x"',
      '""',
      '[]',
      '{"type":"Buffer","data":[1]}',
      '{"length":3}',
      '"é"',
    ]) {
      const bytes = new Uint8Array(Buffer.from(salt))
      expect(saltForGrape(bytes), salt).toBe(JSON.stringify([...bytes]))
      roundTrips(bytes)
    }
  })

  it('sends bytes that are not UTF-8 as a JSON byte array', () => {
    for (const bytes of [[0xff], [0xc3], [0xed, 0xa0, 0x80], [0x00, 0xff, 0xfe], [0xf0, 0x9f, 0x98]]) {
      const salt = Uint8Array.from(bytes)
      expect(saltForGrape(salt)).toBe(JSON.stringify(bytes))
      roundTrips(salt)
    }
  })

  it('sends an empty salt as an empty string', () => {
    expect(saltForGrape(new Uint8Array(0))).toBe('')
    roundTrips(new Uint8Array(0))
  })

  it('round-trips through the Grape conversion for every 1-byte salt and many longer ones', () => {
    for (let byte = 0; byte < 256; byte++) roundTrips(Uint8Array.of(byte))
    for (let seed = 1; seed <= 500; seed++) roundTrips(pseudoRandomBytes(seed, 1 + (seed % 64)))
  })
})

describe('saltBytes()', () => {
  it('turns a string into its UTF-8 bytes and passes bytes and undefined through', () => {
    expect(saltBytes(undefined)).toBeUndefined()
    expect(Buffer.from(saltBytes('sälz') as Uint8Array)).toEqual(Buffer.from('sälz'))
    expect(saltBytes('')?.length).toBe(0)
    const bytes = Uint8Array.of(1, 2)
    expect(saltBytes(bytes)).toBe(bytes)
  })
})

describe('verifyItem()', () => {
  describe('immutable items', () => {
    it('accepts a value that hashes to the key', () => {
      expect(() => verifyItem(IMMUTABLE, { id: ID, token: null, v: 'Hello World!' }, undefined)).not.toThrow()
      const v = 'zürich €😀'
      expect(() => verifyItem(immutableTarget(v), { id: ID, token: null, v }, undefined)).not.toThrow()
    })

    it('rejects a value that does not hash to the key with ERR_ITEM_INVALID', () => {
      const err = thrown(() => verifyItem(IMMUTABLE, { id: ID, token: null, v: 'Hello World?' }, undefined))
      expect(err.code).toBe('ERR_ITEM_INVALID')
      expect(err.message).toBe(`item ${IMMUTABLE}: the value does not hash to the key`)
    })

    it('rejects an item without a value', () => {
      const item = { id: ID, token: null } as unknown as DhtItem
      expect(thrown(() => verifyItem(IMMUTABLE, item, undefined)).message).toBe(
        `item ${IMMUTABLE}: the value is missing`,
      )
      const numeric = { id: ID, token: null, v: 5 } as unknown as DhtItem
      expect(thrown(() => verifyItem(IMMUTABLE, numeric, undefined)).code).toBe('ERR_ITEM_INVALID')
    })
  })

  describe('mutable items', () => {
    it('accepts BEP 44 case 1 and case 2', () => {
      expect(() => verifyItem(TARGET1, case1(), undefined)).not.toThrow()
      expect(() => verifyItem(TARGET2, case2(), FOOBAR)).not.toThrow()
    })

    it('accepts upper-case hex in k and sig', () => {
      const item = { ...case1(), k: K.toUpperCase(), sig: SIG1.toUpperCase() }
      expect(() => verifyItem(TARGET1, item, undefined)).not.toThrow()
    })

    it('accepts a freshly signed item with a non-ASCII value and salt, and a large seq', () => {
      const { secretKey } = generateKeyPair()
      const signer = createSigner(secretKey)
      const v = 'temperature: 21,5 °C'
      const salt = new Uint8Array(Buffer.from('capteur:cuisine'))
      const seq = 1_712_345_678_901_234
      const sig = signer.sign(encodeSignedData({ v: Buffer.from(v), seq, salt }))
      const item: DhtItem = {
        id: ID,
        token: null,
        v,
        seq,
        k: Buffer.from(signer.publicKey).toString('hex'),
        sig: Buffer.from(sig).toString('hex'),
      }
      expect(() => verifyItem(mutableTarget(signer.publicKey, salt), item, salt)).not.toThrow()
    })

    type Forgery = [what: string, make: () => [hash: string, item: DhtItem, salt?: Uint8Array], why: string]
    const NOT_HASH = 'the public key and salt do not hash to the key (a salted item needs its salt)'
    it.each<Forgery>([
      [
        'a flipped signature bit',
        () => [TARGET1, { ...case1(), sig: flipHex(SIG1, 100) }],
        'the signature does not verify',
      ],
      [
        'a changed value',
        () => [TARGET1, { ...case1(), v: 'Hello World?' }],
        'the signature does not verify',
      ],
      [
        'a replayed value under a higher seq',
        () => [TARGET1, { ...case1(), seq: 2 }],
        'the signature does not verify',
      ],
      [
        "another salt's signature",
        () => [TARGET1, { ...case1(), sig: SIG2 }],
        'the signature does not verify',
      ],
      ['a flipped key bit', () => [TARGET1, { ...case1(), k: flipHex(K, 5) }], NOT_HASH],
      ['a salted item read without its salt', () => [TARGET2, case2()], NOT_HASH],
      [
        'a salted item read with another salt',
        () => [TARGET2, case2(), new Uint8Array(Buffer.from('foobaz'))],
        NOT_HASH,
      ],
      ['an unsalted item read with a salt', () => [TARGET1, case1(), FOOBAR], NOT_HASH],
      [
        'a short key',
        () => [TARGET1, { ...case1(), k: K.slice(2) }],
        'the public key is not 32 bytes of hex',
      ],
      [
        'a key that is not hex',
        () => [TARGET1, { ...case1(), k: 'z'.repeat(64) }],
        'the public key is not 32 bytes of hex',
      ],
      ['a missing key', () => [TARGET1, without(case1(), 'k')], 'the public key is not 32 bytes of hex'],
      [
        'a short signature',
        () => [TARGET1, { ...case1(), sig: SIG1.slice(2) }],
        'the signature is not 64 bytes of hex',
      ],
      [
        'a missing signature',
        () => [TARGET1, without(case1(), 'sig')],
        'the signature is not 64 bytes of hex',
      ],
      ['a missing seq', () => [TARGET1, without(case1(), 'seq')], 'the seq is not an integer'],
      ['a negative seq', () => [TARGET1, { ...case1(), seq: -1 }], 'the seq is not an integer'],
      ['a fractional seq', () => [TARGET1, { ...case1(), seq: 1.5 }], 'the seq is not an integer'],
      [
        'a string seq',
        () => [TARGET1, { ...case1(), seq: '1' as unknown as number }],
        'the seq is not an integer',
      ],
    ])('rejects %s with ERR_ITEM_INVALID', (_what, make, why) => {
      const [hash, item, salt] = make()
      const err = thrown(() => verifyItem(hash, item, salt))
      expect(err.code).toBe('ERR_ITEM_INVALID')
      expect(err.message).toBe(`item ${hash}: ${why}`)
    })

    it("rejects another key's correctly signed item served under the requested key", () => {
      const signer = createSigner(generateKeyPair().secretKey)
      const sig = signer.sign(encodeSignedData({ v: Buffer.from('Hello World!'), seq: 1 }))
      const forged: DhtItem = {
        ...case1(),
        k: Buffer.from(signer.publicKey).toString('hex'),
        sig: Buffer.from(sig).toString('hex'),
      }
      const err = thrown(() => verifyItem(TARGET1, forged, undefined))
      expect(err.code).toBe('ERR_ITEM_INVALID')
      expect(err.message).toContain('do not hash to the key')
    })

    it('rejects an immutable value served for a mutable key, and a mutable item for an immutable key', () => {
      expect(
        thrown(() => verifyItem(TARGET1, { id: ID, token: null, v: 'Hello World!' }, undefined)).code,
      ).toBe('ERR_ITEM_INVALID')
      expect(thrown(() => verifyItem(IMMUTABLE, case1(), undefined)).code).toBe('ERR_ITEM_INVALID')
    })

    it('uses the salt the caller knows, never the salt the Grape echoes', () => {
      const item = { ...case2(), salt: 'not the real salt' }
      expect(() => verifyItem(TARGET2, item, FOOBAR)).not.toThrow()
      expect(thrown(() => verifyItem(TARGET2, case2(), undefined)).code).toBe('ERR_ITEM_INVALID')
    })
  })
})

describe('nextSeq()', () => {
  it('is strictly increasing', () => {
    let previous = nextSeq()
    for (let i = 0; i < 10_000; i++) {
      const seq = nextSeq()
      expect(seq).toBeGreaterThan(previous)
      previous = seq
    }
  })

  it('is microseconds since the epoch, a safe integer', () => {
    const before = Date.now() * 1000
    const seq = nextSeq()
    expect(Number.isSafeInteger(seq)).toBe(true)
    expect(seq).toBeGreaterThanOrEqual(before)
  })

  it('keeps increasing when the clock stands still or steps back', () => {
    const start = nextSeq()
    const now = vi.spyOn(Date, 'now').mockReturnValue(Math.floor(start / 1000))
    const a = nextSeq()
    const b = nextSeq()
    now.mockReturnValue(Math.floor(start / 1000) - 60_000)
    const c = nextSeq()
    expect(a).toBeGreaterThan(start)
    expect(b).toBeGreaterThan(a)
    expect(c).toBeGreaterThan(b)
  })

  it('jumps to the clock when the clock is ahead', () => {
    const start = nextSeq()
    const later = Math.floor(start / 1000) + 3_600_000
    vi.spyOn(Date, 'now').mockReturnValue(later)
    expect(nextSeq()).toBe(later * 1000)
  })
})
