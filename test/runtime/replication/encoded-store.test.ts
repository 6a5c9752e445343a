/**
 * A replica's store filled from a snapshot's bytes (`fillEncoded`: each leaf decoded when first
 * read, an ASCII key kept as its characters) reads, changes and digests as a `LeafStore` filled
 * entry by entry, for every generated codec of the test states: integer keys up to 2^53, empty,
 * non-ASCII and length-limited strings, nested leaves.
 */
import fc from 'fast-check'
import { describe, expect, it } from 'vitest'
import { LeafStore, type SnapshotTarget } from '../../../runtime/replication/leaf-store.js'
import { ReplicaStore } from '../../../runtime/replication/replica-store.js'
import { fillSnapshot } from '../../../runtime/replication/snapshot-entries.js'
import { type AnyStateCodec, ByteReader, ByteWriter, type Snapshot } from '../../../runtime/state/index.js'
import {
  type AnyDelta,
  received,
  SUBJECT_NAMES,
  type Subject,
  subjectsForTests,
} from '../../helpers/state-subjects.js'

const SEED = 20261207

const subjects = subjectsForTests()

type Store = ReplicaStore<unknown, unknown, unknown> | LeafStore<unknown, unknown, unknown>

const scratch = (codec: AnyStateCodec) => new ByteWriter(codec.maxKeyBytes + codec.maxLeafBytes + 16)

/** Encodes `snapshot` as a publisher does and reads it into `target`; whether no key came twice. */
function fill(
  codec: AnyStateCodec,
  snapshot: Snapshot<unknown, unknown>,
  target: SnapshotTarget<unknown, unknown>,
) {
  const w = new ByteWriter(64, { grow: true })
  codec.encodeSnapshot(snapshot.seq, snapshot.entries, w)
  const r = new ByteReader(w.bytes())
  const read = fillSnapshot(codec, r, target)
  r.done()
  expect(read.seq).toBe(snapshot.seq)
  return read.fresh
}

function expectSame(replica: Store, reference: Store): void {
  expect([replica.size, replica.digest]).toEqual([reference.size, reference.digest])
  expect([...replica.leaves]).toStrictEqual([...reference.leaves])
  for (const [key, leaf] of reference.leaves) {
    expect(replica.get(key)).toStrictEqual(leaf)
    // A leaf decoded on read is kept: the same object each time, as a Map gives.
    expect(replica.get(key)).toBe(replica.get(key))
    expect(replica.has(key)).toBe(true)
  }
}

/** What `f` returns, or the code of what it throws. */
function attempt(f: () => unknown): { value: unknown } | { code: unknown } {
  try {
    return { value: f() }
  } catch (err) {
    return { code: (err as { code?: unknown }).code ?? err }
  }
}

/** A snapshot, deltas over its keys and a few others, and whether to iterate before the deltas. */
function scenario(s: Subject) {
  return (s.parts.snapshot.values as fc.Arbitrary<Snapshot<unknown, unknown>>).chain((snapshot) =>
    fc.tuple(
      fc.constant(snapshot),
      fc.array(
        snapshot.entries.length > 0
          ? fc.oneof(s.deltaOver(snapshot.entries.map(([key]) => key)), s.fewKeyDelta)
          : s.fewKeyDelta,
        { maxLength: 24 },
      ),
      fc.boolean(),
    ),
  )
}

describe('ReplicaStore.fillEncoded', () => {
  for (const name of SUBJECT_NAMES) {
    it(`${name}: reads and changes as a LeafStore filled entry by entry`, () => {
      const s = subjects[name]
      const codec = s.codec
      fc.assert(
        fc.property(scenario(s), ([snapshot, deltas, iterateFirst]) => {
          const replica = new ReplicaStore<unknown, unknown, unknown>(
            codec,
            scratch(codec),
            snapshot.entries.length,
          )
          const reference = new LeafStore<unknown, unknown, unknown>(codec, scratch(codec))
          expect(fill(codec, snapshot, replica)).toBe(true)
          expect(fill(codec, snapshot, reference)).toBe(true)
          // Iterating makes the keys kept as characters strings; the deltas then meet both kinds.
          if (iterateFirst) expectSame(replica, reference)
          for (const delta of deltas) {
            const got = received(s, delta) as AnyDelta | undefined
            if (!got) continue
            // A patch may make a leaf longer than the codec allows: both refuse it, changing nothing.
            const want = attempt(() => reference.apply(got))
            expect(attempt(() => replica.apply(got))).toStrictEqual(want)
            expect(replica.digest).toBe(reference.digest)
          }
          expectSame(replica, reference)
        }),
        { seed: SEED, numRuns: 150 },
      )
    })

    it(`${name}: refuses a key twice, whether the first came as bytes or decoded`, () => {
      const s = subjects[name]
      const codec = s.codec
      fc.assert(
        fc.property(s.parts.snapshot.values as fc.Arbitrary<Snapshot<unknown, unknown>>, (snapshot) => {
          const twice = new ReplicaStore<unknown, unknown, unknown>(codec, scratch(codec))
          expect(fill(codec, snapshot, twice)).toBe(true)
          expect(fill(codec, snapshot, twice)).toBe(snapshot.entries.length === 0)
          const decodedFirst = new ReplicaStore<unknown, unknown, unknown>(codec, scratch(codec))
          const w = new ByteWriter(codec.maxKeyBytes + codec.maxLeafBytes + 16)
          for (const [key, leaf] of snapshot.entries) {
            w.reset()
            codec.encodeKey(key, w)
            codec.encodeLeaf(leaf, w)
            decodedFirst.fill(
              codec.decodeKey(new ByteReader(w.bytes())),
              leaf,
              // The digest is not under test here; the key is.
              0,
            )
          }
          expect(fill(codec, snapshot, decodedFirst)).toBe(snapshot.entries.length === 0)
          expect(decodedFirst.size).toBe(snapshot.entries.length)
        }),
        { seed: SEED, numRuns: 100 },
      )
    })
  }

  it('throws ERR_DECODE at a broken entry and keeps the ones before it', () => {
    const codec = subjects.order_book.codec
    const w = new ByteWriter(256)
    codec.encodeSnapshot(
      5,
      [
        ['a', { side: 'bid', price: 10, size: 1 }],
        ['b', { side: 'ask', price: 11, size: 2 }],
      ],
      w,
    )
    const bytes = Buffer.from(w.bytes())
    // The second leaf's price (the byte after its key "b") becomes 0, below the schema's minimum of 1.
    bytes[bytes.indexOf(Buffer.from([1, 0x62])) + 2] = 0
    const store = new ReplicaStore<unknown, unknown, unknown>(codec, scratch(codec))
    expect(() => fillSnapshot(codec, new ByteReader(bytes), store)).toThrow(
      expect.objectContaining({ code: 'ERR_DECODE' }),
    )
    expect([...store.leaves]).toStrictEqual([['a', { side: 'bid', price: 10, size: 1 }]])
    // It holds the bytes of the entry it kept, not those of the rest of the part.
    expect(store.encodedBytes).toBe(1 + 1 + 3)
  })

  it('holds only the bytes its entries take: a part with bytes after its entries gives them back', () => {
    const codec = subjects.order_book.codec
    const w = new ByteWriter(4096)
    codec.encodeSnapshot(1, [['a', { side: 'bid', price: 10, size: 1 }]], w)
    const part = Buffer.concat([w.bytes(), Buffer.alloc(1000, 7)])
    const store = new ReplicaStore<unknown, unknown, unknown>(codec, scratch(codec))
    const r = new ByteReader(part)
    expect(fillSnapshot(codec, r, store).fresh).toBe(true)
    expect([r.remaining, store.encodedBytes, store.get('a')]).toEqual([
      1000,
      5,
      { side: 'bid', price: 10, size: 1 },
    ])
    const empty = new ByteWriter(16)
    codec.encodeSnapshot(2, [], empty)
    for (let i = 0; i < 100; i++)
      fillSnapshot(codec, new ByteReader(Buffer.concat([empty.bytes(), part])), store)
    expect(store.encodedBytes).toBe(5)
  })
})
