import { setTimeout as delay } from 'node:timers/promises'
import { OrderBookCodec, type OrderBookDelta, type OrderBookLeaf } from '../../generated/index.js'
import { Prng } from '../../runtime/replication/prng.js'
import type { Publisher } from '../../runtime/replication/publisher.js'
import type { Replica } from '../../runtime/replication/replica.js'

export { OrderBookCodec }

/** Waits until `condition()` holds, checking every 5 ms; throws `what` after `timeoutMs`. */
export async function until(condition: () => boolean, what: string, timeoutMs = 10_000): Promise<void> {
  const deadline = Date.now() + timeoutMs
  while (!condition()) {
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`)
    await delay(5)
  }
}

/**
 * A random order-book workload (seeded): upserts, patches and deletes over `keys` ids, and now and
 * then a clear when `clears` is set.
 */
export function orderBookWorkload(seed: number, keys = 500, clears = false): () => OrderBookDelta {
  const prng = new Prng(seed)
  return () => {
    const key = `o-${prng.int(keys)}`
    const roll = prng.next()
    if (clears && roll < 0.0005) return { op: 'clear' }
    if (roll < 0.6) {
      const leaf: OrderBookLeaf = {
        side: prng.chance(0.5) ? 'bid' : 'ask',
        price: 8000 + prng.int(4000),
        size: prng.int(100),
      }
      return { op: 'upsert', key, leaf }
    }
    if (roll < 0.85) return { op: 'patch', key, fields: { size: prng.int(100) } }
    return { op: 'delete', key }
  }
}

/** A publisher and a replica of the order book, as the tests build them from the runtime's classes. */
export type Book = Publisher<string, OrderBookLeaf, Partial<OrderBookLeaf>>
export type BookReplica = Replica<string, OrderBookLeaf, Partial<OrderBookLeaf>>

/** Publishes `count` deltas, `perTick` per event-loop turn (so datagrams batch as they would). */
export async function publish(
  publisher: Book,
  next: () => OrderBookDelta,
  count: number,
  perTick = 50,
): Promise<void> {
  for (let sent = 0; sent < count; ) {
    for (let i = 0; i < perTick && sent < count; i++, sent++) publisher.apply(next())
    await delay(1)
  }
}

/** Waits until the replica is at the publisher's seq, then compares digests, counts and leaves. */
export async function converged(publisher: Book, replica: BookReplica, timeoutMs = 15_000): Promise<void> {
  await until(
    () => replica.status === 'live' && replica.seq === publisher.seq,
    `the replica to reach seq ${publisher.seq} (it is at ${replica.seq}, ${replica.status})`,
    timeoutMs,
  )
}

/** The leaves as a plain sorted object, for deep equality. */
export function plain(leaves: ReadonlyMap<string, OrderBookLeaf>): Record<string, OrderBookLeaf> {
  return Object.fromEntries([...leaves.entries()].sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0)))
}
