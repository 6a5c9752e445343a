import { readFileSync } from 'node:fs'
import fc from 'fast-check'
import { afterAll, beforeAll, expect } from 'vitest'
import { GrenacheError } from '../../runtime/errors.js'
import {
  type AnyStateCodec,
  ByteReader,
  ByteWriter,
  type Delta,
  type Snapshot,
} from '../../runtime/state/index.js'
import * as A from '../fixtures/states/kitchen-sink.arbitraries.js'
import { delta } from './arbitraries.js'
import { type SchemaProject, schemaProject } from './codegen.js'
import { hex } from './decode-fuzz.js'

/**
 * Generated codecs of the states of test/fixtures/states/kitchen-sink.schema.ts and of
 * schemas/order-book.schema.ts, each with arbitraries of valid values, for property tests.
 */

export type AnyDelta = Delta<unknown, unknown, unknown>

export const PART_NAMES = ['key', 'leaf', 'delta', 'snapshot'] as const
export type PartName = (typeof PART_NAMES)[number]

/** One thing a codec encodes and decodes: keys, leaves, deltas or snapshots. */
export interface Part {
  name: PartName
  /** Valid values. */
  values: fc.Arbitrary<unknown>
  /** Values a random run might miss, tried first. */
  examples: unknown[]
  /** zod's check (snapshots have none): the parsed value. */
  parse?: (value: unknown) => unknown
  /** The most bytes one value may take. */
  maxBytes: number
  encode(value: unknown, w: ByteWriter): void
  decode(r: ByteReader): unknown
}

/** A generated codec and what its state holds. */
export interface Subject {
  codec: AnyStateCodec
  parts: Record<PartName, Part>
  /** Deltas over three keys only, so that patches and deletes meet the leaves of upserts. */
  fewKeyDelta: fc.Arbitrary<AnyDelta>
  /** Deltas over the given keys (those of a snapshot, say). */
  deltaOver(keys: readonly unknown[]): fc.Arbitrary<AnyDelta>
  /** Whether a valid key or leaf may be past `maxKeyBytes` or `maxLeafBytes`. */
  limited: boolean
}

export const SUBJECT_NAMES = ['kitchen_sink', 'catalog', 'tally', 'order_book'] as const
export type SubjectName = (typeof SUBJECT_NAMES)[number]

interface Values {
  key: fc.Arbitrary<unknown>
  leaf: fc.Arbitrary<unknown>
  patch: fc.Arbitrary<unknown>
  /** Three keys, for `fewKeyDelta`. */
  keys: unknown[]
  examples?: Partial<Record<PartName, unknown[]>>
}

function subject(codec: AnyStateCodec, values: Values, limited: boolean): Subject {
  const s: Subject = {
    codec,
    parts: {} as Record<PartName, Part>,
    fewKeyDelta: delta(fc.constantFrom(...values.keys), values.leaf, values.patch),
    deltaOver: (keys) => delta(fc.constantFrom(...keys), values.leaf, values.patch),
    limited,
  }
  const examples = values.examples ?? {}
  s.parts = {
    key: {
      name: 'key',
      values: values.key,
      examples: examples.key ?? [],
      parse: codec.parseKey,
      maxBytes: codec.maxKeyBytes,
      encode: (key, w) => codec.encodeKey(key, w),
      decode: (r) => codec.decodeKey(r),
    },
    leaf: {
      name: 'leaf',
      values: values.leaf,
      examples: examples.leaf ?? [],
      parse: codec.parseLeaf,
      maxBytes: codec.maxLeafBytes,
      encode: (leaf, w) => codec.encodeLeaf(leaf, w),
      decode: (r) => codec.decodeLeaf(r),
    },
    delta: {
      name: 'delta',
      values: delta(values.key, values.leaf, values.patch),
      examples: examples.delta ?? [],
      parse: codec.parseDelta,
      maxBytes: codec.maxDeltaBytes,
      encode: (d, w) => codec.encodeDelta(d as AnyDelta, w),
      decode: (r) => codec.decodeDelta(r),
    },
    snapshot: {
      name: 'snapshot',
      values: snapshots(s, values),
      examples: examples.snapshot ?? [],
      maxBytes: Number.POSITIVE_INFINITY,
      encode: (value, w) => {
        const { seq, entries } = value as Snapshot<unknown, unknown>
        expect(codec.encodeSnapshot(seq, entries, w)).toBe(entries.length)
      },
      decode: (r) => codec.decodeSnapshot(r),
    },
  }
  return s
}

/** Snapshots of up to 6 entries with distinct keys, those past a limit left out. */
function snapshots(s: Subject, values: Values): fc.Arbitrary<Snapshot<unknown, unknown>> {
  const fits = ([key, leaf]: [unknown, unknown]) =>
    encoded(s, (w) => s.codec.encodeKey(key, w)) !== undefined &&
    encoded(s, (w) => s.codec.encodeLeaf(leaf, w)) !== undefined
  return fc.record(
    {
      seq: fc.oneof(fc.maxSafeNat(), fc.constant(0)),
      entries: fc
        .uniqueArray(fc.tuple(values.key, values.leaf), { selector: (e) => e[0], maxLength: 6 })
        .map((entries) => entries.filter(fits)),
    },
    { noNullPrototype: true },
  )
}

/** Generates the codecs into a throwaway project (remove it when done) and imports them. */
export async function loadSubjects(): Promise<{
  project: SchemaProject
  subjects: Record<SubjectName, Subject>
}> {
  const schema = (path: string, dsl: string) =>
    readFileSync(new URL(path, import.meta.url), 'utf8').replaceAll(`'${dsl}'`, `'@dsl'`)
  const project = schemaProject({
    'schemas/kitchen-sink.schema.ts': schema(
      '../fixtures/states/kitchen-sink.schema.ts',
      '../../../runtime/schema.js',
    ),
    'schemas/order-book.schema.ts': schema('../../schemas/order-book.schema.ts', '../runtime/schema.js'),
  })
  await project.generate(true)
  type Module = Record<string, AnyStateCodec | undefined>
  const sink = await project.import<Module>('generated/kitchen-sink.gen.ts')
  const book = await project.import<Module>('generated/order-book.gen.ts')
  const codec = (module: Module, name: string): AnyStateCodec => {
    const found = module[name]
    if (!found) throw new Error(`the generated module has no ${name}`)
    return found
  }
  const subjects: Record<SubjectName, Subject> = {
    kitchen_sink: subject(
      codec(sink, 'KitchenSinkCodec'),
      {
        key: A.sinkKey,
        leaf: A.sinkLeaf,
        patch: A.sinkPatch,
        keys: [-1, 0, 2 ** 40],
        examples: A.sinkExamples,
      },
      false,
    ),
    catalog: subject(
      codec(sink, 'CatalogV2Codec'),
      { key: A.catalogKey, leaf: A.catalogLeaf, patch: A.catalogPatch, keys: ['', 'a', '界😀'] },
      true,
    ),
    tally: subject(
      codec(sink, 'TallyCodec'),
      { key: A.tallyKey, leaf: A.tallyLeaf, patch: A.tallyPatch, keys: [0, 1, Number.MAX_SAFE_INTEGER] },
      false,
    ),
    order_book: subject(
      codec(book, 'OrderBookCodec'),
      { key: A.bookKey, leaf: A.bookLeaf, patch: A.bookPatch, keys: ['a', 'b', 'c'] },
      true,
    ),
  }
  return { project, subjects }
}

/**
 * The subjects, for a test file: generated before its tests (the object is filled then) and their
 * throwaway project removed after them.
 */
export function subjectsForTests(): Record<SubjectName, Subject> {
  const subjects = {} as Record<SubjectName, Subject>
  let project: SchemaProject | undefined
  beforeAll(async () => {
    const loaded = await loadSubjects()
    project = loaded.project
    Object.assign(subjects, loaded.subjects)
  }, 60_000)
  afterAll(() => project?.remove())
  return subjects
}

/**
 * Encodes after one byte already in a growing writer: the bytes written, or undefined when a
 * limit refused the value (then the writer is back where it was). A valid value may only be
 * refused for a limit, and only by a subject that has such values.
 */
export function encoded(s: Subject, encode: (w: ByteWriter) => void): Uint8Array | undefined {
  const w = new ByteWriter(16, { grow: true })
  w.u8(0xaa)
  try {
    encode(w)
  } catch (err) {
    expect(err, 'only a limit may refuse a valid value').toBeInstanceOf(GrenacheError)
    expect((err as GrenacheError).code).toBe('ERR_ENCODE')
    expect((err as Error).message).toMatch(/more than max(Key|Leaf)Bytes/)
    expect(s.limited, (err as Error).message).toBe(true)
    expect(w.pos).toBe(1)
    return undefined
  }
  return w.bytes().slice(1)
}

/**
 * Encodes `value`, decodes it back equal, reading every byte; the encoding is within the part's
 * limit and also fits a writer of exactly its size. False when a limit refused the value.
 */
export function roundTrip(s: Subject, part: Part, value: unknown): boolean {
  const bytes = encoded(s, (w) => part.encode(value, w))
  if (bytes === undefined) return false
  expect(bytes.length).toBeLessThanOrEqual(part.maxBytes)
  const r = new ByteReader(bytes)
  expect(part.decode(r)).toStrictEqual(value)
  expect(r.pos, 'the decoder reads every byte written').toBe(bytes.length)
  const exact = new ByteWriter(bytes.length)
  part.encode(value, exact)
  expect(hex(exact.bytes())).toBe(hex(bytes))
  return true
}

/** A delta as a replica receives it: encoded and decoded (undefined when past a limit). */
export function received(s: Subject, d: AnyDelta): AnyDelta | undefined {
  const bytes = encoded(s, (w) => s.codec.encodeDelta(d, w))
  return bytes && s.codec.decodeDelta(new ByteReader(bytes))
}
