import fc from 'fast-check'
import { describe, expect, it } from 'vitest'
import { RetransmitRing } from '../../../runtime/replication/ring.js'

/** A datagram's bytes, told apart by its first seq. */
function bytesOf(first: number, length: number): Buffer {
  const bytes = Buffer.alloc(length)
  for (let i = 0; i < length; i++) bytes[i] = (first * 31 + i * 7) & 0xff
  return bytes
}

interface Sent {
  first: number
  count: number
  bytes: Buffer
}

describe('RetransmitRing', () => {
  it('holds the newest datagrams, byte for byte, and answers for the seqs they cover', () => {
    fc.assert(
      fc.property(
        fc.integer({ min: 64, max: 4096 }),
        fc.array(
          fc.record({ count: fc.integer({ min: 1, max: 20 }), length: fc.integer({ min: 1, max: 700 }) }),
          {
            minLength: 1,
            maxLength: 300,
          },
        ),
        (maxBytes, datagrams) => {
          const ring = new RetransmitRing(maxBytes)
          const sent: Sent[] = []
          let next = 1
          for (const { count, length } of datagrams) {
            const bytes = bytesOf(next, length)
            ring.push(bytes, next, count)
            sent.push({ first: next, count, bytes })
            next += count
            expect(ring.bytes).toBeLessThanOrEqual(maxBytes)

            // What it holds is a run of the newest datagrams, each as it was pushed.
            const held = sent.filter((s) => s.first >= ring.oldest)
            expect(held.reduce((sum, s) => sum + s.bytes.length, 0)).toBe(ring.bytes)
            if (length <= maxBytes) {
              expect(held.at(-1)?.first).toBe(next - count)
              // At least the datagrams of the last half of the ring fit; older ones may be gone.
              let newest = 0
              for (
                let i = sent.length - 1;
                i >= 0 && newest + (sent[i] as Sent).bytes.length <= maxBytes / 2;
                i--
              ) {
                newest += (sent[i] as Sent).bytes.length
                expect((sent[i] as Sent).first).toBeGreaterThanOrEqual(ring.oldest)
              }
            } else {
              expect(held).toEqual([])
            }
            for (const s of held) {
              const ids = ring.find(s.first, s.count) as number[]
              expect(ids).toHaveLength(1)
              expect(ring.datagram(ids[0] as number).equals(s.bytes)).toBe(true)
            }
            if (held.length > 0) {
              const from = (held[0] as Sent).first
              const ids = ring.find(from, next - from) as number[]
              expect(
                ids.map((id) => ring.datagram(id).equals((held[ids.indexOf(id)] as Sent).bytes)),
              ).not.toContain(false)
              expect(ring.find(from - 1, 2)).toBeUndefined()
            }
          }
        },
      ),
      { seed: 12, numRuns: 150 },
    )
  })

  it('answers for a seq inside a datagram, and for fragments that share a seq', () => {
    const ring = new RetransmitRing(1 << 16)
    ring.push(bytesOf(1, 100), 1, 10)
    ring.push(bytesOf(11, 100), 11, 1)
    ring.push(bytesOf(12, 100), 11, 1)
    ring.push(bytesOf(13, 100), 12, 5)
    expect(ring.find(5, 1)?.map((id) => ring.datagram(id).equals(bytesOf(1, 100)))).toEqual([true])
    expect(ring.find(11, 1)?.length).toBe(2)
    expect(ring.find(9, 4)?.length).toBe(4)
    expect(ring.find(16, 2)).toBeUndefined()
    expect(ring.find(1, 0)).toBeUndefined()
  })

  it('holds nothing at 0 bytes, and nothing older than a datagram too large for it', () => {
    const none = new RetransmitRing(0)
    none.push(bytesOf(1, 10), 1, 1)
    expect(none.oldest).toBe(Number.POSITIVE_INFINITY)
    expect(none.find(1, 1)).toBeUndefined()

    const small = new RetransmitRing(300)
    small.push(bytesOf(1, 100), 1, 1)
    small.push(bytesOf(2, 400), 2, 1)
    expect(small.oldest).toBe(Number.POSITIVE_INFINITY)
    small.push(bytesOf(3, 100), 3, 1)
    expect(small.oldest).toBe(3)
    expect(small.find(1, 1)).toBeUndefined()
  })

  it('grows its index past 256 datagrams held, and clear() forgets them', () => {
    const ring = new RetransmitRing(1 << 20)
    for (let seq = 1; seq <= 5000; seq++) ring.push(bytesOf(seq, 8), seq, 1)
    expect(ring.oldest).toBe(1)
    expect(ring.find(1, 5000)?.length).toBe(5000)
    expect(ring.datagram(ring.find(4321, 1)?.[0] as number).equals(bytesOf(4321, 8))).toBe(true)
    ring.clear()
    expect(ring.bytes).toBe(0)
    expect(ring.find(4321, 1)).toBeUndefined()
  })
})
