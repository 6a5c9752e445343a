import { afterEach, describe, expect, it, vi } from 'vitest'
import { PeerTable, type PeerTableOptions } from '../../../runtime/grape/peer-table.js'

const KEY = Buffer.from('rpc_test').toString('hex')
const OTHER = Buffer.from('rpc_other').toString('hex')

/** A table on a clock the test moves by hand. */
function setup(options: Partial<PeerTableOptions> = {}) {
  let now = 1_000_000
  const table = new PeerTable({ maxAgeMs: 60_000, ...options, now: () => now })
  return {
    table,
    advance: (ms: number) => {
      now += ms
    },
  }
}

const sorted = (items: string[]): string[] => [...items].sort()

afterEach(() => {
  vi.restoreAllMocks()
})

describe('PeerTable', () => {
  describe('add()', () => {
    it('is true for a peer that was not live, false for a live one seen again', () => {
      const { table } = setup()
      expect(table.add(KEY, '127.0.0.1:1')).toBe(true)
      expect(table.add(KEY, '127.0.0.1:1')).toBe(false)
      expect(table.add(KEY, '127.0.0.1:2')).toBe(true)
      expect(table.add(OTHER, '127.0.0.1:1')).toBe(true)
    })

    it('is true again for a peer whose sighting expired', () => {
      const { table, advance } = setup()
      table.add(KEY, '127.0.0.1:1')
      advance(60_000)
      expect(table.add(KEY, '127.0.0.1:1')).toBe(true)
    })

    it('extends a peer’s life with each sighting', () => {
      const { table, advance } = setup()
      table.add(KEY, '127.0.0.1:1')
      advance(50_000)
      table.add(KEY, '127.0.0.1:1')
      advance(50_000)
      expect(table.get(KEY)).toEqual(['127.0.0.1:1'])
      advance(10_000)
      expect(table.get(KEY)).toEqual([])
    })

    it('drops the oldest sighting beyond maxPeersPerName', () => {
      const { table, advance } = setup({ maxPeersPerName: 3 })
      for (const port of [1, 2, 3]) {
        table.add(KEY, `h:${port}`)
        advance(1)
      }
      table.add(KEY, 'h:1') // seen again: now the newest
      table.add(KEY, 'h:4')
      expect(sorted(table.get(KEY))).toEqual(['h:1', 'h:3', 'h:4'])
    })

    it('drops the least recently touched name beyond maxNames', () => {
      const { table } = setup({ maxNames: 2 })
      table.add('a', 'h:1')
      table.add('b', 'h:1')
      table.add('a', 'h:2') // touches a: b is now the oldest
      table.add('c', 'h:1')
      expect(table.get('b')).toEqual([])
      expect(sorted(table.get('a'))).toEqual(['h:1', 'h:2'])
      expect(table.get('c')).toEqual(['h:1'])
    })

    it('counts markRefreshed() as a touch for maxNames', () => {
      const { table } = setup({ maxNames: 2 })
      table.add('a', 'h:1')
      table.add('b', 'h:1')
      table.markRefreshed('a')
      table.add('c', 'h:1')
      expect(table.hasLive('a')).toBe(true)
      expect(table.hasLive('b')).toBe(false)
    })
  })

  describe('get()', () => {
    it('answers [] for a name never seen', () => {
      expect(setup().table.get(KEY)).toEqual([])
    })

    it('returns every live peer of the name, and only of that name', () => {
      const { table } = setup()
      table.add(KEY, '127.0.0.1:1')
      table.add(KEY, '127.0.0.1:2')
      table.add(OTHER, '127.0.0.1:3')
      expect(sorted(table.get(KEY))).toEqual(['127.0.0.1:1', '127.0.0.1:2'])
      expect(table.get(OTHER)).toEqual(['127.0.0.1:3'])
    })

    it('drops peers whose sighting expired', () => {
      const { table, advance } = setup()
      table.add(KEY, '127.0.0.1:1')
      advance(30_000)
      table.add(KEY, '127.0.0.1:2')
      advance(29_999)
      expect(sorted(table.get(KEY))).toEqual(['127.0.0.1:1', '127.0.0.1:2'])
      advance(1)
      expect(table.get(KEY)).toEqual(['127.0.0.1:2'])
      advance(30_000)
      expect(table.get(KEY)).toEqual([])
    })

    it('returns at most 100 peers by default, and at most `limit` when given', () => {
      const { table } = setup()
      for (let port = 1; port <= 150; port++) table.add(KEY, `127.0.0.1:${port}`)
      const answer = table.get(KEY)
      expect(answer).toHaveLength(100)
      expect(new Set(answer).size).toBe(100)
      expect(table.get(KEY, 5)).toHaveLength(5)
      expect(table.get(KEY, 1000)).toHaveLength(150)
    })

    it('shuffles the answer', () => {
      const { table } = setup()
      const peers = ['h:1', 'h:2', 'h:3', 'h:4']
      for (const peer of peers) table.add(KEY, peer)
      const random = vi.spyOn(Math, 'random')
      random.mockReturnValue(0.999999)
      expect(table.get(KEY)).toEqual(peers) // every swap is with itself
      random.mockReturnValue(0)
      const shuffled = table.get(KEY)
      expect(shuffled).not.toEqual(peers)
      expect(sorted(shuffled)).toEqual(peers)
      expect(random).toHaveBeenCalled()
    })
  })

  describe('hasLive()', () => {
    it('is true while the name has a live peer', () => {
      const { table, advance } = setup()
      expect(table.hasLive(KEY)).toBe(false)
      table.add(KEY, '127.0.0.1:1')
      expect(table.hasLive(KEY)).toBe(true)
      advance(60_000)
      expect(table.hasLive(KEY)).toBe(false)
    })

    it('is false for a name only refreshed, with no peer', () => {
      const { table } = setup()
      table.markRefreshed(KEY)
      expect(table.hasLive(KEY)).toBe(false)
    })
  })

  describe('ageOf() and markRefreshed()', () => {
    it('is Infinity for a name never refreshed, even one with peers', () => {
      const { table } = setup()
      expect(table.ageOf(KEY)).toBe(Number.POSITIVE_INFINITY)
      table.add(KEY, '127.0.0.1:1')
      expect(table.ageOf(KEY)).toBe(Number.POSITIVE_INFINITY)
    })

    it('counts the time since the last refresh', () => {
      const { table, advance } = setup()
      table.markRefreshed(KEY)
      expect(table.ageOf(KEY)).toBe(0)
      advance(1234)
      expect(table.ageOf(KEY)).toBe(1234)
      table.markRefreshed(KEY)
      expect(table.ageOf(KEY)).toBe(0)
      expect(table.ageOf(OTHER)).toBe(Number.POSITIVE_INFINITY)
    })
  })

  describe('sinceFullLookup()', () => {
    it('counts from when a name was first seen until a full lookup; a revalidation does not reset it', () => {
      const { table, advance } = setup()
      expect(table.sinceFullLookup(KEY)).toBe(Number.POSITIVE_INFINITY)
      table.add(KEY, '127.0.0.1:1')
      advance(1000)
      expect(table.sinceFullLookup(KEY)).toBe(1000)
      table.markRefreshed(KEY, false)
      expect(table.ageOf(KEY)).toBe(0)
      expect(table.sinceFullLookup(KEY)).toBe(1000)
      table.markRefreshed(KEY)
      expect(table.sinceFullLookup(KEY)).toBe(0)
    })
  })

  describe('markStored()', () => {
    it('counts a stored announce as a refresh of a name never refreshed', () => {
      const { table, advance } = setup()
      table.add(KEY, '127.0.0.1:1')
      table.markStored(KEY)
      expect(table.ageOf(KEY)).toBe(0)
      advance(500)
      expect(table.ageOf(KEY)).toBe(500)
    })

    it('leaves the age of a name refreshed before, and a name never seen', () => {
      const { table, advance } = setup()
      table.markRefreshed(KEY)
      table.add(KEY, '127.0.0.1:1')
      advance(2000)
      table.markStored(KEY)
      expect(table.ageOf(KEY)).toBe(2000)
      table.markStored(OTHER)
      expect(table.ageOf(OTHER)).toBe(Number.POSITIVE_INFINITY)
    })
  })

  describe('markStale() and isStale()', () => {
    it('is stale from markStale() until the next markRefreshed()', () => {
      const { table } = setup()
      table.add(KEY, '127.0.0.1:1')
      expect(table.isStale(KEY)).toBe(false)
      table.markStale(KEY)
      expect(table.isStale(KEY)).toBe(true)
      expect(table.isStale(OTHER)).toBe(false)
      table.markRefreshed(KEY)
      expect(table.isStale(KEY)).toBe(false)
    })

    it('does not create a name it has never seen', () => {
      const { table } = setup()
      table.markStale(KEY)
      expect(table.isStale(KEY)).toBe(false)
      expect(table.sweep()).toBe(0)
    })
  })

  describe('sweep()', () => {
    it('drops expired peers and the names left with none, and counts the rest', () => {
      const { table, advance } = setup()
      table.add('a', 'h:1')
      table.add('b', 'h:1')
      advance(30_000)
      table.add('b', 'h:2')
      advance(30_000)
      expect(table.sweep()).toBe(1)
      expect(table.get('b')).toEqual(['h:2'])
      expect(table.get('a')).toEqual([])
    })

    it('keeps a name without peers while its last refresh is younger than maxAgeMs', () => {
      const { table, advance } = setup()
      table.markRefreshed(KEY)
      advance(60_000)
      expect(table.sweep()).toBe(1)
      expect(table.ageOf(KEY)).toBe(60_000)
      advance(1)
      expect(table.sweep()).toBe(0)
      expect(table.ageOf(KEY)).toBe(Number.POSITIVE_INFINITY)
    })
  })

  describe('clear()', () => {
    it('forgets every name', () => {
      const { table } = setup()
      table.add(KEY, 'h:1')
      table.markRefreshed(OTHER)
      table.clear()
      expect(table.get(KEY)).toEqual([])
      expect(table.ageOf(OTHER)).toBe(Number.POSITIVE_INFINITY)
      expect(table.sweep()).toBe(0)
    })
  })
})
