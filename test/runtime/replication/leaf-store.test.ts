import { describe, expect, it } from 'vitest'
import type { OrderBookDelta, OrderBookLeaf } from '../../../generated/index.js'
import { fnv1a, LeafStore } from '../../../runtime/replication/leaf-store.js'
import { Prng } from '../../../runtime/replication/prng.js'
import type { StoreCut } from '../../../runtime/replication/store-cut.js'
import { ByteWriter } from '../../../runtime/state/byte-writer.js'
import { OrderBookCodec, orderBookWorkload } from '../../helpers/replication.js'

type Book = LeafStore<string, OrderBookLeaf, Partial<OrderBookLeaf>>

function store(): Book {
  return new LeafStore(
    OrderBookCodec,
    new ByteWriter(OrderBookCodec.maxKeyBytes + OrderBookCodec.maxLeafBytes + 16),
  )
}

/** The FNV-1a of a key and leaf's encoding: what a snapshot entry hands to `fill`. */
function hashOf(key: string, leaf: OrderBookLeaf): number {
  const w = new ByteWriter(256)
  OrderBookCodec.encodeKey(key, w)
  OrderBookCodec.encodeLeaf(leaf, w)
  return fnv1a(w.buf, w.pos)
}

/** A store of 300 leaves built by deltas, and the deltas that follow. */
function scenario(): { built: Book; next: () => OrderBookDelta } {
  const next = orderBookWorkload(11, 400)
  const built = store()
  for (let i = 0; i < 2000; i++) built.apply(next())
  return { built, next }
}

describe('LeafStore', () => {
  describe('fill()', () => {
    it('gives the digest of the same leaves set one by one', () => {
      const { built } = scenario()
      const filled = store()
      for (const [key, leaf] of built.leaves) expect(filled.fill(key, leaf, hashOf(key, leaf))).toBe(true)
      expect(filled.size).toBe(built.size)
      expect(filled.digest).toBe(built.digest)
    })

    it('keeps the digest right as later deltas replace, patch and delete filled leaves', () => {
      const { built, next } = scenario()
      const filled = store()
      for (const [key, leaf] of built.leaves) filled.fill(key, leaf, hashOf(key, leaf))
      for (let i = 0; i < 3000; i++) {
        const delta = next()
        built.apply(delta)
        filled.apply(delta)
        expect(filled.digest).toBe(built.digest)
      }
      expect(filled.size).toBe(built.size)
      expect([...filled.leaves]).toEqual([...built.leaves])
    })

    it('returns false for a key given twice (the count and digest then differ from the announced ones)', () => {
      const filled = store()
      const leaf: OrderBookLeaf = { side: 'bid', price: 10, size: 1 }
      expect(filled.fill('o-1', leaf, hashOf('o-1', leaf))).toBe(true)
      expect(filled.fill('o-1', leaf, hashOf('o-1', leaf))).toBe(false)
      expect(filled.size).toBe(1)
      const once = store()
      once.set('o-1', leaf)
      expect(filled.digest).not.toBe(once.digest)
    })
  })

  describe('apply()', () => {
    it('returns the leaf each delta replaced, and keeps the digest of what it holds', () => {
      const s = store()
      const a: OrderBookLeaf = { side: 'bid', price: 10, size: 1 }
      expect(s.apply({ op: 'upsert', key: 'k', leaf: a })).toBeUndefined()
      expect(s.apply({ op: 'patch', key: 'k', fields: { size: 5 } })).toBe(a)
      const patched = s.get('k')
      expect(patched).toEqual({ side: 'bid', price: 10, size: 5 })
      expect(a.size).toBe(1) // replaced, not mutated
      expect(s.apply({ op: 'patch', key: 'none', fields: { size: 5 } })).toBeUndefined()
      expect(s.has('none')).toBe(false)
      const fresh = store()
      fresh.set('k', { side: 'bid', price: 10, size: 5 })
      expect(s.digest).toBe(fresh.digest)
      expect(s.apply({ op: 'delete', key: 'k' })).toBe(patched)
      expect(s.digest).toBe(0)
      expect(s.size).toBe(0)
    })
  })

  describe('openCut()', () => {
    /** Reads the whole cut, `between` run before each read; every entry once. */
    function readAll(cut: StoreCut<string, OrderBookLeaf>, between: () => void): Map<string, OrderBookLeaf> {
      const got = new Map<string, OrderBookLeaf>()
      for (let entry = cut.next(); entry !== undefined; entry = cut.next()) {
        expect(got.has(entry[0]), `${entry[0]} read twice`).toBe(false)
        got.set(entry[0], entry[1])
        between()
      }
      expect(cut.done).toBe(true)
      return got
    }

    it('reads the leaves at the cut, whatever deltas (clears included) run between the reads', () => {
      for (const seed of [1, 2, 3, 4, 5, 6]) {
        const { built } = scenario()
        const next = orderBookWorkload(100 + seed, 500, true)
        const prng = new Prng(200 + seed)
        const before = new Map(built.leaves)
        const digest = built.digest
        const cut = built.openCut()
        expect([cut.size, cut.digest]).toEqual([before.size, digest])
        // 0 to 3 deltas between two reads, more while reading than the cut holds.
        const got = readAll(cut, () => {
          for (let i = prng.int(4); i > 0; i--) built.apply(next())
        })
        expect(got).toEqual(before)
        built.closeCut(cut)
      }
    })

    it('reads a cut of an empty store, and of a store cleared right after', () => {
      const empty = store()
      expect(readAll(empty.openCut(), () => {})).toEqual(new Map())
      const { built } = scenario()
      const before = new Map(built.leaves)
      const cut = built.openCut()
      built.apply({ op: 'clear' })
      built.apply({ op: 'upsert', key: 'new', leaf: { side: 'bid', price: 1, size: 1 } })
      expect(readAll(cut, () => {})).toEqual(before)
    })

    it('is told nothing more once closed or replaced by a new one', () => {
      const { built, next } = scenario()
      const first = built.openCut()
      const second = built.openCut()
      const before = new Map(built.leaves)
      built.closeCut(first)
      for (let i = 0; i < 500; i++) built.apply(next())
      expect(readAll(second, () => {})).toEqual(before)
    })
  })

  describe('leaves', () => {
    it('reads as a Map of the leaves: get, has, size, iteration, entries, keys, values, forEach', () => {
      const { built } = scenario()
      const view = built.leaves
      const copy = new Map(view)
      expect(copy.size).toBe(view.size)
      expect([...view.keys()]).toEqual([...copy.keys()])
      expect([...view.values()]).toEqual([...copy.values()])
      expect([...view.entries()]).toEqual([...copy.entries()])
      const seen: [string, OrderBookLeaf][] = []
      view.forEach((leaf, key, map) => {
        expect(map).toBe(view)
        seen.push([key, leaf])
      })
      expect(seen).toEqual([...copy])
      const [key, leaf] = [...copy][0] as [string, OrderBookLeaf]
      expect(view.get(key)).toBe(leaf)
      expect(view.has(key)).toBe(true)
      expect(view.get('none')).toBeUndefined()
      // Each pair is its own array, as a Map's are.
      const pairs = [...view]
      expect(pairs[0]).not.toBe(pairs[1])
    })
  })

  describe('swap()', () => {
    it('trades contents in O(1): the view stays the same object and shows the filled leaves', () => {
      const { built } = scenario()
      const live = store()
      live.set('old', { side: 'ask', price: 1, size: 1 })
      const view = live.leaves
      const filled = store()
      for (const [key, leaf] of built.leaves) filled.fill(key, leaf, hashOf(key, leaf))
      live.swap(filled)
      expect(live.leaves).toBe(view)
      expect(live.size).toBe(built.size)
      expect(live.digest).toBe(built.digest)
      expect(live.has('old')).toBe(false)
      expect(filled.has('old')).toBe(true)
    })
  })
})
