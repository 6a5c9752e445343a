import { setTimeout as delay } from 'node:timers/promises'
import { afterEach, describe, expect, it } from 'vitest'
import type { OrderBookLeaf } from '../../../generated/index.js'
import { Carousel } from '../../../runtime/replication/carousel.js'
import { CarouselJoin } from '../../../runtime/replication/join.js'
import { LeafStore } from '../../../runtime/replication/leaf-store.js'
import {
  FeedIds,
  HEADER_BYTES,
  PacketHeader,
  parseHeader,
  SNAPSHOT_FLAGS_OFFSET,
  SNAPSHOT_LAST,
} from '../../../runtime/replication/packet.js'
import { ByteReader } from '../../../runtime/state/byte-reader.js'
import { ByteWriter } from '../../../runtime/state/byte-writer.js'
import { OrderBookCodec, until } from '../../helpers/replication.js'

type Book = LeafStore<string, OrderBookLeaf, Partial<OrderBookLeaf>>

const ids = FeedIds.random(OrderBookCodec.fingerprint)
const DATAGRAM = 1472
const open: Array<{ close(): void }> = []
afterEach(() => {
  for (const carousel of open.splice(0)) carousel.close()
})

function store(leaves = 0): Book {
  const s: Book = new LeafStore(
    OrderBookCodec,
    new ByteWriter(OrderBookCodec.maxKeyBytes + OrderBookCodec.maxLeafBytes + 16),
  )
  for (let i = 0; i < leaves; i++)
    s.set(`o-${i}`, { side: i % 2 ? 'bid' : 'ask', price: 1000 + i, size: i % 97 })
  return s
}

/**
 * A carousel on a clock the test moves (`clock.ms`), with real timers: a tick sends what the rate
 * allowed up to `clock.ms`, and nothing more until the clock moves again.
 */
function carousel(source: Book, bytesPerSecond: number) {
  const clock = { ms: 1_000_000, turn: 0 }
  const sent: { datagram: Buffer; atMs: number; turn: number }[] = []
  const c = new Carousel({
    codec: OrderBookCodec,
    store: source,
    ids: () => ids,
    maxDatagramBytes: DATAGRAM,
    bytesPerSecond,
    seq: () => 42,
    send: (datagram) => sent.push({ datagram, atMs: clock.ms, turn: clock.turn }),
    now: () => clock.ms,
  })
  open.push(c)
  const bytes = () => sent.reduce((sum, s) => sum + s.datagram.length, 0)
  return { c, clock, sent, bytes }
}

/** The cut the datagrams carry, collected as a joining replica would. */
function collect(datagrams: readonly Buffer[]): { cut: number; store: Book; leaves: number; digest: number } {
  let got: { cut: number; store: Book; leaves: number; digest: number } | undefined
  const join = new CarouselJoin<string, OrderBookLeaf, Book>(OrderBookCodec, {
    install: (cut, filled, leaves, digest) => {
      got = { cut, store: filled, leaves, digest }
    },
    store: () => store(),
    nack: () => {
      throw new Error('no part should be missing')
    },
  })
  const header = new PacketHeader()
  for (const datagram of datagrams) {
    expect(parseHeader(datagram, header)).toBeUndefined()
    join.part(new ByteReader(datagram, HEADER_BYTES, datagram.length), header.seq, false)
  }
  if (!got) throw new Error('the cut is not complete')
  return got
}

/**
 * Waits (real time, generously: timers run late on a busy host) until `bytes()` reaches `least`,
 * then a little longer, so that anything sent past it would show.
 */
async function reach(bytes: () => number, least: number): Promise<void> {
  await until(() => bytes() >= least, `${least} bytes sent`)
  await delay(20)
}

/** Moves the clock by `stepMs` at a time until the cycle is over. */
async function runToEnd(run: ReturnType<typeof carousel>, stepMs: number): Promise<void> {
  for (let i = 0; run.c.cycle !== 0; i++) {
    if (i > 10_000) throw new Error('the cycle does not end')
    run.clock.ms += stepMs
    await delay(2)
  }
}

describe('Carousel', () => {
  it('sends the state as it was at the cut while deltas replace, add, delete and clear leaves', async () => {
    const source = store(10_000)
    const atCut = new Map(source.leaves)
    const digestAtCut = source.digest
    const run = carousel(source, 1024 * 1024)
    run.c.demand()
    // The first slice is out; most of the cycle is not.
    expect(run.bytes()).toBeLessThan(80 * 1024)
    source.apply({ op: 'upsert', key: 'o-9999', leaf: { side: 'bid', price: 1, size: 1 } })
    source.apply({ op: 'patch', key: 'o-9998', fields: { size: 50 } })
    source.apply({ op: 'delete', key: 'o-9997' })
    source.apply({ op: 'upsert', key: 'new', leaf: { side: 'ask', price: 2, size: 2 } })
    source.apply({ op: 'clear' })
    source.apply({ op: 'upsert', key: 'o-9996', leaf: { side: 'ask', price: 3, size: 3 } })
    await runToEnd(run, 20)
    const cut = collect(run.sent.map((s) => s.datagram))
    expect(cut.cut).toBe(42)
    expect(cut.leaves).toBe(10_000)
    expect(cut.digest).toBe(digestAtCut)
    expect(cut.store.digest).toBe(digestAtCut)
    // The same leaves; a leaf changed before it was read may come later than the store's order.
    expect(new Map(cut.store.leaves)).toEqual(atCut)
  })

  it('starts a cycle with one slice (64 KiB), however long it was idle, then keeps to the rate', async () => {
    const run = carousel(store(60_000), 8 * 1024 * 1024)
    run.c.demand()
    const first = run.bytes()
    expect(first).toBeGreaterThanOrEqual(64 * 1024)
    expect(first).toBeLessThan(64 * 1024 + DATAGRAM)
    await delay(5)
    expect(run.bytes()).toBe(first) // the clock did not move: nothing more is due
    run.clock.ms += 5
    const due = (5 * 8 * 1024 * 1024) / 1000
    await reach(run.bytes, first + due - 2 * DATAGRAM)
    expect(run.bytes() - first).toBeGreaterThan(due - 2 * DATAGRAM)
    expect(run.bytes() - first).toBeLessThan(due + 2 * DATAGRAM)
  })

  it('makes up after a late tick: 10 ms held up goes out in the next turns, one slice per turn', async () => {
    const run = carousel(store(60_000), 8 * 1024 * 1024)
    run.c.demand()
    const before = run.sent.length
    // Counts event-loop turns (one check phase each), to see what each turn sent.
    let spinning = true
    const spin = () => {
      run.clock.turn++
      if (spinning) setImmediate(spin)
    }
    spin()
    run.clock.ms += 10
    const due = (10 * 8 * 1024 * 1024) / 1000
    const start = run.bytes()
    await reach(run.bytes, start + due - 2 * DATAGRAM)
    spinning = false
    const perTurn = new Map<number, number>()
    for (const { datagram, turn } of run.sent.slice(before)) {
      perTurn.set(turn, (perTurn.get(turn) ?? 0) + datagram.length)
    }
    const after = [...perTurn.values()].reduce((a, b) => a + b, 0)
    expect(after).toBeGreaterThan(due - 2 * DATAGRAM)
    expect(after).toBeLessThan(due + 2 * DATAGRAM)
    for (const bytes of perTurn.values()) expect(bytes).toBeLessThan(64 * 1024 + DATAGRAM)
    expect(perTurn.size).toBeGreaterThan(1)
  })

  it('makes up at most 20 ms of the rate after a longer stall', async () => {
    const run = carousel(store(60_000), 8 * 1024 * 1024)
    run.c.demand()
    const before = run.bytes()
    run.clock.ms += 100
    const depth = (20 * 8 * 1024 * 1024) / 1000
    await reach(run.bytes, before + depth - 2 * DATAGRAM)
    expect(run.bytes() - before).toBeGreaterThan(depth - 2 * DATAGRAM)
    expect(run.bytes() - before).toBeLessThan(depth + 2 * DATAGRAM)
  })

  it('measures each cycle from its first part sent to its last (lastCycleMs)', async () => {
    const run = carousel(store(20_000), 4 * 1024 * 1024)
    expect(run.c.lastCycleMs).toBe(0)
    const startMs = run.clock.ms
    run.c.demand()
    await runToEnd(run, 3)
    const last = run.sent.at(-1)
    expect(last && ((last.datagram[SNAPSHOT_FLAGS_OFFSET] as number) & SNAPSHOT_LAST) !== 0).toBe(true)
    expect(run.c.lastCycleMs).toBe((last?.atMs ?? 0) - startMs)
    expect(run.c.lastCycleMs).toBeGreaterThan(0)
    expect(run.c.cycles).toBe(1)
  })
})
