import { describe, expect, it } from 'vitest'
import { Prng } from '../../../runtime/replication/prng.js'

function draws(prng: Prng, count: number): number[] {
  return Array.from({ length: count }, () => prng.uint32())
}

describe('Prng', () => {
  it('gives the same numbers for the same seed on every run', () => {
    expect(draws(new Prng(42), 4)).toEqual([3825871779, 1851418855, 1383259262, 890322987])
    expect(draws(new Prng(0), 2)).toEqual([548183886, 1097162541])
  })

  it('gives different numbers for different seeds', () => {
    expect(draws(new Prng(1), 8)).not.toEqual(draws(new Prng(2), 8))
  })

  it('uses only the low 32 bits of the seed', () => {
    expect(draws(new Prng(-1), 8)).toEqual(draws(new Prng(0xffffffff), 8))
    expect(draws(new Prng(2 ** 32 + 7), 8)).toEqual(draws(new Prng(7), 8))
  })

  it('draws next() in [0, 1) and int(n) from 0 to n - 1, spread evenly', () => {
    const prng = new Prng(7)
    const buckets = new Array<number>(10).fill(0)
    let outside = 0
    for (let i = 0; i < 100_000; i++) {
      const x = prng.next()
      if (!(x >= 0 && x < 1)) outside++
      const k = prng.int(10)
      buckets[k] = (buckets[k] ?? 0) + 1
    }
    expect(outside).toBe(0)
    expect(buckets.reduce((sum, count) => sum + count, 0)).toBe(100_000)
    for (const count of buckets) expect(Math.abs(count - 10_000)).toBeLessThan(600)
  })

  it('is never true for chance(0) and always true for chance(1)', () => {
    const prng = new Prng(3)
    let wrong = 0
    for (let i = 0; i < 1000; i++) if (prng.chance(0) || !prng.chance(1)) wrong++
    expect(wrong).toBe(0)
    let hits = 0
    for (let i = 0; i < 10_000; i++) if (prng.chance(0.25)) hits++
    expect(Math.abs(hits - 2500)).toBeLessThan(250)
  })

  it('rejects a seed that is not an integer with ERR_INVALID_OPTION naming the seed', () => {
    for (const seed of [1.5, Number.NaN, '1' as unknown as number]) {
      expect(() => new Prng(seed)).toThrow(expect.objectContaining({ code: 'ERR_INVALID_OPTION' }))
      expect(() => new Prng(seed)).toThrow(/options\.seed/)
    }
  })
})
