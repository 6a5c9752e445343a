import fc from 'fast-check'
import { describe, expect, it } from 'vitest'
import { hashKey, KeyTable, type TableKey } from '../../../runtime/replication/key-table.js'

type Op =
  | { kind: 'put'; key: TableKey; value: number }
  | { kind: 'delete'; key: TableKey }
  | { kind: 'clear' }

// Few keys, so that puts, deletes and re-inserts of one key interleave; strings and integers mixed,
// large integers and -0 among them.
const keyArb: fc.Arbitrary<TableKey> = fc.oneof(
  fc.integer({ min: 0, max: 40 }).map((n) => `k${n}`),
  fc.integer({ min: -20, max: 20 }),
  fc.constantFrom(-0, 2 ** 40 + 3, -(2 ** 40) - 3, Number.MAX_SAFE_INTEGER, '', 'ü', '😀'),
)
const opArb: fc.Arbitrary<Op> = fc.oneof(
  {
    weight: 6,
    arbitrary: fc.record({ kind: fc.constant('put' as const), key: keyArb, value: fc.integer() }),
  },
  { weight: 3, arbitrary: fc.record({ kind: fc.constant('delete' as const), key: keyArb }) },
  { weight: 1, arbitrary: fc.constant({ kind: 'clear' as const }) },
)

/** Applies `op` to the table as the replica store does: find, then update in place or add. */
function apply(table: KeyTable<TableKey, number>, op: Op): void {
  if (op.kind === 'clear') {
    table.clear()
    return
  }
  const entry = table.find(op.key)
  if (op.kind === 'delete') {
    if (entry >= 0) table.deleteAt(entry)
    return
  }
  if (entry >= 0) table.setAt(entry, op.value, op.value | 0)
  else expect(table.add(op.key, op.value, op.value | 0)).toBe(true)
}

describe('KeyTable', () => {
  it('behaves as a Map under random puts, deletes and clears: size, get, tags and insertion order', () => {
    fc.assert(
      fc.property(fc.array(opArb, { maxLength: 400 }), fc.nat({ max: 64 }), (ops, expected) => {
        const table = new KeyTable<TableKey, number>(expected)
        const model = new Map<TableKey, number>()
        for (const op of ops) {
          apply(table, op)
          if (op.kind === 'clear') model.clear()
          else if (op.kind === 'delete') model.delete(op.key)
          else model.set(op.key, op.value)
          expect(table.size).toBe(model.size)
        }
        expect([...table]).toEqual([...model])
        for (const [key, value] of model) {
          const entry = table.find(key)
          expect(table.valueAt(entry)).toBe(value)
          expect(table.tagAt(entry)).toBe(value | 0)
        }
        for (const op of ops) if (op.kind !== 'clear') expect(table.has(op.key)).toBe(model.has(op.key))
      }),
      { numRuns: 300, seed: 12 },
    )
  })

  it('finds -0 and 0 as one key, as a Map does, and refuses to add a key twice', () => {
    const table = new KeyTable<TableKey, string>()
    expect(table.add(0, 'zero', 0)).toBe(true)
    expect(table.get(-0)).toBe('zero')
    expect(table.add(-0, 'again', 0)).toBe(false)
    expect(table.add('0', 'string', 0)).toBe(true)
    expect([table.size, table.get('0'), hashKey(0) === hashKey(-0)]).toEqual([2, 'string', true])
  })

  it('sized up front, fills its expected count and a quarter more without growing', () => {
    const table = new KeyTable<TableKey, number>(1000)
    const before = table.entries()
    for (let i = 0; i < 1250; i++) table.add(`o-${i}`, i, i)
    // An iterator opened before any growth still sees every entry added since.
    expect([...before].length).toBe(1250)
    table.add('one more', 0, 0)
    expect([table.size, table.get('o-1249'), table.get('one more')]).toEqual([1251, 1249, 0])
  })

  it('takes any expected count: NaN, negative, fractional and huge ones size it as 0 or as asked', () => {
    for (const expected of [Number.NaN, -5, 2.5, Number.POSITIVE_INFINITY, 0]) {
      const table = new KeyTable<TableKey, number>(expected)
      for (let i = 0; i < 100; i++) expect(table.add(i, i, i)).toBe(true)
      expect([table.size, table.get(99)]).toEqual([100, 99])
    }
  })

  it('keeps deleted keys out through many deletes and re-adds (backward shift, compaction)', () => {
    const table = new KeyTable<TableKey, number>()
    const model = new Map<TableKey, number>()
    let x = 7
    for (let i = 0; i < 20_000; i++) {
      x = (Math.imul(x, 1103515245) + 12345) | 0
      const key = (x >>> 8) % 3000
      const entry = table.find(key)
      if ((x & 3) === 0) {
        if (entry >= 0) table.deleteAt(entry)
        model.delete(key)
      } else {
        if (entry >= 0) table.setAt(entry, i, 0)
        else table.add(key, i, 0)
        model.set(key, i)
      }
    }
    expect(table.size).toBe(model.size)
    expect([...table.keys()]).toEqual([...model.keys()])
    expect([...table.values()]).toEqual([...model.values()])
    for (let key = 0; key < 3000; key++) expect(table.get(key)).toBe(model.get(key))
  })

  it('an iterator open across a compaction reads the entries as they were then', () => {
    const table = new KeyTable<TableKey, number>()
    for (let i = 0; i < 8; i++) table.add(i, i, 0)
    const iterator = table.keys()
    expect(iterator.next().value).toBe(0)
    for (let i = 0; i < 6; i++) table.deleteAt(table.find(i))
    table.add(100, 100, 0) // the arrays are full with 6 holes: a compaction
    expect([...iterator]).toEqual([6, 7])
    expect([...table.keys()]).toEqual([6, 7, 100])
    const seen: string[] = []
    table.forEach((value, key, map) => {
      seen.push(`${key}=${value}:${map === table}`)
    })
    expect(seen).toEqual(['6=6:true', '7=7:true', '100=100:true'])
    const open = table.values()
    table.clear()
    expect([[...open], table.size, [...table]]).toEqual([[6, 7, 100], 0, []])
  })

  describe('entries kept as bytes (addEncoded)', () => {
    /** Leaves are one byte, decoded as that byte's value plus 1000; keys are ASCII strings or integers. */
    const decoder = { leaf: (bytes: Buffer, start: number) => 1000 + (bytes[start] as number) }

    /** Adds `key` with leaf byte `leaf` as bytes: a length byte, a string key's characters, the leaf. */
    function addEncoded(
      table: KeyTable<TableKey, number>,
      key: TableKey,
      leaf: number,
      asChars = true,
    ): boolean {
      const text = typeof key === 'string' ? key : ''
      const bytes = Buffer.from([text.length, ...Buffer.from(text, 'latin1'), leaf])
      const at = table.addBytes(bytes, 0, bytes.length)
      const chars = typeof key === 'string' && asChars ? at + 1 : -1
      return table.addEncoded(key, chars, at + 1 + text.length, leaf)
    }

    it('finds, reads, updates and deletes them as it does entries added whole, in insertion order', () => {
      const table = new KeyTable<TableKey, number>(4, decoder)
      expect(addEncoded(table, 'o-1', 1)).toBe(true)
      expect(addEncoded(table, 7, 2)).toBe(true)
      expect(addEncoded(table, 'ab', 3, false)).toBe(true)
      expect(addEncoded(table, '', 4)).toBe(true)
      expect(table.add('whole', 5, 5)).toBe(true)
      // A key twice is refused whichever way each came: characters, string or integer.
      expect([
        addEncoded(table, 'o-1', 9),
        table.add('o-1', 9, 9),
        addEncoded(table, 7, 9),
        table.add('', 9, 9),
      ]).toEqual([false, false, false, false])
      expect([table.find('o-2'), table.find('o-'), table.find('o-10'), table.find(1)]).toEqual([
        -1, -1, -1, -1,
      ])
      expect(table.get('o-1')).toBe(1001)
      expect(table.tagAt(table.find('o-1'))).toBe(1)
      table.setAt(table.find(7), 42, 42)
      expect([...table]).toEqual([
        ['o-1', 1001],
        [7, 42],
        ['ab', 1003],
        ['', 1004],
        ['whole', 5],
      ])
      table.deleteAt(table.find('ab'))
      expect([table.has('ab'), table.size, [...table.keys()]]).toEqual([false, 4, ['o-1', 7, '', 'whole']])
      // Keys made strings by the iteration above are still found, and their leaves still decode.
      expect([table.get('o-1'), table.get(''), table.get(7)]).toEqual([1001, 1004, 42])
    })

    it('keeps them through compactions, and an open iterator decodes them as they were then', () => {
      const table = new KeyTable<TableKey, number>(0, decoder)
      for (let i = 0; i < 8; i++) addEncoded(table, `k${i}`, i)
      const iterator = table.entries()
      expect(iterator.next().value).toEqual(['k0', 1000])
      for (let i = 0; i < 6; i++) table.deleteAt(table.find(`k${i}`))
      addEncoded(table, 'k100', 100) // the arrays are full with 6 holes: a compaction
      expect([...iterator]).toEqual([
        ['k6', 1006],
        ['k7', 1007],
      ])
      expect([...table]).toEqual([
        ['k6', 1006],
        ['k7', 1007],
        ['k100', 1100],
      ])
      for (let i = 0; i < 40; i++) addEncoded(table, `n${i}`, i) // growth: copied with the entries
      expect([table.size, table.get('k7'), table.get('n39'), table.has('k5')]).toEqual([
        43,
        1007,
        1039,
        false,
      ])
      const open = table.entries()
      table.clear()
      expect([open.next().value, table.size, table.get('k7')]).toEqual([['k6', 1006], 0, undefined])
      expect(addEncoded(table, 'k7', 8)).toBe(true)
      expect([...table]).toEqual([['k7', 1008]])
    })

    it('refuses to read a leaf kept as bytes without a decoder', () => {
      const table = new KeyTable<TableKey, number>()
      addEncoded(table, 'x', 1)
      expect(() => table.get('x')).toThrow(/without a decoder/)
    })
  })

  it('spreads keys that differ in one character over the index (no long probe runs)', () => {
    const slots = 1 << 12
    const used = new Set<number>()
    for (let i = 0; i < slots / 2; i++) used.add(hashKey(`o-${i}`) & (slots - 1))
    // Random placement of 2048 keys in 4096 slots fills about 1 - e^-0.5 ≈ 39% of them.
    expect(used.size).toBeGreaterThan(slots * 0.35)
  })
})
