import { describe, expect, it } from 'vitest'
import { OrderBookCodec } from '../../../generated/index.js'
import { GrenacheError } from '../../../runtime/errors.js'
import { settleIssues, takeIssues } from '../../../runtime/state/check.js'

describe('takeIssues / settleIssues', () => {
  it('hands the list of a passed check to the next one, and an emptied list after a failed one', () => {
    const first = takeIssues()
    settleIssues('s v1', first)
    const second = takeIssues()
    expect(second).toBe(first)
    second.push(['leaf.price', 'must be > 0'])
    expect(() => settleIssues('s v1', second)).toThrow(
      expect.objectContaining({ code: 'ERR_INVALID_DELTA', message: 's v1: leaf.price: must be > 0' }),
    )
    const third = takeIssues()
    expect(third).toBe(second)
    expect(third).toEqual([])
    settleIssues('s v1', third)
  })

  it('gives a check inside a check (a getter that parses) its own list', () => {
    let inner: unknown
    const leaf = {
      side: 'bid',
      get price() {
        try {
          OrderBookCodec.parseDelta({ op: 'upsert', key: '', leaf: { side: 'up', price: 1, size: 1 } })
        } catch (error) {
          inner = error
        }
        return 9950
      },
      size: 3,
    }
    expect(OrderBookCodec.parseDelta({ op: 'upsert', key: 'o-1', leaf })).toEqual({
      op: 'upsert',
      key: 'o-1',
      leaf: { side: 'bid', price: 9950, size: 3 },
    })
    expect(inner).toBeInstanceOf(GrenacheError)
    expect((inner as GrenacheError).message).toMatch(/key: .*leaf\.side/)

    const outer = {
      side: 'up',
      get price() {
        return OrderBookCodec.parseDelta({ op: 'delete', key: 'o-2' }) ? 5 : 0
      },
      size: 1,
    }
    expect(() => OrderBookCodec.parseDelta({ op: 'upsert', key: 'o-1', leaf: outer })).toThrow(
      expect.objectContaining({ message: expect.stringMatching(/^order_book v1: leaf\.side: [^;]*$/) }),
    )
  })
})
