import { describe, expect, it } from 'vitest'
import type { DatagramAddress } from '../../../runtime/replication/endpoint.js'
import { FeedIds } from '../../../runtime/replication/packet.js'
import { MAX_DATAGRAMS_PER_NACK, RepairService } from '../../../runtime/replication/repair.js'
import { publisherStats } from '../../../runtime/replication/stats.js'

describe('RepairService hold', () => {
  function service(repairHoldMs: number) {
    const resent: { to: string; bytes: Buffer }[] = []
    const stats = publisherStats()
    const ids = new FeedIds(new Uint8Array(8), 'b863cacee53a6b09')
    const repair = new RepairService(
      {
        retransmitBufferBytes: 1 << 16,
        repairHoldMs,
        ids: () => ids,
        seq: () => 10,
        resend: (bytes, to: DatagramAddress) => resent.push({ to: `${to.host}:${to.port}`, bytes }),
        answer: () => {},
      },
      stats,
    )
    // Kind byte 0: not DATA, so the copies are not re-sealed (the hold is what is under test).
    repair.keep(Buffer.from([0, 0, 0, 0, 1]), 1, 5)
    repair.keep(Buffer.from([0, 0, 0, 0, 2]), 6, 5)
    return { repair, resent, stats }
  }
  const a = { host: '127.0.0.1', port: 5001 }
  const b = { host: '127.0.0.1', port: 5002 }

  it('another replica’s NACK of the same loss within the hold gets nothing more', () => {
    const { repair, resent, stats } = service(60_000)
    repair.nack([{ from: 2, count: 2 }], a)
    repair.nack([{ from: 2, count: 2 }], b)
    expect(resent.map((r) => r.to)).toEqual(['127.0.0.1:5001'])
    expect(stats.retransmitsHeld).toBe(1)
  })

  it('the replica it was resent for gets it again: its retransmit was lost too', () => {
    const { repair, resent, stats } = service(60_000)
    repair.nack([{ from: 2, count: 2 }], a)
    repair.nack([{ from: 2, count: 2 }], a)
    expect(resent.map((r) => r.to)).toEqual(['127.0.0.1:5001', '127.0.0.1:5001'])
    expect(resent.map((r) => r.bytes[4])).toEqual([1, 1])
    expect(stats.retransmitsHeld).toBe(0)
  })

  it('after the hold anyone gets it again', () => {
    const { repair, resent } = service(0)
    repair.nack([{ from: 7, count: 1 }], a)
    repair.nack([{ from: 7, count: 1 }], b)
    expect(resent.map((r) => [r.to, r.bytes[4]])).toEqual([
      ['127.0.0.1:5001', 2],
      ['127.0.0.1:5002', 2],
    ])
  })
})

describe('RepairService cap', () => {
  it(`answers one NACK with at most ${MAX_DATAGRAMS_PER_NACK} datagrams, the oldest asked first, however much it asks`, () => {
    const resent: number[] = []
    const stats = publisherStats()
    const ids = new FeedIds(new Uint8Array(8), 'b863cacee53a6b09')
    const held = 1000
    const repair = new RepairService(
      {
        retransmitBufferBytes: 1 << 20,
        repairHoldMs: 0,
        ids: () => ids,
        seq: () => held,
        resend: (bytes) => resent.push(bytes.readUInt16LE(4)),
        answer: () => {},
      },
      stats,
    )
    for (let seq = 1; seq <= held; seq++) {
      const datagram = Buffer.alloc(6)
      datagram.writeUInt16LE(seq, 4)
      repair.keep(datagram, seq, 1)
    }
    // Two ranges over everything held, as a forged NACK would ask.
    repair.nack(
      [
        { from: 1, count: held },
        { from: 1, count: held },
      ],
      { host: '127.0.0.1', port: 5001 },
    )
    expect(resent).toHaveLength(MAX_DATAGRAMS_PER_NACK)
    expect(resent.slice(0, 3)).toEqual([1, 2, 3])
    expect(stats.nacksCapped).toBe(1)
    expect(stats.unrecoverable).toBe(0)
    // The replica asks again from where the answer stopped, and gets the next ones.
    resent.length = 0
    repair.nack([{ from: MAX_DATAGRAMS_PER_NACK + 1, count: 10 }], { host: '127.0.0.1', port: 5001 })
    expect(resent).toEqual(Array.from({ length: 10 }, (_, i) => MAX_DATAGRAMS_PER_NACK + 1 + i))
    expect(stats.nacksCapped).toBe(1)
    // A first range of exactly the cap leaves the second one out: that is capped too.
    resent.length = 0
    repair.nack(
      [
        { from: 1, count: MAX_DATAGRAMS_PER_NACK },
        { from: 600, count: 5 },
      ],
      { host: '127.0.0.1', port: 5001 },
    )
    expect(resent).toHaveLength(MAX_DATAGRAMS_PER_NACK)
    expect(stats.nacksCapped).toBe(2)
  })
})
