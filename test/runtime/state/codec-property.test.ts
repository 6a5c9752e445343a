/**
 * Property tests of generated state codecs: every valid value comes back equal, deltas are
 * idempotent, decoders fed hostile bytes return or throw ERR_DECODE (nothing else, never slowly,
 * never building more than the bytes hold), and encoders refuse what they cannot write with
 * ERR_ENCODE, leaving the writer where it was. The codecs are generated once, from
 * test/fixtures/states/kitchen-sink.schema.ts and schemas/order-book.schema.ts.
 */
import fc from 'fast-check'
import { describe, expect, it } from 'vitest'
import { GrenacheError } from '../../../runtime/errors.js'
import { applyDelta, ByteReader, ByteWriter } from '../../../runtime/state/index.js'
import * as A from '../../fixtures/states/kitchen-sink.arbitraries.js'
import { decodeOrRefuse, footprint, hex } from '../../helpers/decode-fuzz.js'
import {
  type AnyDelta,
  encoded,
  PART_NAMES,
  type Part,
  received,
  roundTrip,
  SUBJECT_NAMES,
  type Subject,
  subjectsForTests,
} from '../../helpers/state-subjects.js'

const SEED = 20261206
const runs = (numRuns: number) => ({ seed: SEED, numRuns })

const subjects = subjectsForTests()

/** Decodes; what decodes is no bigger than its bytes allow, and encodes again to an equal value. */
function decodesSanely(s: Subject, part: Part, bytes: Uint8Array): boolean {
  const out = decodeOrRefuse((r) => part.decode(r), bytes)
  if (!out.ok) return false
  const size = footprint(out.value)
  if (size > 16 * out.read + 256) expect.fail(`${part.name} from ${hex(bytes)}: a footprint of ${size}`)
  const again = encoded(s, (w) => part.encode(out.value, w))
  if (again === undefined) expect.fail(`${part.name} decoded from ${hex(bytes)} does not encode again`)
  expect(part.decode(new ByteReader(again))).toStrictEqual(out.value)
  return true
}

/** Valid encodings of any part, with the index of the part in PART_NAMES. */
function validEncodings(s: Subject): fc.Arbitrary<{ part: number; bytes: Uint8Array }> {
  return fc.oneof(
    ...PART_NAMES.map((name, part) =>
      s.parts[name].values
        .map((value) => encoded(s, (w) => s.parts[name].encode(value, w)))
        .filter((bytes) => bytes !== undefined)
        .map((bytes) => ({ part, bytes })),
    ),
  )
}

const heapUsed = () => process.memoryUsage().heapUsed

describe.each(SUBJECT_NAMES)('the generated %s codec', (name) => {
  describe('round trips', () => {
    it.each(PART_NAMES)('decodes every valid %s it encodes to an equal one, within its limit', (partName) => {
      const s = subjects[name]
      const part = s.parts[partName]
      const numRuns = partName === 'snapshot' ? 60 : 200
      let written = 0
      fc.assert(
        fc.property(part.values, (value) => {
          if (part.parse) expect(part.parse(value)).toStrictEqual(value)
          if (roundTrip(s, part, value)) written++
        }),
        { ...runs(numRuns), examples: part.examples.map((value): [unknown] => [value]) },
      )
      expect(written, 'most valid values are within the limits').toBeGreaterThan(numRuns / 2)
    })
  })

  describe('applyDelta()', () => {
    it('gives the same map when a received delta is applied twice as once', () => {
      const s = subjects[name]
      fc.assert(
        fc.property(fc.array(s.fewKeyDelta, { maxLength: 8 }), s.fewKeyDelta, (history, sent) => {
          const delta = received(s, sent)
          fc.pre(delta !== undefined)
          const once = new Map<unknown, unknown>()
          for (const h of history) {
            const earlier = received(s, h)
            if (earlier) applyDelta(once, earlier)
          }
          applyDelta(once, delta as AnyDelta)
          const twice = new Map(once)
          applyDelta(twice, delta as AnyDelta)
          expect(twice).toStrictEqual(once)
        }),
        runs(100),
      )
    })

    it('changes nothing when a snapshot is followed by deltas it already holds', () => {
      const s = subjects[name]
      fc.assert(
        fc.property(fc.array(s.fewKeyDelta, { minLength: 1, maxLength: 12 }), fc.nat(), (sent, cut) => {
          const deltas = sent.map((d) => received(s, d)).filter((d) => d !== undefined)
          const source = new Map<unknown, unknown>()
          for (const d of deltas) applyDelta(source, d)
          // Patches can take a leaf past maxLeafBytes: such a state has no snapshot.
          const bytes = encoded(s, (w) => s.codec.encodeSnapshot(deltas.length, source, w))
          fc.pre(bytes !== undefined)
          const snapshot = s.codec.decodeSnapshot(new ByteReader(bytes as Uint8Array))
          expect(snapshot.seq).toBe(deltas.length)
          const replica = new Map(snapshot.entries)
          expect(replica).toStrictEqual(source)
          // Deltas from any point up to the snapshot's seq, replayed in order: all already held.
          for (const d of deltas.slice(cut % (deltas.length + 1))) applyDelta(replica, d)
          expect(replica).toStrictEqual(source)
        }),
        runs(80),
      )
    })
  })

  describe('decoders fed hostile bytes', () => {
    it('return a value or throw ERR_DECODE for random bytes', () => {
      const s = subjects[name]
      const before = heapUsed()
      fc.assert(
        fc.property(fc.uint8Array({ maxLength: 96 }), fc.integer({ min: 1, max: 4 }), (bytes, op) => {
          for (const partName of PART_NAMES) decodesSanely(s, s.parts[partName], bytes)
          // Past the op byte, into the key and the leaf.
          decodesSanely(s, s.parts.delta, Uint8Array.of(op, ...bytes))
        }),
        runs(400),
      )
      expect(heapUsed() - before).toBeLessThan(64 * 1024 * 1024)
    })

    it('throw ERR_DECODE for every truncation of a valid encoding', () => {
      const s = subjects[name]
      fc.assert(
        fc.property(validEncodings(s), ({ part, bytes }) => {
          const p = s.parts[PART_NAMES[part] as (typeof PART_NAMES)[number]]
          expect(decodesSanely(s, p, bytes)).toBe(true)
          for (let n = 0; n < bytes.length; n++) {
            if (decodeOrRefuse((r) => p.decode(r), bytes.subarray(0, n)).ok)
              expect.fail(`${p.name} ${hex(bytes)} cut at ${n} decoded`)
          }
        }),
        runs(60),
      )
    })

    it('return a value or throw ERR_DECODE after bit flips of a valid encoding', () => {
      const s = subjects[name]
      const flips = fc.array(fc.nat(), { minLength: 1, maxLength: 4 })
      const before = heapUsed()
      let decoded = 0
      fc.assert(
        fc.property(validEncodings(s), flips, ({ part, bytes }, bits) => {
          fc.pre(bytes.length > 0)
          const bent = bytes.slice()
          for (const bit of bits) {
            const at = bit % (bent.length * 8)
            bent[at >> 3] = (bent[at >> 3] as number) ^ (1 << (at & 7))
          }
          const p = s.parts[PART_NAMES[part] as (typeof PART_NAMES)[number]]
          if (decodesSanely(s, p, bent)) decoded++
        }),
        runs(400),
      )
      expect(heapUsed() - before).toBeLessThan(64 * 1024 * 1024)
      expect(decoded, 'some flips still decode: the re-encoding check ran').toBeGreaterThan(0)
    })
  })
})

describe('the generated kitchen_sink codec', () => {
  const sink = () => subjects.kitchen_sink.codec

  it('keeps a record key named __proto__ as a key', () => {
    const books = JSON.parse('{"__proto__": [], "a": []}') as A.SinkLeaf['books']
    const leaf: A.SinkLeaf = { ...A.minimalLeaf, books }
    const w = new ByteWriter(256)
    sink().encodeLeaf(leaf, w)
    const back = sink().decodeLeaf(new ByteReader(w.bytes())) as A.SinkLeaf
    expect(Object.keys(back.books)).toEqual(['__proto__', 'a'])
    expect(Object.getPrototypeOf(back.books)).toBe(Object.prototype)
  })

  describe('decoders fed a huge declared count or length', () => {
    /** A patch of one field whose encoding ends in its count or length (0), which is replaced. */
    const cases: Array<[string, unknown]> = [
      ['an unbounded string', { note: '' }],
      ['a bounded string', { title: '' }],
      ['an unbounded array', { history: [] }],
      ['a bounded array', { tags: [] }],
      ['a record', { books: {} }],
    ]
    const huge = [2 ** 31 - 1, 2 ** 32, 2 ** 40, Number.MAX_SAFE_INTEGER]

    it.each(cases)('refuse it for %s with ERR_DECODE instead of allocating it', (_, fields) => {
      const w = new ByteWriter(64)
      sink().encodeDelta({ op: 'patch', key: 0, fields }, w)
      const bytes = w.bytes()
      expect(bytes.at(-1)).toBe(0)
      const before = process.memoryUsage().heapUsed
      for (const count of huge) {
        const evil = new ByteWriter(64)
        evil.buf.set(bytes.subarray(0, -1))
        evil.pos = bytes.length - 1
        evil.uvarint(count)
        for (const bytes of [evil.bytes(), Uint8Array.of(...evil.bytes(), 1, 2, 3, 4, 5, 6, 7, 8)]) {
          const out = decodeOrRefuse((r) => sink().decodeDelta(r), bytes)
          expect(out.ok, `count ${count}`).toBe(false)
        }
      }
      expect(process.memoryUsage().heapUsed - before).toBeLessThan(16 * 1024 * 1024)
    })

    it('refuse it for the entries of a snapshot with ERR_DECODE', () => {
      const w = new ByteWriter(16)
      sink().encodeSnapshot(7, [], w)
      const bytes = w.bytes().slice()
      for (const count of [1, 2 ** 16, 2 ** 32 - 1]) {
        new DataView(bytes.buffer).setUint32(1, count, true)
        expect(decodeOrRefuse((r) => sink().decodeSnapshot(r), bytes).ok).toBe(false)
      }
    })
  })

  describe('encoders fed invalid values', () => {
    const leafCases: Array<[string, Record<string, unknown>]> = [
      ['a number in a string field', { title: 42 }],
      ['a string in a float field', { price: '1' }],
      ['a string in a float32 field', { ratio: '1' }],
      ['a non-integer in an int field', { delta: 1.5 }],
      ['an unsafe integer in an int field', { delta: 2 ** 53 }],
      ['NaN in an int field', { delta: Number.NaN }],
      ['a negative number in a non-negative int field', { qty: -1 }],
      ['a non-integer in a non-negative int field', { qty: 0.5 }],
      ['a number in a bigint field', { total: 1 }],
      ['a bigint past 64 bits', { total: 2n ** 63n }],
      ['a string in a boolean field', { active: 'yes' }],
      ['a value outside the enum', { side: 'mid' }],
      ['a number enum value as a string', { level: '5' }],
      ['another literal', { format: 'v2' }],
      ['an invalid Date', { at: new Date(Number.NaN) }],
      ['a string in a date field', { at: '2026-01-01' }],
      ['a short string with a lone surrogate', { title: 'a\ud800' }],
      ['a long string with a lone surrogate', { note: `${'x'.repeat(50)}\udc00` }],
      ['a lone surrogate in an optional string', { memo: '\udfff' }],
      ['an unknown union variant', { shape: { kind: 'hexagon' } }],
      ['a union variant with a wrong field', { shape: { kind: 'rect', w: 1.5, h: 1 } }],
      ['null for an array', { path: null }],
      ['no nested object', { meta: undefined }],
      ['a string for an array', { tags: 'abc' }],
      ['a number for a record', { colors: 7 }],
      ['an array for a record', { books: [[]] }],
      ['a wrong type inside an array', { tags: ['ok', 7] }],
      ['a wrong type inside a record', { books: { a: [{ px: 'x', sz: 1, by: null }] } }],
      ["a key outside a record's enum", { colors: { red: 1, purple: 1 } }],
      ['a string for an optional int', { parent: 'x' }],
      ['undefined for a nullable field', { score: undefined }],
      ['a leaf past maxLeafBytes', { note: 'x'.repeat(3000) }],
    ]

    /** Runs `encode` into a writer that already holds 3 bytes: ERR_ENCODE, and `pos` still 3. */
    const refused = (encode: (w: ByteWriter) => void, grow = true) => {
      const w = new ByteWriter(grow ? 8 : 40, { grow })
      w.u8(1)
      w.u8(2)
      w.u8(3)
      let error: unknown
      try {
        encode(w)
      } catch (err) {
        error = err
      }
      expect(error).toBeInstanceOf(GrenacheError)
      expect((error as GrenacheError).code).toBe('ERR_ENCODE')
      expect(w.pos).toBe(3)
      expect([...w.bytes()]).toEqual([1, 2, 3])
    }

    it.each(leafCases)('throw ERR_ENCODE for %s and leave the writer where it was', (_, change) => {
      const leaf = { ...A.maximalLeaf, ...change }
      refused((w) => sink().encodeLeaf(leaf, w))
      refused((w) => sink().encodeDelta({ op: 'upsert', key: 1, leaf }, w))
      refused((w) =>
        sink().encodeSnapshot(
          1,
          [
            [1, A.minimalLeaf],
            [2, leaf],
          ],
          w,
        ),
      )
      if (Object.values(change).every((v) => v !== undefined))
        refused((w) => sink().encodeDelta({ op: 'patch', key: 1, fields: { ...change, step: 1 } }, w))
    })

    it.each<[string, unknown]>([
      ['a non-integer', 1.5],
      ['a string', '1'],
      ['an unsafe integer', -(2 ** 53)],
      ['a bigint', 1n],
    ])('throw ERR_ENCODE for %s as an integer key', (_, key) => {
      refused((w) => sink().encodeKey(key, w))
      refused((w) => sink().encodeDelta({ op: 'delete', key }, w))
      refused((w) => sink().encodeSnapshot(1, [[key, A.minimalLeaf]], w))
    })

    it('throw ERR_ENCODE for string keys of the wrong type, with a lone surrogate or past maxKeyBytes', () => {
      const catalog = subjects.catalog.codec
      for (const key of [5, null, 'a\ud800', '界'.repeat(9)]) {
        refused((w) => catalog.encodeKey(key, w))
        refused((w) => catalog.encodeDelta({ op: 'delete', key }, w))
      }
    })

    it('throw ERR_ENCODE for a valid leaf past maxLeafBytes: as a leaf, an upsert, a patch, a snapshot', () => {
      const catalog = subjects.catalog.codec
      const leaf = { name: '界'.repeat(12), sizes: [2 ** 50, 2 ** 50, 2 ** 50] }
      expect(catalog.parseLeaf(leaf)).toStrictEqual(leaf)
      refused((w) => catalog.encodeLeaf(leaf, w))
      refused((w) => catalog.encodeDelta({ op: 'upsert', key: 'k', leaf }, w))
      refused((w) => catalog.encodeDelta({ op: 'patch', key: 'k', fields: leaf }, w))
      refused((w) => catalog.encodeSnapshot(3, [['k', leaf]], w))
    })

    it('throw ERR_ENCODE for an unknown op and for a writer too small, leaving it where it was', () => {
      refused((w) => sink().encodeDelta({ op: 'merge' } as unknown as AnyDelta, w))
      refused((w) => sink().encodeLeaf(A.maximalLeaf, w), false)
      refused((w) => sink().encodeDelta({ op: 'upsert', key: 1, leaf: A.maximalLeaf }, w), false)
    })
  })
})
