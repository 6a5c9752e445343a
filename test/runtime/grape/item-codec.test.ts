import type { DhtItem, DhtPutOptions } from 'bittorrent-dht'
import { describe, expect, it, vi } from 'vitest'
import { createSigner, verifySignature } from '../../../runtime/bep44/ed25519.js'
import { encodeSignedData } from '../../../runtime/bep44/signed-data.js'
import {
  decodeGet,
  decodePut,
  encodeItem,
  type GetRequest,
  grapeBytes,
  type ItemRejection,
  isRejection,
  MAX_SALT_BYTES,
  MAX_VALUE_BYTES,
  storedNumber,
} from '../../../runtime/grape/item-codec.js'
import { wireBencode } from '../../helpers/krpc.js'

// BEP 44 test vectors (shared/reference/grenache-cli-bep44.md §6).
const K = '77ff84905a91936367c01360803104f92432fcd904a43511876df5cdf3e7e548'
const SIG1 =
  '305ac8aeb6c9c151fa120f120ea2cfb923564e11552d06a5d856091e5e853cff' +
  '1260d3f39e4999684aa92eb73ffd136e6f4f3ecbfda0ce53a1608ecd7ae21f01'
const SIG2 =
  '6834284b6b24c3204eb2fea824d82f88883a3d95e8b4a21b8c0ded553d17d17d' +
  'df9a8a7104b1258f30bed3787e6cb896fca78c58f8e03b5f18f14951a87d9a08'
const signer = createSigner(
  Buffer.from(
    'e06d3183d14159228433ed599221b80bd0a5ce8352e4bdf0262f76786ef1c74d' +
      'b7e7a9fea2c0eb269d61e3b38e450a22e754941ac78479d6c54e1faf6037881d',
    'hex',
  ),
)
const HASH = 'e5f96f6f38320f0f33959cb4d3d656452117aadb'

/** Hex signature of `v` at `seq` with `salt` bytes, by the vector key. */
function sign(v: string, seq: number, salt?: string | Buffer): string {
  const saltBytes = typeof salt === 'string' ? Buffer.from(salt) : salt
  return Buffer.from(signer.sign(encodeSignedData({ v: Buffer.from(v), seq, salt: saltBytes }))).toString(
    'hex',
  )
}

const invalid = (message: string): ItemRejection => ({ status: 200, message })
const PAYLOAD_INVALID: ItemRejection = { status: 500, message: 'ERR_GRAPE_PAYLOAD_INVALID' }

function asPut(result: DhtPutOptions | ItemRejection): DhtPutOptions {
  expect(isRejection(result), JSON.stringify(result)).toBe(false)
  return result as DhtPutOptions
}

function asGet(result: GetRequest | ItemRejection): GetRequest {
  expect(isRejection(result), JSON.stringify(result)).toBe(false)
  return result as GetRequest
}

const hex = (bytes: unknown): string => Buffer.from(bytes as Uint8Array).toString('hex')

describe('grapeBytes()', () => {
  it('reads a JSON array or JSON string first, as the reference Grape', () => {
    expect(grapeBytes('[104,105]', 'utf8').toString()).toBe('hi')
    expect(grapeBytes('[104,105]', 'hex').toString()).toBe('hi')
    expect(grapeBytes('"x"', 'utf8').toString()).toBe('x')
    expect(grapeBytes('{"type":"Buffer","data":[1,2]}', 'utf8')).toEqual(Buffer.from([1, 2]))
  })

  it('falls back to the given encoding when JSON fails or gives no bytes', () => {
    expect(grapeBytes('foobar', 'utf8').toString()).toBe('foobar')
    expect(grapeBytes('sälz', 'utf8')).toEqual(Buffer.from('sälz'))
    expect(grapeBytes('00ff', 'hex')).toEqual(Buffer.from([0, 255]))
    for (const text of ['123', 'null', 'true', '{"a":1}', '1e5']) {
      expect(grapeBytes(text, 'utf8').toString(), text).toBe(text)
    }
    // A hex key made only of digits parses as a JSON number, which is not bytes: hex it is.
    const digits = '1234567890'.repeat(6).slice(0, 64)
    expect(grapeBytes(digits, 'hex')).toEqual(Buffer.from(digits, 'hex'))
  })
})

describe('hostile input', () => {
  // JSON-first decoding hands the parsed value to Buffer.from(), which treats {"length":N} as an
  // array-like and builds N bytes: a 20-byte field would make the Grape allocate and fill N bytes.
  const HUGE = '{"length":10000000}'

  /** The largest Buffer built by Buffer.from() while `fn` runs. */
  function largestBufferBuilt(fn: () => unknown): number {
    const spy = vi.spyOn(Buffer, 'from')
    try {
      fn()
      let largest = 0
      for (const result of spy.mock.results) {
        if (result.type === 'return') largest = Math.max(largest, (result.value as Buffer).length)
      }
      return largest
    } finally {
      spy.mockRestore()
    }
  }

  it('grapeBytes() never yields more bytes than its text has', () => {
    for (const text of [HUGE, '{"length":1000}', '{"0":1,"length":100}']) {
      expect(grapeBytes(text, 'utf8').length, text).toBeLessThanOrEqual(Buffer.byteLength(text))
    }
  })

  it.each<[string, () => unknown]>([
    ['a put salt', () => decodePut({ v: 'x', k: K, sig: SIG1, seq: 1, salt: HUGE }, verifySignature)],
    ['a put key', () => decodePut({ v: 'x', k: HUGE, sig: SIG1, seq: 1 }, verifySignature)],
    ['a put signature', () => decodePut({ v: 'x', k: K, sig: HUGE, seq: 1 }, verifySignature)],
    ['a get hash string', () => decodeGet(HUGE)],
    ['a get salt', () => decodeGet({ hash: HASH, salt: HUGE })],
  ])('never builds the bytes that {"length":N} in %s claims', (_where, decode) => {
    expect(largestBufferBuilt(decode)).toBeLessThanOrEqual(8192)
  })
})

describe('decodePut()', () => {
  describe('immutable items', () => {
    it('passes a value on as it is, as a string', () => {
      expect(decodePut({ v: 'hello' }, verifySignature)).toEqual({ v: 'hello' })
      expect(decodePut({ v: '' }, verifySignature)).toEqual({ v: '' })
    })

    it('reads a bare string as the value', () => {
      expect(decodePut('hello', verifySignature)).toEqual({ v: 'hello' })
    })

    it('ignores seq, sig, salt and cas when there is no k', () => {
      expect(decodePut({ v: 'x', seq: 'bad', sig: 5, salt: 'y'.repeat(100), cas: -1 }, null)).toEqual({
        v: 'x',
      })
      expect(decodePut({ v: 'x', k: '', seq: 1 }, null)).toEqual({ v: 'x' })
    })
  })

  describe('value size, in bytes', () => {
    it.each([
      ['999 ASCII bytes', 'a'.repeat(999)],
      ['499 two-byte characters and 1 byte', `${'é'.repeat(499)}a`],
      ['333 three-byte characters', '€'.repeat(333)],
      ['249 four-byte characters and 3 bytes', `${'😀'.repeat(249)}abc`],
    ])('accepts %s', (_what, v) => {
      expect(Buffer.byteLength(v)).toBe(MAX_VALUE_BYTES)
      expect(decodePut({ v }, null)).toEqual({ v })
    })

    it.each([
      ['1000 ASCII bytes', 'a'.repeat(1000)],
      ['500 two-byte characters', 'é'.repeat(500)],
      ['333 three-byte characters and 1 byte', `${'€'.repeat(333)}a`],
      ['600 two-byte characters (JS length 600)', 'é'.repeat(600)],
    ])('rejects %s', (_what, v) => {
      expect(Buffer.byteLength(v)).toBeGreaterThan(MAX_VALUE_BYTES)
      expect(decodePut({ v }, null)).toEqual(invalid('v must be less than 1000 bytes in put()'))
    })

    it('holds a number, list or dictionary to its bencoded length: under 1000 bytes', () => {
      // The value: stored whole, and read back as 28 KB of JSON through another Grape.
      expect(decodePut({ v: { a: 'x'.repeat(7000) } }, null)).toEqual(
        invalid('v must be less than 1000 bytes in put()'),
      )
      // 400 items (the reference counts items: under 1000), 1602 bytes encoded.
      expect(decodePut({ v: Array(400).fill('ab') }, null)).toEqual(
        invalid('v must be less than 1000 bytes in put()'),
      )
      // d1:a990:…e is 999 bytes, d1:a991:…e 1000.
      expect(decodePut({ v: { a: 'x'.repeat(990) } }, null)).toEqual({ v: { a: 'x'.repeat(990) } })
      expect(decodePut({ v: { a: 'x'.repeat(991) } }, null)).toEqual(
        invalid('v must be less than 1000 bytes in put()'),
      )
      expect(decodePut({ v: { a: 'é'.repeat(496) } }, null)).toEqual(
        invalid('v must be less than 1000 bytes in put()'),
      )
    })

    it('stores a fraction or a number past 2^62 as the integer bencode writes, so bencode has nothing to convert', () => {
      const warn = vi.spyOn(console, 'warn').mockImplementation(() => undefined)
      try {
        const data = JSON.parse('{"v": {"a": 1.5, "b": [-2.7, 3], "c": 1e300, "d": "x", "__proto__": 0.5}}')
        const v = asPut(decodePut(data, null)).v as Record<string, unknown>
        expect(Object.entries(v)).toEqual([
          ['a', 1],
          ['b', [-2, 3]],
          ['c', storedNumber(1e300)],
          ['d', 'x'],
          ['__proto__', 0],
        ])
        // The bytes the reference stores for the same JSON (the DHT's own encoder), without a warning.
        expect(wireBencode.encode(v).toString()).toBe(
          `d9:__proto__i0e1:ai1e1:bli-2ei3ee1:ci${storedNumber(1e300)}e1:d1:xe`,
        )
        expect(decodePut({ v: 2.5 }, null)).toEqual({ v: 2 })
        expect(warn).not.toHaveBeenCalled()
      } finally {
        warn.mockRestore()
      }
    })

    it('applies to mutable values too', () => {
      expect(decodePut({ v: 'é'.repeat(500), k: K, sig: SIG1, seq: 1 }, null)).toEqual(
        invalid('v must be less than 1000 bytes in put()'),
      )
    })
  })

  describe('data that is not an object with a value', () => {
    it.each([undefined, null])('answers 500 ERR_GRAPE_PAYLOAD_INVALID to %s', (data) => {
      expect(decodePut(data, null)).toEqual(PAYLOAD_INVALID)
    })

    it.each([5, true, [], ['v'], {}, { k: K }])("answers 'opts.v not given' to %j", (data) => {
      expect(decodePut(data, null)).toEqual(invalid('opts.v not given'))
    })

    it.each([
      ['a number', 5],
      ['a list', ['a', 1]],
      ['a dictionary', { a: 1 }],
    ])('passes %s as v to the DHT unchanged, as the reference does', (_what, v) => {
      expect(decodePut({ v }, null)).toEqual({ v })
    })

    it("answers 'v must be less than 1000 bytes in put()' to a list of 1000 items, as the reference", () => {
      expect(decodePut({ v: new Array(1000).fill(1) }, null)).toEqual(
        invalid('v must be less than 1000 bytes in put()'),
      )
    })

    it.each([
      ['a null v', { v: null }],
      ['a boolean v', { v: true }],
      ['a numeric v with a key', { v: 5, k: K }],
      ['a numeric k', { v: 'x', k: 5 }],
      ['an array k', { v: 'x', k: [1, 2] }],
      ['a numeric sig', { v: 'x', k: K, sig: 5, seq: 1 }],
      ['a numeric salt', { v: 'x', k: K, sig: SIG1, seq: 1, salt: 5 }],
      ['an object salt', { v: 'x', k: K, sig: SIG1, seq: 1, salt: {} }],
    ])('answers 500 ERR_GRAPE_PAYLOAD_INVALID to %s', (_what, data) => {
      expect(decodePut(data, null)).toEqual(PAYLOAD_INVALID)
    })
  })

  describe('mutable items', () => {
    it('checks the fields in the reference order, one rejection at a time', () => {
      const data: Record<string, unknown> = {}
      const steps: Array<[Record<string, unknown>, ItemRejection]> = [
        [{ k: 'abcd', cas: 'x', salt: 's'.repeat(65), seq: 'z' }, invalid('opts.v not given')],
        [{ v: 'x'.repeat(1000) }, invalid('v must be less than 1000 bytes in put()')],
        [{ v: 'Hello World!' }, invalid('opts.cas must be an integer if provided')],
        [{ cas: 1 }, invalid('opts.k ed25519 public key must be 32 bytes')],
        [{ k: K }, invalid('opts.sign function or options.sig signature is required for mutable put')],
        [{ sig: SIG1 }, invalid('opts.salt is > 64 bytes long')],
        [{ salt: 'foobar', seq: undefined }, invalid('opts.seq not provided for a mutable update')],
        [{ seq: 'z' }, invalid('opts.seq not an integer')],
        [{ seq: 1 }, invalid('206 invalid signature')],
      ]
      for (const [patch, expected] of steps) {
        Object.assign(data, patch)
        expect(decodePut({ ...data }, verifySignature), expected.message).toEqual(expected)
      }
      Object.assign(data, { sig: SIG2 })
      const put = asPut(decodePut(data, verifySignature))
      expect(put.salt?.toString()).toBe('foobar')
    })

    it('checks value size before field types, and field types before cas', () => {
      expect(decodePut({ v: 'x'.repeat(1000), k: 5 }, null)).toEqual(
        invalid('v must be less than 1000 bytes in put()'),
      )
      expect(decodePut({ v: 'x', k: 5, cas: 'bad' }, null)).toEqual(PAYLOAD_INVALID)
    })

    it('decodes BEP 44 case 1 into Buffers for the DHT', () => {
      const put = asPut(decodePut({ v: 'Hello World!', k: K, sig: SIG1, seq: 1 }, verifySignature))
      expect(Object.keys(put).sort()).toEqual(['k', 'seq', 'sig', 'v'])
      expect(Buffer.isBuffer(put.v)).toBe(true)
      expect(Buffer.isBuffer(put.k)).toBe(true)
      expect(Buffer.isBuffer(put.sig)).toBe(true)
      expect(put.v.toString()).toBe('Hello World!')
      expect(hex(put.k)).toBe(K)
      expect(hex(put.sig)).toBe(SIG1)
      expect(put.seq).toBe(1)
    })

    it('decodes BEP 44 case 2 with its salt', () => {
      const put = asPut(
        decodePut({ v: 'Hello World!', k: K, sig: SIG2, seq: 1, salt: 'foobar' }, verifySignature),
      )
      expect(Buffer.isBuffer(put.salt)).toBe(true)
      expect(put.salt?.toString()).toBe('foobar')
    })

    it('accepts an upper-case hex key', () => {
      const put = asPut(
        decodePut({ v: 'Hello World!', k: K.toUpperCase(), sig: SIG1, seq: 1 }, verifySignature),
      )
      expect(hex(put.k)).toBe(K)
    })

    it('accepts a key given as a JSON byte array, as the reference', () => {
      const k = JSON.stringify([...Buffer.from(K, 'hex')])
      const put = asPut(decodePut({ v: 'Hello World!', k, sig: SIG1, seq: 1 }, verifySignature))
      expect(hex(put.k)).toBe(K)
    })

    it.each([
      ['31 bytes', K.slice(0, 62)],
      ['33 bytes', `${K}00`],
      ['an odd number of hex digits', K.slice(0, 63)],
      ['not hex', 'z'.repeat(64)],
    ])('rejects a key of %s', (_what, k) => {
      expect(decodePut({ v: 'x', k, sig: SIG1, seq: 1 }, null)).toEqual(
        invalid('opts.k ed25519 public key must be 32 bytes'),
      )
    })

    it.each([0, 5, Number.MAX_SAFE_INTEGER])('passes cas %i on', (cas) => {
      const put = asPut(decodePut({ v: 'Hello World!', k: K, sig: SIG1, seq: 1, cas }, verifySignature))
      expect(put.cas).toBe(cas)
    })

    it.each([-1, 1.5, '1', null, Number.NaN])('rejects cas %j', (cas) => {
      expect(decodePut({ v: 'x', k: K, sig: SIG1, seq: 1, cas }, null)).toEqual(
        invalid('opts.cas must be an integer if provided'),
      )
    })

    it.each([-1, 1.5, '1', null, 2 ** 53])('rejects seq %j', (seq) => {
      expect(decodePut({ v: 'x', k: K, sig: SIG1, seq }, null)).toEqual(invalid('opts.seq not an integer'))
    })

    it('accepts seq 0 and large microsecond seqs', () => {
      for (const seq of [0, 1_712_345_678_901_234]) {
        const put = asPut(decodePut({ v: 'x', k: K, sig: sign('x', seq), seq }, verifySignature))
        expect(put.seq).toBe(seq)
      }
    })

    describe('salt', () => {
      it('accepts 64 bytes and rejects 65, counting bytes not characters', () => {
        for (const salt of ['s'.repeat(64), 'é'.repeat(32)]) {
          const put = asPut(
            decodePut({ v: 'x', k: K, sig: sign('x', 1, salt), seq: 1, salt }, verifySignature),
          )
          expect(put.salt?.length).toBe(MAX_SALT_BYTES)
        }
        for (const salt of ['s'.repeat(65), 'é'.repeat(33)]) {
          expect(decodePut({ v: 'x', k: K, sig: SIG1, seq: 1, salt }, null)).toEqual(
            invalid('opts.salt is > 64 bytes long'),
          )
        }
      })

      it('reads a JSON-looking salt first: "[104,105]" is the two bytes "hi"', () => {
        const salt = '[104,105]'
        const put = asPut(decodePut({ v: 'x', k: K, sig: sign('x', 1, 'hi'), seq: 1, salt }, verifySignature))
        expect(put.salt).toEqual(Buffer.from('hi'))
        expect(decodePut({ v: 'x', k: K, sig: sign('x', 1, salt), seq: 1, salt }, verifySignature)).toEqual(
          invalid('206 invalid signature'),
        )
      })

      it('counts the size of a JSON salt after decoding it', () => {
        const long = JSON.stringify(Array.from({ length: 64 }, () => 200)) // 256 characters, 64 bytes
        const put = asPut(decodePut({ v: 'x', k: K, sig: SIG1, seq: 1, salt: long }, null))
        expect(put.salt?.length).toBe(64)
        const tooLong = JSON.stringify(Array.from({ length: 65 }, () => 1))
        expect(decodePut({ v: 'x', k: K, sig: SIG1, seq: 1, salt: tooLong }, null)).toEqual(
          invalid('opts.salt is > 64 bytes long'),
        )
      })

      it('reads a numeric salt as its text', () => {
        const put = asPut(
          decodePut({ v: 'x', k: K, sig: sign('x', 1, '123'), seq: 1, salt: '123' }, verifySignature),
        )
        expect(put.salt?.toString()).toBe('123')
      })

      it('leaves out an empty salt, and one that decodes to no bytes, from the put and the signature', () => {
        for (const salt of ['', '[]', '""']) {
          const put = asPut(decodePut({ v: 'Hello World!', k: K, sig: SIG1, seq: 1, salt }, verifySignature))
          expect('salt' in put, salt).toBe(false)
        }
      })
    })

    describe('signature', () => {
      it("answers '206 invalid signature' to a bad signature when verify is given", () => {
        const flipped = `${SIG1.slice(0, 127)}${SIG1[127] === '0' ? '1' : '0'}`
        for (const data of [
          { v: 'Hello World!', k: K, sig: flipped, seq: 1 },
          { v: 'Hello World?', k: K, sig: SIG1, seq: 1 },
          { v: 'Hello World!', k: K, sig: SIG1, seq: 2 },
          { v: 'Hello World!', k: K, sig: SIG1, seq: 1, salt: 'foobar' },
          { v: 'Hello World!', k: K, sig: SIG2, seq: 1 },
          { v: 'Hello World!', k: K, sig: SIG1.slice(0, 126), seq: 1 },
          { v: 'Hello World!', k: K, sig: '00'.repeat(64), seq: 1 },
        ]) {
          expect(decodePut(data, verifySignature), JSON.stringify(data)).toEqual(
            invalid('206 invalid signature'),
          )
        }
      })

      it('passes any signature on when verify is null', () => {
        const put = asPut(decodePut({ v: 'Hello World!', k: K, sig: '00'.repeat(64), seq: 7 }, null))
        expect(hex(put.sig)).toBe('00'.repeat(64))
        expect(put.seq).toBe(7)
      })

      it('calls verify with the signature, the signed bytes and the key', () => {
        const verify = vi.fn(() => true)
        asPut(decodePut({ v: 'héllo', k: K, sig: SIG2, seq: 3, salt: 'sälz' }, verify))
        expect(verify).toHaveBeenCalledTimes(1)
        const [signature, message, key] = verify.mock.calls[0] as unknown as [
          Uint8Array,
          Uint8Array,
          Uint8Array,
        ]
        expect(hex(signature)).toBe(SIG2)
        expect(hex(key)).toBe(K)
        expect(Buffer.from(message)).toEqual(
          Buffer.concat([Buffer.from('4:salt5:sälz3:seqi3e1:v6:'), Buffer.from('héllo')]),
        )
      })

      it('signs non-ASCII values and salts over their bytes', () => {
        const v = 'zürich €'
        const salt = 'schlüssel'
        const put = asPut(decodePut({ v, k: K, sig: sign(v, 9, salt), seq: 9, salt }, verifySignature))
        expect(put.v).toEqual(Buffer.from(v))
        expect(put.salt).toEqual(Buffer.from(salt))
      })
    })
  })
})

describe('decodeGet()', () => {
  it('reads a 40-hex string as the target, in any case', () => {
    expect(hex(asGet(decodeGet(HASH)).hash)).toBe(HASH)
    const upper = asGet(decodeGet(HASH.toUpperCase()))
    expect(hex(upper.hash)).toBe(HASH)
    expect(upper.options).toEqual({})
  })

  it('reads a 40-digit string as hex even though it parses as a JSON number', () => {
    const digits = '1234567890123456789012345678901234567890'
    expect(hex(asGet(decodeGet(digits)).hash)).toBe(digits)
  })

  it('reads a string that is a JSON array of 20 bytes as the target, as the reference', () => {
    const bytes = [...Buffer.from(HASH, 'hex')]
    expect(hex(asGet(decodeGet(JSON.stringify(bytes))).hash)).toBe(HASH)
  })

  it.each(['zz', '', HASH.slice(0, 38), `${HASH}00`, `${HASH.slice(0, 39)}g`, '"abc"', '[1,2]'])(
    "answers 'ERR_GRAPE_HASH_FORMAT' to the string %j",
    (data) => {
      expect(decodeGet(data)).toEqual(invalid('ERR_GRAPE_HASH_FORMAT'))
    },
  )

  it.each([undefined, null])('answers 500 ERR_GRAPE_PAYLOAD_INVALID to %s', (data) => {
    expect(decodeGet(data)).toEqual(PAYLOAD_INVALID)
  })

  it.each([5, true, [HASH], {}, { hash: 123 }, { hash: null }, { salt: 'x' }])(
    "answers 'ERR_GRAPE_GENERIC' to %j",
    (data) => {
      expect(decodeGet(data)).toEqual(invalid('ERR_GRAPE_GENERIC'))
    },
  )

  it('reads {hash} with a 40-hex hash', () => {
    const get = asGet(decodeGet({ hash: HASH }))
    expect(hex(get.hash)).toBe(HASH)
    expect(get.options).toEqual({})
  })

  it("answers 'ERR_GRAPE_HASH_FORMAT' to {hash} that is not 40 hex digits", () => {
    for (const hash of ['zz', '', HASH.slice(1), JSON.stringify([...Buffer.from(HASH, 'hex')])]) {
      expect(decodeGet({ hash }), hash).toEqual(invalid('ERR_GRAPE_HASH_FORMAT'))
    }
  })

  it('passes a salt on as bytes, reading JSON first', () => {
    expect(asGet(decodeGet({ hash: HASH, salt: 'foobar' })).options.salt).toEqual(Buffer.from('foobar'))
    expect(asGet(decodeGet({ hash: HASH, salt: '[104,105]' })).options.salt).toEqual(Buffer.from('hi'))
    expect(asGet(decodeGet({ hash: HASH, salt: 'sälz' })).options.salt).toEqual(Buffer.from('sälz'))
    expect(asGet(decodeGet({ hash: HASH, salt: '' })).options).toEqual({})
  })

  it('answers 500 ERR_GRAPE_PAYLOAD_INVALID to a salt that is not a string, after checking the hash type', () => {
    expect(decodeGet({ hash: HASH, salt: 5 })).toEqual(PAYLOAD_INVALID)
    expect(decodeGet({ hash: 'zz', salt: [1] })).toEqual(PAYLOAD_INVALID)
    expect(decodeGet({ hash: 5, salt: 5 })).toEqual(invalid('ERR_GRAPE_GENERIC'))
  })

  it('passes cache: false on, and nothing for any other cache value', () => {
    expect(asGet(decodeGet({ hash: HASH, cache: false })).options).toEqual({ cache: false })
    for (const cache of [true, 'false', 0, null]) {
      expect(asGet(decodeGet({ hash: HASH, cache })).options).toEqual({})
    }
  })
})

describe('encodeItem()', () => {
  const id = Buffer.alloc(20, 0xab)
  const token = Buffer.alloc(20, 0xcd)

  it('encodes a local immutable item as {id, token: null, v}, in that order', () => {
    const item = { id, token: null, v: Buffer.from('Hello World!') } as unknown as DhtItem
    const json = encodeItem(item)
    expect(json).toEqual({ id: id.toString('hex'), token: null, v: 'Hello World!' })
    expect(JSON.stringify(json)).toBe(`{"id":"${'ab'.repeat(20)}","token":null,"v":"Hello World!"}`)
  })

  it('encodes a remote mutable item in the reference shape, keeping key order', () => {
    const k = Buffer.from(K, 'hex')
    const sig = Buffer.from(SIG2, 'hex')
    const item = {
      id,
      k,
      seq: 5,
      sig,
      token,
      v: Buffer.from('salted välue'),
      salt: Buffer.from('foobar'),
    } as unknown as DhtItem
    const json = encodeItem(item)
    expect(Object.keys(json)).toEqual(['id', 'k', 'seq', 'sig', 'token', 'v', 'salt'])
    expect(json).toEqual({
      id: 'ab'.repeat(20),
      k: K,
      seq: 5,
      sig: SIG2,
      token: 'cd'.repeat(20),
      v: 'salted välue',
      salt: 'foobar',
    })
  })

  it('keeps the local mutable key order {id, token, v, sig, k, seq}', () => {
    const item = {
      id,
      token: null,
      v: Buffer.from('x'),
      sig: Buffer.from(SIG1, 'hex'),
      k: Buffer.from(K, 'hex'),
      seq: 1,
    } as unknown as DhtItem
    expect(Object.keys(encodeItem(item))).toEqual(['id', 'token', 'v', 'sig', 'k', 'seq'])
  })

  it('converts plain Uint8Arrays like Buffers, and passes unknown fields through', () => {
    const item = {
      id: new Uint8Array(id),
      v: new Uint8Array(Buffer.from('é')),
      token: new Uint8Array([1, 2]),
      extra: 42,
    } as unknown as DhtItem
    expect(encodeItem(item)).toEqual({ id: 'ab'.repeat(20), v: 'é', token: '0102', extra: 42 })
  })

  it('leaves string fields as they are', () => {
    const item = { id, v: 'already text', salt: 'already salt' } as unknown as DhtItem
    expect(encodeItem(item)).toMatchObject({ v: 'already text', salt: 'already salt' })
  })
})

describe('isRejection()', () => {
  it('tells a rejection from a decoded request', () => {
    expect(isRejection(invalid('x'))).toBe(true)
    expect(isRejection({ v: 'x' })).toBe(false)
    expect(isRejection({ hash: Buffer.alloc(20), options: {} })).toBe(false)
  })
})
