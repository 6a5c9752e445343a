import { afterAll, describe, expect, it } from 'vitest'
import { killExamples, runExample } from '../helpers/run-example.js'

describe('examples/order-book/', () => {
  afterAll(killExamples)

  it('publisher-and-subscriber.ts: a price-level book replicated over multicast, found through a Grape, exits 0', async () => {
    const run = await runExample('order-book/publisher-and-subscriber.ts')
    expect(run.stderr).toBe('')
    expect(run.code).toBe(0)
    const lines = run.stdout.trim().split('\n')
    expect(lines[0]).toMatch(
      /^publisher: \d+ levels after 1000 changes, feed order_book@1\/feed through Grape A$/,
    )
    expect(lines[1]).toBe('subscriber: joined at seq past 1000 with the whole book')
    expect(lines[2]).toBe(
      "subscriber: followed every change after it joined, now at the publisher's seq: true",
    )
    const subscriber = lines[3]?.replace('subscriber: ', '')
    expect(subscriber).toMatch(/^best bid \d+ @ \d+, best ask \d+ x \d+$/)
    expect(lines[4]).toBe(`publisher:  ${subscriber}`)
    expect(lines[5]).toBe("the replica equals the publisher's book (digest and levels)")
  })

  it('codec.ts: validates, encodes, decodes and applies order_book deltas, exits 0', async () => {
    const run = await runExample('order-book/codec.ts')
    expect(run.stderr).toBe('')
    expect(run.code).toBe(0)
    expect(run.stdout.trim().split('\n')).toEqual([
      'upsert o-1: 9 bytes (JSON 71)',
      'upsert o-2: 9 bytes (JSON 72)',
      'patch o-1: 7 bytes (JSON 46)',
      'delete o-2: 5 bytes (JSON 27)',
      'book: {"o-1":{"price":9950,"side":"bid","size":5}}',
      'snapshot at seq 4: 1 leaf, 13 bytes',
      'invalid delta: ERR_INVALID_DELTA: order_book v1: key: must be 1 to 64 characters long; leaf.side: expected one of "bid", "ask"; leaf.price: must be > 0',
      'corrupt bytes: ERR_DECODE: order_book v1 delta: leaf.side: value 7 of 2 (at byte 8)',
    ])
  })
})
