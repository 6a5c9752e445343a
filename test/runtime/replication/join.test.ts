import { setTimeout as delay } from 'node:timers/promises'
import { describe, expect, it } from 'vitest'
import type { OrderBookLeaf } from '../../../generated/index.js'
import { Carousel } from '../../../runtime/replication/carousel.js'
import { CarouselJoin } from '../../../runtime/replication/join.js'
import { LeafStore } from '../../../runtime/replication/leaf-store.js'
import {
  FeedIds,
  HEADER_BYTES,
  PacketHeader,
  parseHeader,
  SNAPSHOT_LAST,
  writeSnapshotPartHeader,
} from '../../../runtime/replication/packet.js'
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

  it('refuses a part past the count of its cut, and an empty part of a cut with leaves, remembering neither', () => {
    const nacks: number[][] = []
    const join = new CarouselJoin<string, OrderBookLeaf, Book>(OrderBookCodec, {
      install: () => expect.fail('nothing is complete'),
      store: () => store(),
      nack: (_cut, _cycle, missing) => nacks.push(missing),
    })
    const part = (index: number, leaves: number, entries: [string, OrderBookLeaf][]) => {
      const w = new ByteWriter(1024)
      writeSnapshotPartHeader(w, { cycle: 1, part: index, flags: 0, leaves, digest: 0 })
      OrderBookCodec.encodeSnapshot(9, entries, w)
      return () => join.part(new ByteReader(w.bytes()), 9, false)
    }
    const leaf: OrderBookLeaf = { side: 'bid', price: 1, size: 1 }
    const decodeError = expect.objectContaining({ code: 'ERR_DECODE' })
    // Parts 0 to 2 are the most a cut of 3 leaves has; a forger numbering parts up to 2^32 gets nowhere.
    expect(part(3, 3, [['a', leaf]])).toThrow(decodeError)
    expect(part(0xffffffff, 3, [['a', leaf]])).toThrow(decodeError)
    expect(part(1, 0, [])).toThrow(decodeError)
    expect(part(1, 3, [])).toThrow(decodeError)
    expect(nacks).toEqual([])
    // A genuine part of the same cut is still collected, and opens the hole before it.
    part(2, 3, [['c', leaf]])()
    expect(nacks).toEqual([[0, 1]])
    // An empty cut is one empty part.
    const empty = new CarouselJoin<string, OrderBookLeaf, Book>(OrderBookCodec, {
      install: (cut, filled, leaves) => nacks.push([cut, filled.size, leaves]),
      store: () => store(),
      nack: () => undefined,
    })
    const w = new ByteWriter(64)
    writeSnapshotPartHeader(w, { cycle: 1, part: 0, flags: SNAPSHOT_LAST, leaves: 0, digest: 0 })
    OrderBookCodec.encodeSnapshot(9, [], w)
    empty.part(new ByteReader(w.bytes()), 9, false)
    expect(nacks.at(-1)).toEqual([9, 0, 0])
  })
})
