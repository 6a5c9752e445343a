/**
 * The codec suite's inputs, the same on every run and in every process (a seeded PRNG): a random
 * order-book delta stream and a book of resting orders for snapshots.
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

export interface DeltaWorkload {
  count: number
  /** Distinct order ids (`o-10000`, `o-10001`, …). */
  liveIds: number
  seed: number
}

/**
 * `count` deltas as a feed of a busy book would carry them: 70% upserts of one of `liveIds` ids
 * (a new order or a replaced one), 20% patches of the size of a live order, 10% deletes of a live
 * order (an upsert when none is live). Bids are below 10 000 ticks, asks above, within 2 000;
 * sizes 1 to 99 lots. Each delta is its own object, as a publisher would hand them over.
 */
export function orderDeltas({ count, liveIds, seed }: DeltaWorkload): OrderBookDelta[] {
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
    const key = `o-${10_000 + Math.floor(random() * liveIds)}`
    if (!where.has(key)) {
      where.set(key, live.length)
      live.push(key)
    }
    deltas.push({ op: 'upsert', key, leaf: randomLeaf(random) })
  }
  return deltas
}

/** A book of `leaves` resting orders with distinct random ids (`o-100000` to `o-999999`). */
export function orderBook(leaves: number, seed: number): Map<string, OrderBookLeaf> {
  const random = prng(seed)
  const book = new Map<string, OrderBookLeaf>()
  while (book.size < leaves) {
    const key = `o-${100_000 + Math.floor(random() * 900_000)}`
    if (!book.has(key)) book.set(key, randomLeaf(random))
  }
  return book
}

/** A delta as one canonical line, to compare a decoded delta with the original. */
export function deltaText(delta: OrderBookDelta): string {
  switch (delta.op) {
    case 'upsert':
      return `upsert ${delta.key} ${delta.leaf.side} ${delta.leaf.price} ${delta.leaf.size}`
    case 'patch':
      return `patch ${delta.key} ${Object.entries(delta.fields)
        .map(([name, value]) => `${name}=${value}`)
        .sort()
        .join(',')}`
    case 'delete':
      return `delete ${delta.key}`
    case 'clear':
      return 'clear'
  }
}
