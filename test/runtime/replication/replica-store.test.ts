import { describe, expect, it } from 'vitest'
import type { OrderBookDelta, OrderBookLeaf } from '../../../generated/index.js'
import { entryHash, LeafStore } from '../../../runtime/replication/leaf-store.js'
import { ReplicaStore } from '../../../runtime/replication/replica-store.js'
import { ByteWriter } from '../../../runtime/state/byte-writer.js'
import { OrderBookCodec, orderBookWorkload } from '../../helpers/replication.js'

type Patch = Partial<OrderBookLeaf>
const scratch = () => new ByteWriter(OrderBookCodec.maxKeyBytes + OrderBookCodec.maxLeafBytes + 16)
const replicaStore = () => new ReplicaStore<string, OrderBookLeaf, Patch>(OrderBookCodec, scratch())
const leafStore = () => new LeafStore<string, OrderBookLeaf, Patch>(OrderBookCodec, scratch())

/** The FNV-1a of a key and leaf's encoding: what a snapshot entry hands to `fill`. */
const hashOf = (key: string, leaf: OrderBookLeaf) => entryHash(OrderBookCodec, scratch(), key, leaf)

/** The encoding of a delta's key and leaf (what a DATA packet carries after the op byte). */
function encoded(delta: OrderBookDelta): { bytes: Uint8Array; start: number; end: number } | undefined {
  if (delta.op !== 'upsert') return undefined
  const w = new ByteWriter(256)
  OrderBookCodec.encodeKey(delta.key, w)
  OrderBookCodec.encodeLeaf(delta.leaf, w)
  return { bytes: w.buf, start: 0, end: w.pos }
}

describe('ReplicaStore', () => {
  it('keeps the digest, leaves and previous leaves of a LeafStore under the same deltas', () => {
    for (const seed of [1, 2, 3]) {
      const next = orderBookWorkload(seed, 300, true)
      const replica = replicaStore()
      const reference = leafStore()
      for (let i = 0; i < 5000; i++) {
        const delta = next()
        const bytes = i % 2 === 0 ? encoded(delta) : undefined
        expect(replica.apply(delta, bytes)).toEqual(reference.apply(delta, bytes))
        if (i % 250 === 0) expect([replica.size, replica.digest]).toEqual([reference.size, reference.digest])
      }
      expect([replica.size, replica.digest]).toEqual([reference.size, reference.digest])
      expect(new Map(replica.leaves)).toEqual(new Map(reference.leaves))
    }
  })

  it('keeps the digest of a LeafStore when deltas follow a filled snapshot (each key encoded once)', () => {
    for (const seed of [4, 5]) {
      const next = orderBookWorkload(seed, 300, true)
      const reference = leafStore()
      for (let i = 0; i < 1000; i++) reference.apply(next())
      const replica = replicaStore()
      for (const [key, leaf] of reference.leaves) replica.fill(key, leaf, hashOf(key, leaf))
      for (let i = 0; i < 3000; i++) {
        const delta = next()
        const bytes = i % 3 === 0 ? encoded(delta) : undefined
        expect(replica.apply(delta, bytes)).toEqual(reference.apply(delta, bytes))
        expect(replica.digest).toBe(reference.digest)
      }
      expect(new Map(replica.leaves)).toEqual(new Map(reference.leaves))
    }
  })

  it('fills a snapshot to the digest of the leaves, refuses a key twice, and swaps in O(1)', () => {
    const next = orderBookWorkload(7, 200)
    const built = leafStore()
    for (let i = 0; i < 2000; i++) built.apply(next())
    const fresh = replicaStore()
    for (const [key, leaf] of built.leaves) expect(fresh.fill(key, leaf, hashOf(key, leaf))).toBe(true)
    expect([fresh.size, fresh.digest]).toEqual([built.size, built.digest])
    const [firstKey, firstLeaf] = [...built.leaves][0] as [string, OrderBookLeaf]
    expect(fresh.fill(firstKey, firstLeaf, 0)).toBe(false)

    const live = replicaStore()
    const view = live.leaves
    live.apply({ op: 'upsert', key: 'gone', leaf: { side: 'bid', price: 1, size: 1 } })
    const filled = replicaStore()
    filled.fill(firstKey, firstLeaf, 5)
    live.swap(filled)
    expect(live.leaves).toBe(view)
    expect([...view.keys()]).toEqual([firstKey])
    expect(view.get(firstKey)).toBe(firstLeaf)
    expect([filled.size, filled.has('gone'), live.digest]).toEqual([1, true, 5])
  })

  it('reads as a Map: get, has, size, entries, keys, values, forEach, iteration', () => {
    const store = replicaStore()
    const a = { side: 'bid', price: 10, size: 1 } as const
    const b = { side: 'ask', price: 12, size: 2 } as const
    store.apply({ op: 'upsert', key: 'a', leaf: a })
    store.apply({ op: 'upsert', key: 'b', leaf: b })
    const view = store.leaves
    expect([view.size, view.get('a'), view.has('b'), view.has('c')]).toEqual([2, a, true, false])
    expect([...view]).toEqual([
      ['a', a],
      ['b', b],
    ])
    expect([...view.keys(), ...view.values()]).toEqual(['a', 'b', a, b])
    const seen: string[] = []
    view.forEach((leaf, key, map) => {
      seen.push(`${key}:${leaf.price}:${map === view}`)
    })
    expect(seen).toEqual(['a:10:true', 'b:12:true'])
    store.apply({ op: 'clear' })
    expect([view.size, store.digest]).toEqual([0, 0])
  })

  it('sizes itself from a snapshot count, capped: a forged count of 2^32 - 1 leaves costs a few MB', () => {
    const before = process.memoryUsage().arrayBuffers
    const forged = new ReplicaStore<string, OrderBookLeaf, Patch>(OrderBookCodec, scratch(), 0xffffffff)
    // 2^20 entries and a quarter more: two int32 columns and an index of 2^22 slots, about 26 MB.
    expect(process.memoryUsage().arrayBuffers - before).toBeLessThan(32 * 1024 * 1024)
    const leaf = { side: 'bid', price: 1, size: 1 } as const
    expect(forged.fill('a', leaf, 3)).toBe(true)
    expect([forged.size, forged.get('a'), forged.digest]).toEqual([1, leaf, 3])
    // `reserve` (the stream's count) sizes an empty store only, and takes a count of any shape.
    forged.reserve(Number.NaN)
    expect(forged.get('a')).toBe(leaf)
    const stream = replicaStore()
    stream.reserve(Number.NaN)
    stream.reserve(-1)
    expect(stream.fill('b', leaf, 4)).toBe(true)
    expect([stream.size, stream.digest]).toEqual([1, 4])
  })
})
