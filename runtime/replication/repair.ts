import { ByteWriter } from '../state/byte-writer.js'
import type { DatagramAddress } from './endpoint.js'
import {
  DATA_FLAGS_OFFSET,
  DATA_RETRANSMIT,
  type FeedIds,
  HEADER_BYTES,
  Kind,
  type SeqRange,
  seal,
  writeHeader,
  writeUnrecoverable,
} from './packet.js'
import { RetransmitRing } from './ring.js'
import type { PublisherStats } from './stats.js'

export interface RepairOptions {
  retransmitBufferBytes: number
  /** A datagram just sent again is not sent again for another NACK within this (ms). */
  repairHoldMs: number
  ids(): FeedIds
  /** The last seq sent. */
  seq(): number
  /** Sends a retransmitted datagram (to the group, or to `requester`). */
  resend(datagram: Buffer, requester: DatagramAddress): void
  /** Sends a control answer to `to`. */
  answer(datagram: Buffer, to: DatagramAddress): void
}

/**
 * Datagrams one NACK is answered with, at most (about 370 KB of full ones). A forged NACK of 64
 * ranges over the whole ring would otherwise send all of it (8 MiB by default) twice, a copy to the
 * address it claims to come from. A replica asks again for what is still missing, and a replica's
 * window (65 536 deltas) spans about 520 full datagrams: a hole that large takes a few rounds.
 */
export const MAX_DATAGRAMS_PER_NACK = 256

/**
 * The publisher's side of loss repair: keeps the DATA datagrams sent (bounded in bytes) and
 * answers a NACK at once with the datagrams holding each range (marked retransmitted), or with
 * UNRECOVERABLE when a range is gone. A datagram resent within `repairHoldMs` is not resent for
 * another replica's NACK of the same loss (the one it was resent for gets it again: it lost it).
 */
export class RepairService {
  readonly #o: RepairOptions
  readonly #ring: RetransmitRing
  /** Each datagram resent lately (by its id in the ring): when, and for whom (`host:port`). */
  readonly #held = new Map<number, { at: number; by: string }>()
  readonly #stats: PublisherStats

  constructor(options: RepairOptions, stats: PublisherStats) {
    this.#o = options
    this.#ring = new RetransmitRing(options.retransmitBufferBytes)
    this.#stats = stats
  }

  /** Keeps a sent datagram. */
  keep(datagram: Buffer, first: number, count: number): void {
    this.#ring.push(datagram, first, count)
  }

  /** Answers one NACK from `from`. */
  nack(ranges: readonly SeqRange[], from: DatagramAddress): void {
    this.#stats.nacks++
    const last = this.#o.seq()
    const now = performance.now()
    let budget = MAX_DATAGRAMS_PER_NACK
    for (const range of ranges) {
      if (range.count === 0 || range.from < 1 || range.from > last) continue
      const count = Math.min(range.count, last - range.from + 1)
      const ids = this.#ring.find(range.from, count)
      if (!ids) this.#unrecoverable(range.from, count, from)
      else {
        if (budget > 0) this.#resend(ids.length > budget ? ids.slice(0, budget) : ids, from, now)
        budget -= ids.length
      }
    }
    if (budget < 0) this.#stats.nacksCapped++
    if (this.#held.size > 4096) {
      for (const [id, held] of this.#held) if (now - held.at >= this.#o.repairHoldMs) this.#held.delete(id)
    }
  }

  clear(): void {
    this.#ring.clear()
    this.#held.clear()
  }

  #resend(ids: number[], requester: DatagramAddress, now: number): void {
    const by = `${requester.host}:${requester.port}`
    for (const id of ids) {
      const last = this.#held.get(id)
      // The hold is for other replicas' NACKs of the same loss; the replica it was resent for asks
      // again only when that retransmit was lost too.
      if (last !== undefined && now - last.at < this.#o.repairHoldMs && last.by !== by) {
        this.#stats.retransmitsHeld++
        continue
      }
      this.#held.set(id, { at: now, by })
      // A copy: the ring's bytes are overwritten as later datagrams come, maybe before this one
      // leaves the socket.
      const copy = Buffer.from(this.#ring.datagram(id))
      if (copy[3] === Kind.DATA) {
        copy[DATA_FLAGS_OFFSET] = (copy[DATA_FLAGS_OFFSET] as number) | DATA_RETRANSMIT
        seal(copy, 0, copy.length)
      }
      this.#stats.retransmits++
      this.#o.resend(copy, requester)
    }
  }

  #unrecoverable(from: number, count: number, to: DatagramAddress): void {
    this.#stats.unrecoverable++
    const w = new ByteWriter(Buffer.allocUnsafe(HEADER_BYTES + 32))
    writeHeader(w, Kind.UNRECOVERABLE, this.#o.ids(), from)
    const oldest = this.#ring.oldest
    writeUnrecoverable(w, {
      count,
      what: 'deltas',
      cycle: 0,
      oldest: Number.isFinite(oldest) ? oldest : this.#o.seq() + 1,
    })
    seal(w.buf, 0, w.pos)
    this.#o.answer(w.buf.subarray(0, w.pos), to)
  }
}
