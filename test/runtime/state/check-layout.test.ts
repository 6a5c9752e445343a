import { describe, expect, it } from 'vitest'
import { OrderBookCodec } from '../../../generated/order-book.gen.js'
import { checkLayout, dynamicCodec, type StateLayout } from '../../../runtime/state/index.js'

describe('checkLayout()', () => {
  const valid = (): StateLayout => structuredClone(OrderBookCodec.layout)

  it("accepts a generated codec's layout and returns it", () => {
    const layout = valid()
    expect(checkLayout(layout)).toBe(layout)
  })

  it.each<[string, (layout: Record<string, unknown>) => void, string]>([
    [
      'a missing name',
      (l) => delete l.name,
      'layout.name: must be a string of 1 to 256 characters, got undefined',
    ],
    ['a version of 0', (l) => (l.version = 0), 'layout.version: must be a positive integer, got 0'],
    [
      'a key limit past 1024',
      (l) => (l.maxKeyBytes = 2000),
      'layout.maxKeyBytes: must be an integer from 1 to 1024',
    ],
    [
      'a leaf that is not an object',
      (l) => (l.leaf = { type: 'string' }),
      'layout.leaf: must be an object type',
    ],
    [
      'an unknown type',
      (l) => (l.key = { type: 'decimal' }),
      'layout.key.type: is not a type of the state layout',
    ],
    [
      'a bound that is not a number',
      (l) => (l.key = { type: 'int', minimum: '1' }),
      'layout.key.minimum: must be a safe integer, got "1"',
    ],
    [
      'an enum without values',
      (l) => (l.key = { type: 'enum', values: [] }),
      'layout.key.values: must be an array of 1 to 65536 values',
    ],
    [
      'an array of items that take no bytes',
      (l) =>
        (l.leaf = {
          type: 'object',
          fields: [{ name: 'a', of: { type: 'array', of: { type: 'object', fields: [] } } }],
        }),
      'layout.leaf.a[]: is an item that encodes to nothing',
    ],
    [
      'a field twice',
      (l) =>
        (l.leaf = {
          type: 'object',
          fields: [
            { name: 'a', of: { type: 'boolean' } },
            { name: 'a', of: { type: 'date' } },
          ],
        }),
      'layout.leaf.a: is a field twice',
    ],
    [
      'a record keyed by numbers',
      (l) =>
        (l.leaf = {
          type: 'object',
          fields: [{ name: 'r', of: { type: 'record', key: { type: 'int' }, of: { type: 'boolean' } } }],
        }),
      'layout.leaf.r{key}: must be a string, enum or literal type',
    ],
    [
      'a nesting too deep',
      (l) => {
        let type: unknown = { type: 'boolean' }
        for (let i = 0; i < 100; i++) type = { type: 'array', of: type }
        l.leaf = { type: 'object', fields: [{ name: 'deep', of: type }] }
      },
      'nests deeper than 64 types',
    ],
  ])('refuses %s with ERR_INVALID_ARGUMENT naming the path', (_, change, message) => {
    const layout = valid() as unknown as Record<string, unknown>
    change(layout)
    expect(() => checkLayout(layout)).toThrow(expect.objectContaining({ code: 'ERR_INVALID_ARGUMENT' }))
    expect(() => dynamicCodec(layout as unknown as StateLayout)).toThrow(message)
  })
})
