import { describe, expect, it } from 'vitest'
import { GoneAddresses } from '../../../runtime/peer/gone-addresses.js'

describe('GoneAddresses', () => {
  it('holds a refused address for 1 s, doubling with each refusal in a row up to the maximum', () => {
    let now = 0
    const gone = new GoneAddresses(4000, () => now)
    gone.refused('a:1')
    expect(gone.isGone('a:1')).toBe(true)
    now = 1001
    expect(gone.isGone('a:1')).toBe(false)
    gone.refused('a:1')
    now += 1999
    expect(gone.isGone('a:1')).toBe(true)
    now += 2
    gone.refused('a:1')
    gone.refused('a:1')
    now += 3999
    expect(gone.isGone('a:1')).toBe(true)
    now += 2
    expect(gone.isGone('a:1')).toBe(false)
  })

  it('lets an address in again as soon as it answers, and forgets old holds', () => {
    let now = 0
    const gone = new GoneAddresses(2000, () => now)
    gone.refused('a:1')
    gone.answered('a:1')
    expect(gone.isGone('a:1')).toBe(false)
    gone.refused('b:1')
    now = 10_000
    gone.refused('c:1')
    expect(gone.size).toBe(1)
    expect(gone.isGone('c:1')).toBe(true)
  })
})
