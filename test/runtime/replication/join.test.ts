import { setTimeout as delay } from 'node:timers/promises'
import { describe, expect, it } from 'vitest'
import type { OrderBookLeaf } from '../../../generated/index.js'
import { Carousel } from '../../../runtime/replication/carousel.js'
import { CarouselJoin } from '../../../runtime/replication/join.js'
import { LeafStore } from '../../../runtime/replication/leaf-store.js'
import { FeedIds, HEADER_BYTES, PacketHeader, parseHeader } from '../../../runtime/replication/packet.js'
import { ByteReader } from '../../../runtime/state/byte-reader.js'
import { ByteWriter } from '../../../runtime/state/byte-writer.js'
import { OrderBookCodec } from '../../helpers/replication.js'

type Book = LeafStore<string, OrderBookLeaf, Partial<OrderBookLeaf>>

function store(leaves = 0, reversed = false): Book {
  const s: Book = new LeafStore(
    OrderBookCodec,
    new ByteWriter(OrderBookCodec.maxKeyBytes + OrderBookCodec.maxLeafBytes + 16),
  )
  for (let n = 0; n < leaves; n++) {
    const i = reversed ? leaves - 1 - n : n
    s.set(`o-${i}`, { side: 'bid', price: 100 + i, size: i % 50 })
  }
  return s
}

/** The datagrams of one carousel cycle of `source` (one part each, at small datagrams). */
async function cycle(source: Book): Promise<Buffer[]> {
  const sent: Buffer[] = []
  const carousel = new Carousel({
    codec: OrderBookCodec,
    store: source,
    ids: () => FeedIds.random(OrderBookCodec.fingerprint),
    maxDatagramBytes: 256,
    bytesPerSecond: 1e9,
    seq: () => 7,
    send: (datagram) => sent.push(datagram),
    now: () => performance.now(),
  })
  carousel.demand()
  while (carousel.cycle !== 0) await delay(1)
  carousel.close()
  return sent
}

describe('CarouselJoin', () => {
  it('NACKs only the holes a part opens, once, asks for every hole again on tick(), and installs the cut when complete', async () => {
    const source = store(300)
    const parts = await cycle(source)
    expect(parts.length).toBeGreaterThan(10)
    const nacks: number[][] = []
    const installed: { cut: number; store: Book; leaves: number; digest: number }[] = []
    const sized: number[] = []
    const join = new CarouselJoin<string, OrderBookLeaf, Book>(OrderBookCodec, {
      install: (cut, filled, leaves, digest) => installed.push({ cut, store: filled, leaves, digest }),
      store: (leaves) => {
        sized.push(leaves)
        return store()
      },
      nack: (_cut, _cycle, missing) => nacks.push(missing),
    })
    const header = new PacketHeader()
    const feed = (index: number) => {
      const datagram = parts[index] as Buffer
      parseHeader(datagram, header)
      join.part(new ByteReader(datagram, HEADER_BYTES, datagram.length), header.seq, false)
    }
    feed(0)
    feed(3)
    feed(4)
    feed(7)
    expect(nacks).toEqual([
      [1, 2],
      [5, 6],
    ])
    join.tick()
    expect(nacks[2]).toEqual([1, 2, 5, 6, 8, 9, 10, 11, 12, 13, 14, 15])
    const last = parts.length - 1
    for (let i = 8; i <= last; i++) feed(i)
    for (const i of [1, 2, 5, 6]) feed(i)
    expect(nacks).toHaveLength(3)
    expect(installed).toHaveLength(1)
    expect(installed[0]?.cut).toBe(7)
    expect(installed[0]?.leaves).toBe(300)
    // One store for the one cut, sized from the count its parts announce.
    expect(sized).toEqual([300])
    expect(installed[0]?.store.digest).toBe(source.digest)
    expect(new Map(installed[0]?.store.leaves)).toEqual(new Map(source.leaves))
  })

  it('ignores a part it has (a duplicate datagram), and drops a cut whose parts repeat a key', async () => {
    // Same leaves, count, digest, cut and cycle number, in the opposite order: the last part of
    // one holds keys of the first part of the other.
    const forward = await cycle(store(300))
    const backward = await cycle(store(300, true))
    const run = (datagrams: Buffer[]) => {
      const installed: unknown[] = []
      const join = new CarouselJoin<string, OrderBookLeaf, Book>(OrderBookCodec, {
        install: (...args) => installed.push(args),
        store: () => store(),
        nack: () => undefined,
      })
      const header = new PacketHeader()
      for (const datagram of datagrams) {
        parseHeader(datagram, header)
        join.part(new ByteReader(datagram, HEADER_BYTES, datagram.length), header.seq, false)
      }
      return installed.length
    }
    const [first, second] = forward as [Buffer, Buffer]
    expect(run([first, second, second, ...forward.slice(2)])).toBe(1)
    expect(backward.length).toBe(forward.length)
    expect(run([...forward.slice(0, -1), backward.at(-1) as Buffer])).toBe(0)
  })
})
