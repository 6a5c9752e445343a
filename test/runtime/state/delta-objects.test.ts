import { inspect } from 'node:util'
import { describe, expect, it } from 'vitest'
import { OrderBookCodec } from '../../../generated/index.js'
import {
  ByteReader,
  ByteWriter,
  deleteDelta,
  dynamicCodec,
  patchDelta,
  upsertDelta,
} from '../../../runtime/index.js'

const leaf = { side: 'bid', price: 10, size: 2 } as const

describe('delta objects', () => {
  it('are plain objects: prototype, keys in order, JSON, inspect and strict equality as literals', () => {
    const made = [upsertDelta('k', leaf), patchDelta('k', { size: 3 }), deleteDelta('k')]
    const literals = [
      { op: 'upsert', key: 'k', leaf },
      { op: 'patch', key: 'k', fields: { size: 3 } },
      { op: 'delete', key: 'k' },
    ]
    made.forEach((delta, i) => {
      const literal = literals[i] as object
      expect(Object.getPrototypeOf(delta)).toBe(Object.prototype)
      expect(delta.constructor).toBe(Object)
      expect(Object.keys(delta)).toEqual(Object.keys(literal))
      expect(JSON.stringify(delta)).toBe(JSON.stringify(literal))
      expect(inspect(delta)).toBe(inspect(literal))
      expect(structuredClone(delta)).toStrictEqual(literal)
      expect(delta).toStrictEqual(literal)
    })
  })

  it('are what the generated and the layout codecs parse and decode', () => {
    const deltas = [upsertDelta('k', leaf), patchDelta('k', { size: 3 }), deleteDelta('k')]
    const dynamic = dynamicCodec(OrderBookCodec.layout)
    for (const delta of deltas) {
      expect(Object.getPrototypeOf(OrderBookCodec.parseDelta({ ...delta }))).toBe(Object.prototype)
      const w = new ByteWriter(256)
      OrderBookCodec.encodeDelta(delta, w)
      for (const codec of [OrderBookCodec, dynamic]) {
        const decoded = codec.decodeDelta(new ByteReader(w.buf, 0, w.pos))
        expect(decoded).toStrictEqual(delta)
        expect(Object.getPrototypeOf(decoded)).toBe(Object.prototype)
      }
    }
  })
})
