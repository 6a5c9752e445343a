import fc from 'fast-check'
import { describe, expect, it } from 'vitest'
import type { SeqRange } from '../../../runtime/replication/packet.js'
import { SeqWindow } from '../../../runtime/replication/seq-window.js'
import { Sequencer } from '../../../runtime/replication/sequencer.js'
import { replicaStats } from '../../../runtime/replication/stats.js'

describe('SeqWindow', () => {
  it('holds what a Map would, whatever the order of sets and deletes', () => {
    const op = fc.oneof(
      fc.record({ kind: fc.constant('set' as const), seq: fc.integer({ min: 1_000, max: 1_300 }) }),
      fc.record({ kind: fc.constant('delete' as const), seq: fc.integer({ min: 1_000, max: 1_300 }) }),
      fc.record({ kind: fc.constant('below' as const), seq: fc.integer({ min: 990, max: 1_310 }) }),
    )
    fc.assert(
      fc.property(fc.array(op, { maxLength: 400 }), (ops) => {
        const window = new SeqWindow<string>(1 << 20)
        const model = new Map<number, string>()
        for (const { kind, seq } of ops) {
          if (kind === 'set') {
            if (model.has(seq)) continue
            expect(window.set(seq, `d${seq}`)).toBe(true)
            model.set(seq, `d${seq}`)
          } else if (kind === 'delete') {
            window.delete(seq)
            model.delete(seq)
          } else {
            window.deleteBelow(seq)
            for (const held of [...model.keys()]) if (held < seq) model.delete(held)
          }
          expect(window.size).toBe(model.size)
        }
        for (let seq = 990; seq <= 1_310; seq++) {
          expect(window.has(seq)).toBe(model.has(seq))
          expect(window.get(seq)).toBe(model.get(seq))
        }
      }),
      { seed: 12, numRuns: 300 },
    )
  })

  it('refuses a seq that would widen the span past its bound, and keeps what it held', () => {
    const window = new SeqWindow<number>(100)
    expect(window.set(5_000, 1)).toBe(true)
    expect(window.set(5_099, 2)).toBe(true)
    expect(window.set(5_100, 3)).toBe(false)
    expect(window.set(4_999, 4)).toBe(false)
    expect(window.size).toBe(2)
    expect(window.get(5_099)).toBe(2)
    window.delete(5_000)
    expect(window.set(5_100, 3)).toBe(true)
    expect([window.get(5_099), window.get(5_100), window.has(5_000)]).toEqual([2, 3, false])
  })

  it('works across 2^32 (seqs are not truncated to 32 bits)', () => {
    const window = new SeqWindow<string>(1 << 16)
    const base = 2 ** 32 - 3
    for (let seq = base; seq < base + 6; seq++) window.set(seq, String(seq))
    for (let seq = base; seq < base + 6; seq++) expect(window.get(seq)).toBe(String(seq))
    expect(window.has(base - 2 ** 32 + 64)).toBe(false)
  })
})

describe('Sequencer NACK timing', () => {
  function sequencer(nackDelayMs: number, nackRetryMs: number) {
    const nacks: { at: number; ranges: SeqRange[] }[] = []
    const applied: number[] = []
    const s = new Sequencer<string>(
      {
        apply: (seq) => applied.push(seq),
        nack: (ranges) => nacks.push({ at: performance.now(), ranges }),
        giveUp: (reason) => {
          throw new Error(`gave up: ${reason}`)
        },
      },
      { maxBufferedDeltas: 1_000, nackDelayMs, nackRetryMs, nackAttempts: 100 },
      replicaStats(),
    )
    return { s, nacks, applied }
  }

  /** Busy-waits `ms` (no event-loop turn: no timer can fire meanwhile). */
  function spin(ms: number): void {
    const until = performance.now() + ms
    while (performance.now() < until) {}
  }

  it('a packet past a hole’s due time sends its NACK then, without waiting for a timer', () => {
    const { s, nacks } = sequencer(3, 50)
    s.begin(0)
    s.offer(1, 'a')
    s.saw(3)
    s.offer(3, 'c')
    s.settle()
    expect(nacks).toHaveLength(0)
    spin(3.5)
    s.saw(4)
    s.offer(4, 'd')
    s.settle()
    expect(nacks).toHaveLength(1)
    expect(nacks[0]?.ranges).toEqual([{ from: 2, count: 1 }])
  })

  it('a hole still open at its retry time is asked again by the next packet', () => {
    const { s, nacks, applied } = sequencer(0, 4)
    s.begin(0)
    s.offer(1, 'a')
    s.saw(3)
    s.offer(3, 'c')
    s.settle()
    expect(nacks).toHaveLength(1)
    s.saw(4)
    s.offer(4, 'd')
    s.settle()
    expect(nacks).toHaveLength(1)
    spin(4.5)
    s.saw(5)
    s.offer(5, 'e')
    s.settle()
    expect(nacks.map((n) => n.ranges)).toEqual([[{ from: 2, count: 1 }], [{ from: 2, count: 1 }]])
    s.offer(2, 'b')
    s.settle()
    expect(applied).toEqual([1, 2, 3, 4, 5])
    s.close()
  })

  it('without packets the timer still sends the NACK', async () => {
    const { s, nacks } = sequencer(2, 1_000)
    s.begin(0)
    s.offer(1, 'a')
    s.saw(3)
    s.offer(3, 'c')
    s.settle()
    const deadline = performance.now() + 2_000
    while (nacks.length === 0 && performance.now() < deadline) await new Promise((r) => setTimeout(r, 1))
    expect(nacks).toHaveLength(1)
    s.close()
  })
})

describe('Sequencer attempts', () => {
  function sequencer(nackAttempts: number) {
    const nacks: SeqRange[][] = []
    const gaveUp: string[] = []
    const s = new Sequencer<string>(
      {
        apply: () => undefined,
        nack: (ranges) => nacks.push(ranges),
        giveUp: (reason) => gaveUp.push(reason),
      },
      { maxBufferedDeltas: 1_000, nackDelayMs: 0, nackRetryMs: 1, nackAttempts },
      replicaStats(),
    )
    s.begin(0)
    s.offer(1, 'a')
    s.saw(21)
    s.offer(21, 'u')
    s.settle()
    return { s, nacks, gaveUp }
  }

  /** Waits until `nacks` has `n` entries (the retry timer's; at most 32 ms apart). */
  async function nacked(nacks: unknown[], n: number): Promise<void> {
    const deadline = performance.now() + 5_000
    while (nacks.length < n && performance.now() < deadline) await new Promise((r) => setTimeout(r, 1))
    expect(nacks.length).toBeGreaterThanOrEqual(n)
  }

  it('gives up after nackAttempts asks that brought nothing', async () => {
    const { s, nacks, gaveUp } = sequencer(3)
    await nacked(nacks, 3)
    const deadline = performance.now() + 5_000
    while (gaveUp.length === 0 && performance.now() < deadline) await new Promise((r) => setTimeout(r, 1))
    expect(gaveUp).toEqual(['nack-attempts'])
    expect(nacks).toHaveLength(3)
    s.close()
  })

  it('counts the attempts again when part of the hole came (an answer capped by the publisher)', async () => {
    const { s, nacks, gaveUp } = sequencer(3)
    // Seqs 2..20 are missing; each answer brings the oldest two, as a capped publisher would.
    for (let next = 2; next <= 20; next += 2) {
      await nacked(nacks, nacks.length + 1)
      expect(nacks.at(-1)?.[0]?.from).toBe(next)
      s.offer(next, 'x')
      if (next + 1 <= 20) s.offer(next + 1, 'y')
      s.settle()
    }
    expect(gaveUp).toEqual([])
    expect(nacks.length).toBeGreaterThan(3)
    s.close()
  })
})
