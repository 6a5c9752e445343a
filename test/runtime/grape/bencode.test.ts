import fc from 'fast-check'
import { describe, expect, it } from 'vitest'
import {
  type BencodeValue,
  bencodedLength,
  decodeBencode,
  encodeBencode,
  MAX_BENCODE_DEPTH,
} from '../../../runtime/grape/bencode.js'
import { bencodeValue, wireBencode } from '../../helpers/krpc.js'

const SEED = 0x62656e63
const runs = (numRuns: number) => ({ seed: SEED, numRuns })
const b = (text: string) => Buffer.from(text, 'latin1')

/** The error `decodeBencode` throws for `text`. */
function refusal(text: string | Buffer): unknown {
  try {
    decodeBencode(typeof text === 'string' ? b(text) : text)
  } catch (err) {
    return err
  }
  throw new Error(`decoded ${String(text)}`)
}

/** A value as plain JSON-like data, so that null-prototype dictionaries compare with plain ones. */
function plain(value: unknown): unknown {
  if (Buffer.isBuffer(value)) return { bytes: value.toString('hex') }
  if (Array.isArray(value)) return value.map(plain)
  if (typeof value === 'object' && value !== null) {
    return Object.fromEntries(Object.entries(value).map(([k, v]) => [k, plain(v)]))
  }
  return value
}

describe('bencode', () => {
  describe('decodeBencode()', () => {
    it('decodes each type, dictionaries without a prototype', () => {
      const value = decodeBencode(b('d1:ai-42e1:bl0:3:xyze1:cd1:di0eee')) as Record<string, BencodeValue>
      expect(plain(value)).toEqual({
        a: -42,
        b: [{ bytes: '' }, { bytes: Buffer.from('xyz').toString('hex') }],
        c: { d: 0 },
      })
      expect(Object.getPrototypeOf(value)).toBeNull()
    })

    it('keeps a key named __proto__ as an ordinary key', () => {
      const value = decodeBencode(b('d9:__proto__d1:xi1eee')) as Record<string, unknown>
      expect(Object.hasOwn(value, '__proto__')).toBe(true)
      expect(Object.getPrototypeOf(value)).toBeNull()
    })

    it.each([
      ['', 'no value'],
      ['i12', 'unterminated integer'],
      ['ie', 'not a canonical integer'],
      ['i-0e', 'not a canonical integer'],
      ['i012e', 'not a canonical integer'],
      ['i+1e', 'not a canonical integer'],
      ['i1.5e', 'not a canonical integer'],
      ['i9007199254740993e', 'not a safe integer'],
      ['5:abc', 'past the end'],
      ['03:abc', 'not a canonical integer'],
      ['3abc', 'without ":"'],
      ['l1:a', 'unterminated list'],
      ['d1:a', 'no value for key'],
      ['d1:ai1e', 'unterminated dictionary'],
      ['di1ei2ee', 'a dictionary key that is not a string'],
      ['i1ei2e', 'trailing bytes'],
      ['x', 'unexpected byte 0x78'],
      [`${'l'.repeat(MAX_BENCODE_DEPTH + 2)}${'e'.repeat(MAX_BENCODE_DEPTH + 2)}`, 'nesting deeper'],
    ])('refuses %j with ERR_DECODE (%s)', (text, rule) => {
      const err = refusal(text)
      expect(err).toMatchObject({ code: 'ERR_DECODE' })
      expect((err as Error).message).toContain(rule)
    })

    it('never throws anything but ERR_DECODE, whatever the bytes (seeded)', () => {
      const mutated = fc
        .tuple(bencodeValue, fc.array(fc.tuple(fc.nat(), fc.integer({ min: 0, max: 255 })), { maxLength: 4 }))
        .map(([value, edits]) => {
          const bytes = encodeBencode(value)
          for (const [at, byte] of edits) if (bytes.length > 0) bytes[at % bytes.length] = byte
          return bytes
        })
      fc.assert(
        fc.property(fc.oneof(mutated, fc.uint8Array({ maxLength: 64 })), (bytes) => {
          try {
            decodeBencode(bytes)
          } catch (err) {
            expect(err).toMatchObject({ code: 'ERR_DECODE' })
          }
        }),
        runs(2000),
      )
    })
  })

  describe('encodeBencode()', () => {
    it('writes strings as UTF-8 and sorts dictionary keys by their bytes', () => {
      expect(encodeBencode({ b: 1, a: ['é', Buffer.from('x')], B: -3 }).toString()).toBe(
        'd1:Bi-3e1:al2:é1:xe1:bi1ee',
      )
    })

    it.each([[1.5], [Number.NaN], [null], [true]])('refuses %j with ERR_ENCODE', (value) => {
      expect(() => encodeBencode([value as never])).toThrow(expect.objectContaining({ code: 'ERR_ENCODE' }))
    })

    it('round-trips any value (seeded)', () => {
      fc.assert(
        fc.property(bencodeValue, (value) => {
          const bytes = encodeBencode(value)
          expect(plain(decodeBencode(bytes))).toEqual(plain(value))
          expect(encodeBencode(decodeBencode(bytes))).toEqual(bytes)
        }),
        runs(500),
      )
    })
  })

  it("decodes what it accepts as the DHT's own decoder does (k-rpc-socket's bencode 2, seeded)", () => {
    fc.assert(
      fc.property(bencodeValue, (value) => {
        const bytes = encodeBencode(value)
        expect(plain(wireBencode.decode(bytes))).toEqual(plain(decodeBencode(bytes)))
      }),
      runs(500),
    )
  })

  describe('bencodedLength()', () => {
    it('is the length bittorrent-dht bencodes a JSON value or a decoded value to (seeded)', async () => {
      const { default: dhtBencode } = (await import('bencode' as string)) as {
        default: { encode: { (value: unknown): Uint8Array; _floatConversionDetected: boolean } }
      }
      // It writes a boolean as 0 or 1, and warns on stderr (once) that it did.
      dhtBencode.encode._floatConversionDetected = true
      const json = fc.letrec<{ value: unknown }>((tie) => ({
        value: fc.oneof(
          { depthSize: 'small' },
          fc.string({ unit: 'grapheme', maxLength: 8 }),
          fc.maxSafeInteger(),
          fc.boolean(),
          fc.constant(null),
          fc.array(tie('value'), { maxLength: 4 }),
          fc.dictionary(fc.string({ unit: 'grapheme', maxLength: 4 }), tie('value'), { maxKeys: 4 }),
        ),
      })).value
      fc.assert(
        fc.property(fc.oneof(json, bencodeValue), (value) => {
          expect(bencodedLength(value)).toBe(value === null ? 0 : dhtBencode.encode(value).length)
        }),
        runs(500),
      )
    })

    it('stops counting once past `stopAfter`, however deep or long the value', () => {
      let deep: unknown = []
      for (let i = 0; i < 100_000; i++) deep = [deep]
      expect(bencodedLength(deep, 1000)).toBeGreaterThan(1000)
      expect(bencodedLength(deep, 1000)).toBeLessThan(1100)
      expect(bencodedLength(new Array(1_000_000).fill('abc'), 999)).toBeLessThan(1010)
    })
  })
})
