/**
 * The codec built from a layout at run time (`dynamicCodec`) against the generated codecs of the
 * same layouts: the same bytes for every value, each decoding the other's bytes to equal values,
 * the same outcome (value or ERR_DECODE and its message) for hostile bytes, the same refusals
 * when encoding, and structural validation in place of zod.
 */
import fc from 'fast-check'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { GrenacheError } from '../../../runtime/errors.js'
import {
  type AnyStateCodec,
  ByteReader,
  ByteWriter,
  type DynamicCodec,
  dynamicCodec,
  stateFingerprint,
} from '../../../runtime/state/index.js'
import { KITCHEN_SINK } from '../../fixtures/kitchen-sink-state.js'
import { type SchemaProject, schemaProject } from '../../helpers/codegen.js'
import { decodeOrRefuse, hex } from '../../helpers/decode-fuzz.js'
import { layoutArbitraries } from '../../helpers/layout-arbitrary.js'
import { loadSubjects, PART_NAMES, type PartName, type Subject } from '../../helpers/state-subjects.js'

const SEED = 20261207
const runs = (numRuns: number) => ({ seed: SEED, numRuns })

/** A generated codec, the dynamic one of its layout, and valid values of each part. */
interface Pair {
  generated: AnyStateCodec
  dynamic: DynamicCodec
  values: Record<PartName, fc.Arbitrary<unknown>>
}

const NAMES = ['kitchen_sink', 'catalog', 'tally', 'order_book', 'sink'] as const
type Name = (typeof NAMES)[number]

const projects: SchemaProject[] = []
let pairs: Record<Name, Pair>

function pair(generated: AnyStateCodec, subject: Subject | undefined): Pair {
  const fromLayout = layoutArbitraries(generated.layout)
  const both = (name: PartName, layoutValues: fc.Arbitrary<unknown>) =>
    subject ? fc.oneof(subject.parts[name].values, layoutValues) : layoutValues
  return {
    generated,
    dynamic: dynamicCodec(structuredClone(generated.layout)),
    values: {
      key: both('key', fromLayout.key),
      leaf: both('leaf', fromLayout.leaf),
      delta: both('delta', fromLayout.delta),
      snapshot: both('snapshot', fromLayout.snapshot),
    },
  }
}

beforeAll(async () => {
  const loaded = await loadSubjects()
  projects.push(loaded.project)
  const sinkProject = schemaProject({ 'schemas/sink.schema.ts': KITCHEN_SINK })
  projects.push(sinkProject)
  await sinkProject.generate(true)
  const sink = await sinkProject.import<Record<string, AnyStateCodec>>('generated/sink.gen.ts')
  const s = loaded.subjects
  pairs = {
    kitchen_sink: pair(s.kitchen_sink.codec, s.kitchen_sink),
    catalog: pair(s.catalog.codec, s.catalog),
    tally: pair(s.tally.codec, s.tally),
    order_book: pair(s.order_book.codec, s.order_book),
    sink: pair(sink.SinkV3Codec as AnyStateCodec, undefined),
  }
}, 90_000)

afterAll(() => {
  for (const project of projects) project.remove()
})

type Outcome = { bytes: string } | { code: string; message: string }

/** Encodes after two bytes already written: the bytes, or the error (the writer must be untouched). */
function encodeWith(encode: (w: ByteWriter) => unknown): Outcome {
  const w = new ByteWriter(8, { grow: true })
  w.u8(0xa5)
  w.u8(0x5a)
  try {
    encode(w)
  } catch (err) {
    if (!(err instanceof GrenacheError)) throw err
    expect(w.pos, 'a failed encode leaves the writer where it was').toBe(2)
    // The reason zod (or the layout parsers) adds in parentheses differs: compare what comes before.
    return { code: err.code, message: err.message.replace(/ \(.*$/s, '') }
  }
  return { bytes: hex(w.bytes().subarray(2)) }
}

function encodePart(codec: AnyStateCodec, part: PartName, value: unknown, w: ByteWriter): unknown {
  switch (part) {
    case 'key':
      return codec.encodeKey(value, w)
    case 'leaf':
      return codec.encodeLeaf(value, w)
    case 'delta':
      return codec.encodeDelta(value as never, w)
    case 'snapshot': {
      const { seq, entries } = value as { seq: number; entries: Array<[unknown, unknown]> }
      return codec.encodeSnapshot(seq, entries, w)
    }
  }
}

function decodePart(codec: AnyStateCodec, part: PartName, r: ByteReader): unknown {
  switch (part) {
    case 'key':
      return codec.decodeKey(r)
    case 'leaf':
      return codec.decodeLeaf(r)
    case 'delta':
      return codec.decodeDelta(r)
    case 'snapshot':
      return codec.decodeSnapshot(r)
  }
}

/**
 * Both decoders over the same bytes: the same value and bytes read, or ERR_DECODE with the same
 * message. A union inside a patch may be named by its leaf path in the generated code.
 */
function decodesAlike(p: Pair, part: PartName, bytes: Uint8Array): boolean {
  const a = decodeOrRefuse((r) => decodePart(p.generated, part, r), bytes)
  const b = decodeOrRefuse((r) => decodePart(p.dynamic, part, r), bytes)
  const unify = (message: string) => message.replaceAll('fields.', 'leaf.')
  if (a.ok && b.ok) {
    expect(b.value, hex(bytes)).toStrictEqual(a.value)
    expect(b.read).toBe(a.read)
  } else if (!a.ok && !b.ok) expect(unify(b.error.message), hex(bytes)).toBe(unify(a.error.message))
  else
    expect.fail(
      `${part} ${hex(bytes)}: generated ${a.ok ? 'decoded' : a.error.message}, dynamic ${b.ok ? 'decoded' : b.error.message}`,
    )
  return a.ok
}

describe('dynamicCodec()', () => {
  describe.each(NAMES)('of the %s layout', (name) => {
    it('has the fingerprint, feed and limits of the generated codec', () => {
      const { generated, dynamic } = pairs[name]
      expect(dynamic.fingerprint).toBe(generated.fingerprint)
      expect(dynamic.fingerprint).toBe(stateFingerprint(generated.layout))
      for (const field of [
        'name',
        'version',
        'feed',
        'maxKeyBytes',
        'maxLeafBytes',
        'maxDeltaBytes',
      ] as const)
        expect(dynamic[field]).toBe(generated[field])
    })

    it.each(PART_NAMES)(
      'writes every valid %s as the generated codec does, and each reads the other back equal',
      (part) => {
        const p = pairs[name]
        let written = 0
        fc.assert(
          fc.property(p.values[part], (value) => {
            const a = encodeWith((w) => encodePart(p.generated, part, value, w))
            const b = encodeWith((w) => encodePart(p.dynamic, part, value, w))
            expect(b).toStrictEqual(a)
            if (!('bytes' in a)) {
              expect(a.message, 'only a limit refuses a valid value').toMatch(/more than max(Key|Leaf)Bytes/)
              return
            }
            written++
            const bytes = Buffer.from(a.bytes, 'hex')
            const r1 = new ByteReader(bytes)
            const r2 = new ByteReader(bytes)
            const byGenerated = decodePart(p.generated, part, r1)
            expect(decodePart(p.dynamic, part, r2)).toStrictEqual(byGenerated)
            expect([r1.pos, r2.pos]).toEqual([bytes.length, bytes.length])
          }),
          runs(part === 'snapshot' ? 60 : 150),
        )
        expect(written, 'most valid values are within the limits').toBeGreaterThan(0)
      },
    )

    it('reads random bytes as the generated codec does: the same value, or ERR_DECODE with the same message', () => {
      const p = pairs[name]
      fc.assert(
        fc.property(fc.uint8Array({ maxLength: 96 }), fc.integer({ min: 1, max: 4 }), (bytes, op) => {
          for (const part of PART_NAMES) decodesAlike(p, part, bytes)
          decodesAlike(p, 'delta', Uint8Array.of(op, ...bytes))
        }),
        runs(300),
      )
    })

    it('reads truncated and bit-flipped valid encodings as the generated codec does', () => {
      const p = pairs[name]
      const encodings = fc.oneof(
        ...PART_NAMES.map((part) =>
          p.values[part]
            .map((value) => encodeWith((w) => encodePart(p.generated, part, value, w)))
            .filter((out): out is { bytes: string } => 'bytes' in out)
            .map((out) => ({ part, bytes: Buffer.from(out.bytes, 'hex') })),
        ),
      )
      let decoded = 0
      fc.assert(
        fc.property(
          encodings,
          fc.array(fc.nat(), { minLength: 1, maxLength: 3 }),
          fc.nat(),
          ({ part, bytes }, flips, cut) => {
            decodesAlike(p, part, bytes.subarray(0, cut % (bytes.length + 1)))
            if (bytes.length === 0) return
            const bent = Uint8Array.from(bytes)
            for (const bit of flips) {
              const at = bit % (bent.length * 8)
              bent[at >> 3] = (bent[at >> 3] as number) ^ (1 << (at & 7))
            }
            if (decodesAlike(p, part, bent)) decoded++
          },
        ),
        runs(300),
      )
      expect(decoded, 'some flips still decode').toBeGreaterThan(0)
    })

    it('refuses what the generated codec refuses to write (ERR_ENCODE), and its parsers refuse it too', () => {
      const p = pairs[name]
      const junk = fc.oneof(
        fc.constantFrom(
          undefined,
          null,
          Number.NaN,
          1.5,
          -1,
          2 ** 53,
          '',
          'x',
          true,
          7n,
          [],
          {},
          new Date(Number.NaN),
        ),
        fc.string(),
        fc.integer(),
        fc.array(fc.integer(), { maxLength: 2 }),
      )
      fc.assert(
        fc.property(p.values.leaf, junk, fc.nat(), (leaf, value, pick) => {
          const fields = Object.keys(leaf as object)
          const bent = { ...(leaf as object), [fields[pick % fields.length] as string]: value }
          const a = encodeWith((w) => p.generated.encodeLeaf(bent, w))
          const b = encodeWith((w) => p.dynamic.encodeLeaf(bent, w))
          expect(b).toStrictEqual(a)
          if ('code' in a && !/more than max/.test(a.message))
            expect(() => p.dynamic.parseLeaf(bent)).toThrow(
              expect.objectContaining({ code: 'ERR_INVALID_DELTA' }),
            )
        }),
        runs(300),
      )
    })

    it('parses every valid leaf and delta to an equal value', () => {
      const p = pairs[name]
      fc.assert(
        fc.property(p.values.leaf, p.values.delta, (leaf, delta) => {
          expect(p.dynamic.parseLeaf(leaf)).toEqual(leaf)
          expect(p.dynamic.parseDelta(delta)).toEqual(delta)
        }),
        runs(100),
      )
    })
  })

  describe('of the order_book layout', () => {
    const book = () => pairs.order_book.dynamic

    it('writes the upsert of docs/state.md in 9 bytes', () => {
      const w = new ByteWriter(32)
      book().encodeDelta({ op: 'upsert', key: 'o-1', leaf: { side: 'bid', price: 9950, size: 3 } }, w)
      expect(hex(w.bytes())).toBe('01036f2d31de4d0003')
    })

    it('names the field and the byte when it cannot decode', () => {
      const bytes = Buffer.from('01036f2d31de4d0703', 'hex')
      expect(() => book().decodeDelta(new ByteReader(bytes))).toThrow(
        new GrenacheError('ERR_DECODE', 'order_book v1 delta: leaf.side: value 7 of 2 (at byte 8)'),
      )
    })

    it('refuses invalid deltas with ERR_INVALID_DELTA listing every issue', () => {
      expect(() =>
        book().parseDelta({ op: 'upsert', key: '', leaf: { side: 'mid', price: 0, size: 1.5, x: 1 } }),
      ).toThrow(
        'order_book v1: key: must be 1 to 64 characters long, got ""; leaf.price: must be at least 1, got 0; leaf.side: must be one of "bid", "ask", got "mid"; leaf.size: must be a safe integer, got 1.5',
      )
      expect(() => book().parseDelta({ op: 'merge' })).toThrow(
        'order_book v1: op: must be "upsert", "patch", "delete" or "clear"',
      )
      expect(() =>
        book().parseDelta({ op: 'patch', key: 'a', fields: { price: undefined, colour: 1 } }),
      ).toThrow(
        'order_book v1: fields.price: is required: a patch cannot remove it (send an upsert); fields.colour: is not a field of the leaf',
      )
    })

    it('keeps only the declared fields of a leaf it parses', () => {
      expect(book().parseLeaf({ side: 'ask', price: 1, size: 0, extra: true })).toStrictEqual({
        price: 1,
        side: 'ask',
        size: 0,
      })
    })

    it('explains an encode failure with what its parsers find', () => {
      expect(() => book().encodeLeaf({ side: 'bid', price: -1, size: 1 }, new ByteWriter(64))).toThrow(
        /^order_book v1 leaf: not a non-negative safe integer: -1 \(leaf\.price: must be at least 1, got -1\)$/,
      )
    })
  })
})
