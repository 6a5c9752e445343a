import { describe, expect, it } from 'vitest'
import { LookupCache, type LookupCacheOptions } from '../../../runtime/link/lookup-cache.js'

/** A cache on a clock the test moves by hand. */
function setup(options: Partial<LookupCacheOptions> = {}) {
  let now = 5_000_000
  const cache = new LookupCache({
    maxAgeMs: 10_000,
    refreshMs: 1000,
    maxNames: 100,
    ...options,
    now: () => now,
  })
  return {
    cache,
    advance: (ms: number) => {
      now += ms
    },
  }
}

describe('LookupCache', () => {
  describe('get()', () => {
    it('answers undefined for a name never stored', () => {
      expect(setup().cache.get('svc')).toBeUndefined()
    })

    it('serves a stored answer as fresh until refreshMs', () => {
      const { cache, advance } = setup()
      cache.set('svc', ['127.0.0.1:1', '127.0.0.1:2'])
      expect(cache.get('svc')).toEqual({ addresses: ['127.0.0.1:1', '127.0.0.1:2'], stale: false })
      advance(999)
      expect(cache.get('svc')?.stale).toBe(false)
    })

    it('serves it as stale from refreshMs until maxAgeMs', () => {
      const { cache, advance } = setup()
      cache.set('svc', ['127.0.0.1:1'])
      advance(1000)
      expect(cache.get('svc')).toEqual({ addresses: ['127.0.0.1:1'], stale: true })
      advance(8999)
      expect(cache.get('svc')?.stale).toBe(true)
    })

    it('drops it from maxAgeMs on', () => {
      const { cache, advance } = setup()
      cache.set('svc', ['127.0.0.1:1'])
      advance(10_000)
      expect(cache.get('svc')).toBeUndefined()
      advance(-5000) // even were the clock to step back, the entry is gone
      expect(cache.get('svc')).toBeUndefined()
    })

    it('serves every answer as stale when refreshMs is 0', () => {
      const { cache } = setup({ refreshMs: 0 })
      cache.set('svc', ['127.0.0.1:1'])
      expect(cache.get('svc')?.stale).toBe(true)
    })

    it('caches nothing when maxAgeMs is 0', () => {
      const { cache } = setup({ maxAgeMs: 0, refreshMs: 0 })
      cache.set('svc', ['127.0.0.1:1'])
      expect(cache.get('svc')).toBeUndefined()
    })
  })

  describe('set()', () => {
    it('never stores an empty answer', () => {
      const { cache } = setup()
      cache.set('svc', [])
      expect(cache.get('svc')).toBeUndefined()
    })

    it('forgets the previous answer when the new one is empty', () => {
      const { cache } = setup()
      cache.set('svc', ['127.0.0.1:1'])
      cache.set('svc', [])
      expect(cache.get('svc')).toBeUndefined()
    })

    it('replaces the previous answer and restarts its age', () => {
      const { cache, advance } = setup()
      cache.set('svc', ['127.0.0.1:1'])
      advance(5000)
      cache.set('svc', ['127.0.0.1:2'])
      advance(5000)
      expect(cache.get('svc')).toEqual({ addresses: ['127.0.0.1:2'], stale: true })
    })

    it('keeps its own frozen copy of the addresses', () => {
      const { cache } = setup()
      const addresses = ['127.0.0.1:1']
      cache.set('svc', addresses)
      addresses.push('127.0.0.1:2')
      const served = cache.get('svc')?.addresses
      expect(served).toEqual(['127.0.0.1:1'])
      expect(Object.isFrozen(served)).toBe(true)
    })

    it('drops the least recently stored name beyond maxNames', () => {
      const { cache } = setup({ maxNames: 2 })
      cache.set('a', ['h:1'])
      cache.set('b', ['h:1'])
      cache.set('a', ['h:2']) // stored again: b is now the oldest
      cache.set('c', ['h:1'])
      expect(cache.get('b')).toBeUndefined()
      expect(cache.get('a')?.addresses).toEqual(['h:2'])
      expect(cache.get('c')?.addresses).toEqual(['h:1'])
    })

    it('does not evict anything for an empty answer', () => {
      const { cache } = setup({ maxNames: 1 })
      cache.set('a', ['h:1'])
      cache.set('b', [])
      expect(cache.get('a')?.addresses).toEqual(['h:1'])
    })
  })

  describe('delete() and clear()', () => {
    it('forget one name, or all of them', () => {
      const { cache } = setup()
      cache.set('a', ['h:1'])
      cache.set('b', ['h:1'])
      cache.delete('a')
      cache.delete('never stored')
      expect(cache.get('a')).toBeUndefined()
      expect(cache.get('b')).toBeDefined()
      cache.clear()
      expect(cache.get('b')).toBeUndefined()
    })
  })
})
