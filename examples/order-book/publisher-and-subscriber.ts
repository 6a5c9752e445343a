/**
 * The order-book example of the grapevine README, typed and done properly. schemas/order-book.schema.ts
 * declares the order_book state (a leaf per price level: side, price in ticks, size in lots);
 * `npm run generate` turns it into OrderBookPublisher and OrderBookReplica.
 *
 * Two Grapes run in this process, A and B. A publisher keeps a price-level book (10 to 15 levels a
 * side, prices around 10000 ticks that never cross, sizes 1 to 99, as in grapevine's generator) and
 * multicasts every change on 127.0.0.1, announcing the feed through Grape A. Grapevine's deltas add
 * and subtract quantities; ours are absolute (the level's new size, or its removal), so a
 * duplicate or a snapshot overlap changes nothing. A subscriber finds the feed through Grape B,
 * joins while the book keeps changing (it collects a snapshot and replays what came meanwhile),
 * keeps its replica, and prints the best bid and ask. Everything is closed at the end.
 *
 *   npx tsx examples/order-book/publisher-and-subscriber.ts
 */
import { type OrderBookLeaf, OrderBookPublisher, OrderBookReplica } from '../../generated/index.js'
import { Grape, Link, Prng } from '../../runtime/index.js'

/** The best bid (highest) and best ask (lowest) of a book. */
function best(levels: Iterable<OrderBookLeaf>): { bid?: OrderBookLeaf; ask?: OrderBookLeaf } {
  let bid: OrderBookLeaf | undefined
  let ask: OrderBookLeaf | undefined
  for (const level of levels) {
    if (level.side === 'bid' && (!bid || level.price > bid.price)) bid = level
    if (level.side === 'ask' && (!ask || level.price < ask.price)) ask = level
  }
  return { ...(bid ? { bid } : {}), ...(ask ? { ask } : {}) }
}

function describe(book: { bid?: OrderBookLeaf; ask?: OrderBookLeaf }): string {
  const bid = book.bid ? `${book.bid.size} @ ${book.bid.price}` : 'none'
  const ask = book.ask ? `${book.ask.price} x ${book.ask.size}` : 'none'
  return `best bid ${bid}, best ask ${ask}`
}

/** A price-level book that changes the way grapevine's example generator changes it. */
class RandomBook {
  readonly #prng = new Prng(2024)
  constructor(readonly publisher: OrderBookPublisher) {}

  /** One change: a new level, a level's new size, or a level gone. */
  step(): void {
    const side = this.#prng.chance(0.5) ? 'bid' : 'ask'
    const levels = [...this.publisher.leaves.values()].filter((level) => level.side === side)
    const roll = this.#prng.next()
    if (levels.length < 10 || (levels.length < 15 && roll < 0.3)) {
      const price = this.#price(side)
      if (price !== undefined)
        this.publisher.upsert(`${side}:${price}`, { side, price, size: 1 + this.#prng.int(99) })
    } else if (roll < 0.7) {
      const level = levels[this.#prng.int(levels.length)] as OrderBookLeaf
      this.publisher.patch(`${side}:${level.price}`, { size: 1 + this.#prng.int(99) })
    } else {
      const level = levels[this.#prng.int(levels.length)] as OrderBookLeaf
      this.publisher.delete(`${side}:${level.price}`)
    }
  }

  /** A price around 10000 that keeps bids below asks. */
  #price(side: 'bid' | 'ask'): number | undefined {
    const top = best(this.publisher.leaves.values())
    for (let tries = 0; tries < 10; tries++) {
      const price = Math.round(10000 + (this.#prng.next() - 0.5) * 400)
      if (side === 'bid' && (!top.ask || price < top.ask.price)) return price
      if (side === 'ask' && (!top.bid || price > top.bid.price)) return price
    }
    return undefined
  }
}

export async function main(print: (line: string) => void = console.log): Promise<void> {
  const grapeA = new Grape({ apiPort: 0, dhtPort: 0, dhtHost: '127.0.0.1' })
  const a = await grapeA.start()
  const grapeB = new Grape({
    apiPort: 0,
    dhtPort: 0,
    dhtHost: '127.0.0.1',
    bootstrap: [`127.0.0.1:${a.dhtPort}`],
  })
  const b = await grapeB.start()
  const publisherLink = new Link({ grape: a.url })
  const subscriberLink = new Link({ grape: b.url })
  // A group of our own in 239.0.0.0/8 (administratively scoped), on the loopback interface.
  const group = `239.255.${10 + Math.floor(Math.random() * 200)}.${1 + Math.floor(Math.random() * 250)}`
  const publisher = new OrderBookPublisher({
    link: publisherLink,
    transport: { kind: 'multicast', group, interface: '127.0.0.1' },
  })
  const subscriber = new OrderBookReplica({
    link: subscriberLink,
    transport: { kind: 'multicast', interface: '127.0.0.1' },
  })
  try {
    await publisher.start()
    const book = new RandomBook(publisher)
    for (let i = 0; i < 1000; i++) book.step()
    print(
      `publisher: ${publisher.size} levels after ${publisher.seq} changes, feed ${publisher.feedName} through Grape A`,
    )

    // The book keeps changing while the subscriber joins.
    const ticker = setInterval(() => {
      for (let i = 0; i < 20; i++) book.step()
    }, 1)
    let changes = 0
    subscriber.on('change', () => changes++)
    subscriber.on('synced', ({ seq, leaves }) =>
      print(
        `subscriber: joined at seq ${seq > 1000 ? 'past 1000' : seq} with ${leaves > 0 ? 'the whole book' : 'nothing'}`,
      ),
    )
    await subscriber.start()
    await subscriber.synced({ timeoutMs: 10_000 })
    await new Promise((resolve) => setTimeout(resolve, 100))
    clearInterval(ticker)

    // Let the last datagrams and a heartbeat arrive, then compare.
    const deadline = Date.now() + 5000
    while (subscriber.seq !== publisher.seq && Date.now() < deadline)
      await new Promise((r) => setTimeout(r, 10))
    print(
      `subscriber: followed ${changes > 0 ? 'every change after it joined' : 'no change'}, now at the publisher's seq: ${subscriber.seq === publisher.seq}`,
    )
    print(`subscriber: ${describe(best(subscriber.leaves.values()))}`)
    print(`publisher:  ${describe(best(publisher.leaves.values()))}`)
    const same = subscriber.stats.digest === publisher.stats.digest && subscriber.size === publisher.size
    print(`the replica ${same ? 'equals' : 'DIFFERS FROM'} the publisher's book (digest and levels)`)
  } finally {
    await subscriber.close()
    await publisher.close()
    await Promise.all([publisherLink.close(), subscriberLink.close()])
    await Promise.all([grapeA.close(), grapeB.close()])
  }
}

if (process.argv[1] === import.meta.filename) await main()
