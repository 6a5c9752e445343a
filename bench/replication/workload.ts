/**
 * The replication suite's input, the same in every process and on every run (a seeded PRNG): a
 * random order-book delta stream over 10 000 ids, and a prefill of resting orders for the join.
 */
import type { OrderBookDelta, OrderBookLeaf } from '../../generated/index.js'
import { prng } from '../lib/prng.js'

const MID_TICKS = 10_000
const SPREAD_TICKS = 2_000

function randomLeaf(random: () => number): OrderBookLeaf {
  const bid = random() < 0.5
  const offset = Math.floor(random() * (SPREAD_TICKS + 1))
  return {
    side: bid ? 'bid' : 'ask',
    price: bid ? MID_TICKS - offset : MID_TICKS + offset,
    size: 1 + Math.floor(random() * 99),
  }
}

/**
 * `count` deltas as a busy book's feed carries them: 70% upserts of one of `ids` ids (`o-0` to
 * `o-<ids - 1>`: a new or replaced order), 20% patches of the size of a live order, 10% deletes of a
 * live order (an upsert when none is live). Senders cycle through the array: every delta is
 * absolute, so a patch or delete of an id no longer live is a no-op on every side alike.
 */
export function orderStream(count: number, ids: number, seed: number): OrderBookDelta[] {
  const random = prng(seed)
  const live: string[] = []
  const where = new Map<string, number>()
  const remove = (key: string) => {
    const at = where.get(key) as number
    const last = live.pop() as string
    if (last !== key) {
      live[at] = last
      where.set(last, at)
    }
    where.delete(key)
  }
  const deltas: OrderBookDelta[] = []
  for (let i = 0; i < count; i++) {
    const roll = random()
    if (roll >= 0.7 && live.length > 0) {
      const key = live[Math.floor(random() * live.length)] as string
      if (roll < 0.9) {
        deltas.push({ op: 'patch', key, fields: { size: 1 + Math.floor(random() * 99) } })
      } else {
        remove(key)
        deltas.push({ op: 'delete', key })
      }
      continue
    }
    const key = `o-${Math.floor(random() * ids)}`
    if (!where.has(key)) {
      where.set(key, live.length)
      live.push(key)
    }
    deltas.push({ op: 'upsert', key, leaf: randomLeaf(random) })
  }
  return deltas
}

/** Upserts of `leaves` resting orders `o-0` to `o-<leaves - 1>` (the stream's ids are among them). */
export function prefill(leaves: number, seed: number): OrderBookDelta[] {
  const random = prng(seed ^ 0x9e3779b9)
  return Array.from({ length: leaves }, (_, i) => ({ op: 'upsert', key: `o-${i}`, leaf: randomLeaf(random) }))
}

/** Now on the monotonic clock (CLOCK_MONOTONIC, shared by every process of the host), µs. */
export function nowUs(): number {
  return Number(process.hrtime.bigint()) / 1000
}

/**
 * How far `performance.timeOrigin + performance.now()` (ms since 1970) is from the monotonic clock
 * in this process, µs: two processes' offsets differ by the error that clock would add to a
 * cross-process latency.
 */
export function wallClockOffsetUs(): number {
  return (performance.timeOrigin + performance.now()) * 1000 - nowUs()
}
