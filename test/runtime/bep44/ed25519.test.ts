import { createHash, randomBytes } from 'node:crypto'
import { describe, expect, it } from 'vitest'
import { createSigner, expandSeed, generateKeyPair, verifySignature } from '../../../runtime/bep44/ed25519.js'
import { GrenacheError } from '../../../runtime/errors.js'

const hex = (text: string): Uint8Array => new Uint8Array(Buffer.from(text, 'hex'))
const toHex = (bytes: Uint8Array): string => Buffer.from(bytes).toString('hex')
const ascii = (text: string): Uint8Array => new Uint8Array(Buffer.from(text))

// BEP 44 test vectors (shared/reference/grenache-cli-bep44.md §6).
const PUBLIC_KEY = hex('77ff84905a91936367c01360803104f92432fcd904a43511876df5cdf3e7e548')
const EXPANDED_SECRET = hex(
  'e06d3183d14159228433ed599221b80bd0a5ce8352e4bdf0262f76786ef1c74d' +
    'b7e7a9fea2c0eb269d61e3b38e450a22e754941ac78479d6c54e1faf6037881d',
)
const CASE1_MESSAGE = ascii('3:seqi1e1:v12:Hello World!')
const CASE1_SIG =
  '305ac8aeb6c9c151fa120f120ea2cfb923564e11552d06a5d856091e5e853cff' +
  '1260d3f39e4999684aa92eb73ffd136e6f4f3ecbfda0ce53a1608ecd7ae21f01'
const CASE2_MESSAGE = ascii('4:salt6:foobar3:seqi1e1:v12:Hello World!')
const CASE2_SIG =
  '6834284b6b24c3204eb2fea824d82f88883a3d95e8b4a21b8c0ded553d17d17d' +
  'df9a8a7104b1258f30bed3787e6cb896fca78c58f8e03b5f18f14951a87d9a08'

// RFC 8032 §7.1, TEST 1 and TEST 2 (seed, public key, message, signature).
const RFC8032 = [
  {
    seed: '9d61b19deffd5a60ba844af492ec2cc44449c5697b326919703bac031cae7f60',
    publicKey: 'd75a980182b10ab7d54bfed3c964073a0ee172f3daa62325af021a68f707511a',
    message: '',
    signature:
      'e5564300c360ac729086e2cc806e828a84877f1eb8e5d974d873e065224901555fb8821590a33bacc61e39701cf9b46bd25bf5f0595bbe24655141438e7a100b',
  },
  {
    seed: '4ccd089b28ff96da9db6c346ec114e0f5b8a319f35aba624da8cf6ed4fb8a6fb',
    publicKey: '3d4017c3e843895a92b70aa74d1b7ebc9c982ccf2ec4968cc0cd55f12af4660c',
    message: '72',
    signature:
      '92a009a9f0d4cab8720e820b5f642540a2b27b5416503f8fb3762223ebdb69da085ac1e43e15996e458f3613d0f11d8c387b2eaeb4302aeeb00d291612bb0c00',
  },
]

/** The group order of ed25519. */
const L = 2n ** 252n + 27742317777372353535851937790883648493n

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

function flipBit(bytes: Uint8Array, index: number, bit = 0): Uint8Array {
  const copy = Uint8Array.from(bytes)
  copy[index] = (copy[index] as number) ^ (1 << bit)
  return copy
}

// First in the file: a process's first two multiplies of G take the ladder, the rest noble's table.
describe('the first signature of a process', () => {
  it('has the same key and signature through the ladder as through the table', () => {
    const first = createSigner(EXPANDED_SECRET)
    const once = toHex(first.sign(CASE1_MESSAGE))
    const later = createSigner(EXPANDED_SECRET)
    expect(toHex(first.publicKey)).toBe(toHex(PUBLIC_KEY))
    expect(toHex(later.publicKey)).toBe(toHex(PUBLIC_KEY))
    expect(once).toBe(CASE1_SIG)
    expect(toHex(later.sign(CASE1_MESSAGE))).toBe(CASE1_SIG)
  })
})

describe('createSigner()', () => {
  describe("with grenache-cli's 64-byte expanded key (BEP 44 vectors)", () => {
    it('derives the vector public key', () => {
      expect(toHex(createSigner(EXPANDED_SECRET).publicKey)).toBe(toHex(PUBLIC_KEY))
    })

    it('signs case 1 (no salt) exactly as the vector', () => {
      expect(toHex(createSigner(EXPANDED_SECRET).sign(CASE1_MESSAGE))).toBe(CASE1_SIG)
    })

    it('signs case 2 (salt "foobar") exactly as the vector', () => {
      expect(toHex(createSigner(EXPANDED_SECRET).sign(CASE2_MESSAGE))).toBe(CASE2_SIG)
    })

    it('accepts the matching public key', () => {
      expect(toHex(createSigner(EXPANDED_SECRET, PUBLIC_KEY).publicKey)).toBe(toHex(PUBLIC_KEY))
    })

    it('keeps working when the caller later overwrites its key buffer', () => {
      const secret = Uint8Array.from(EXPANDED_SECRET)
      const signer = createSigner(secret)
      secret.fill(7)
      expect(toHex(signer.sign(CASE1_MESSAGE))).toBe(CASE1_SIG)
    })

    it('rejects an expanded key whose scalar is zero with ERR_INVALID_ARGUMENT', () => {
      const zero = new Uint8Array(64)
      zero.fill(1, 32)
      expect(thrown(() => createSigner(zero)).code).toBe('ERR_INVALID_ARGUMENT')
    })
  })

  describe('with a 32-byte RFC 8032 seed', () => {
    it.each(RFC8032)('reproduces RFC 8032 vector with public key $publicKey', (vector) => {
      const signer = createSigner(hex(vector.seed))
      expect(toHex(signer.publicKey)).toBe(vector.publicKey)
      expect(toHex(signer.sign(hex(vector.message)))).toBe(vector.signature)
    })

    it('keeps working when the caller later overwrites its seed buffer', () => {
      const vector = RFC8032[1]!
      const seed = hex(vector.seed)
      const signer = createSigner(seed)
      seed.fill(0)
      expect(toHex(signer.sign(hex(vector.message)))).toBe(vector.signature)
    })
  })

  it('signs like the expanded key of the same seed, for random seeds', () => {
    for (let i = 0; i < 20; i++) {
      const seed = new Uint8Array(randomBytes(32))
      const message = new Uint8Array(randomBytes(i * 7))
      const fromSeed = createSigner(seed)
      const fromExpanded = createSigner(expandSeed(seed))
      expect(toHex(fromExpanded.publicKey)).toBe(toHex(fromSeed.publicKey))
      const signature = fromExpanded.sign(message)
      expect(toHex(signature)).toBe(toHex(fromSeed.sign(message)))
      expect(verifySignature(signature, message, fromSeed.publicKey)).toBe(true)
    }
  })

  it.each([0, 1, 31, 33, 48, 63, 65, 128])(
    'rejects a %i-byte secret key with ERR_INVALID_ARGUMENT',
    (length) => {
      const err = thrown(() => createSigner(new Uint8Array(length).fill(1)))
      expect(err.code).toBe('ERR_INVALID_ARGUMENT')
      expect(err.message).toContain(`got ${length} bytes`)
    },
  )

  it('rejects a public key that does not belong to the secret with ERR_INVALID_ARGUMENT', () => {
    const other = generateKeyPair().publicKey
    expect(thrown(() => createSigner(EXPANDED_SECRET, other)).code).toBe('ERR_INVALID_ARGUMENT')
    expect(thrown(() => createSigner(hex(RFC8032[0]!.seed), PUBLIC_KEY)).code).toBe('ERR_INVALID_ARGUMENT')
    expect(thrown(() => createSigner(EXPANDED_SECRET, PUBLIC_KEY.subarray(0, 31))).code).toBe(
      'ERR_INVALID_ARGUMENT',
    )
  })
})

describe('expandSeed()', () => {
  it('is SHA-512(seed) with the scalar half clamped, as grenache-cli stores it', () => {
    for (let i = 0; i < 5; i++) {
      const seed = new Uint8Array(randomBytes(32))
      const expected = createHash('sha512').update(seed).digest()
      expected[0] = (expected[0] as number) & 248
      expected[31] = ((expected[31] as number) & 127) | 64
      const expanded = expandSeed(seed)
      expect(expanded.length).toBe(64)
      expect(toHex(expanded)).toBe(expected.toString('hex'))
    }
  })
})

describe('generateKeyPair()', () => {
  it('makes a fresh 32-byte seed and its 32-byte public key', () => {
    const a = generateKeyPair()
    const b = generateKeyPair()
    expect(a.secretKey.length).toBe(32)
    expect(a.publicKey.length).toBe(32)
    expect(toHex(a.secretKey)).not.toBe(toHex(b.secretKey))
    expect(toHex(createSigner(a.secretKey, a.publicKey).publicKey)).toBe(toHex(a.publicKey))
  })
})

describe('verifySignature()', () => {
  const sig1 = hex(CASE1_SIG)

  it('accepts the BEP 44 vector signatures', () => {
    expect(verifySignature(sig1, CASE1_MESSAGE, PUBLIC_KEY)).toBe(true)
    expect(verifySignature(hex(CASE2_SIG), CASE2_MESSAGE, PUBLIC_KEY)).toBe(true)
  })

  it('rejects a signature of another message', () => {
    expect(verifySignature(sig1, CASE2_MESSAGE, PUBLIC_KEY)).toBe(false)
  })

  it('rejects any single flipped bit in the signature, the message or the public key', () => {
    for (const [index, bit] of [
      [0, 0],
      [17, 3],
      [31, 7],
      [32, 0],
      [50, 5],
      [63, 2],
    ] as const) {
      expect(verifySignature(flipBit(sig1, index, bit), CASE1_MESSAGE, PUBLIC_KEY), `sig ${index}`).toBe(
        false,
      )
    }
    for (const index of [0, 10, CASE1_MESSAGE.length - 1]) {
      expect(verifySignature(sig1, flipBit(CASE1_MESSAGE, index), PUBLIC_KEY), `msg ${index}`).toBe(false)
    }
    for (const index of [0, 15, 31]) {
      expect(verifySignature(sig1, CASE1_MESSAGE, flipBit(PUBLIC_KEY, index)), `key ${index}`).toBe(false)
    }
  })

  it('returns false for wrong lengths instead of throwing', () => {
    expect(verifySignature(sig1.subarray(0, 63), CASE1_MESSAGE, PUBLIC_KEY)).toBe(false)
    expect(verifySignature(Buffer.concat([sig1, Buffer.alloc(1)]), CASE1_MESSAGE, PUBLIC_KEY)).toBe(false)
    expect(verifySignature(new Uint8Array(0), CASE1_MESSAGE, PUBLIC_KEY)).toBe(false)
    expect(verifySignature(sig1, CASE1_MESSAGE, PUBLIC_KEY.subarray(0, 31))).toBe(false)
    expect(verifySignature(sig1, CASE1_MESSAGE, Buffer.concat([PUBLIC_KEY, Buffer.alloc(1)]))).toBe(false)
    expect(verifySignature(sig1, CASE1_MESSAGE, new Uint8Array(0))).toBe(false)
  })

  it('returns false for garbage keys and signatures instead of throwing', () => {
    // y = 2 is not the y of any curve point; all-ones is y >= p (non-canonical).
    const notOnCurve = new Uint8Array(32)
    notOnCurve[0] = 2
    const nonCanonical = new Uint8Array(32).fill(0xff)
    for (const key of [notOnCurve, nonCanonical, new Uint8Array(32)]) {
      expect(() => verifySignature(sig1, CASE1_MESSAGE, key)).not.toThrow()
      expect(verifySignature(sig1, CASE1_MESSAGE, key)).toBe(false)
    }
    for (let i = 0; i < 20; i++) {
      const sig = new Uint8Array(randomBytes(64))
      expect(verifySignature(sig, CASE1_MESSAGE, PUBLIC_KEY)).toBe(false)
      expect(verifySignature(sig, CASE1_MESSAGE, new Uint8Array(randomBytes(32)))).toBe(false)
    }
    expect(verifySignature(new Uint8Array(64).fill(0xff), CASE1_MESSAGE, PUBLIC_KEY)).toBe(false)
  })

  it('is strict: rejects the malleable twin whose S is increased by the group order', () => {
    const s = BigInt(`0x${Buffer.from(sig1.subarray(32)).reverse().toString('hex')}`)
    const twin = Buffer.from((s + L).toString(16).padStart(64, '0'), 'hex').reverse()
    const malleable = Buffer.concat([sig1.subarray(0, 32), twin])
    expect(verifySignature(malleable, CASE1_MESSAGE, PUBLIC_KEY)).toBe(false)
  })
})
