/**
 * A snapshot of a book of resting orders (a `Map` of key → leaf), encoded and decoded whole: by
 * the generated codec (`encodeSnapshot` into a growable writer, and into one reused pre-sized
 * buffer; `decodeSnapshot`), and by JSON (`{ seq, entries: [...book] }`). Each figure runs as a
 * block (untimed repetitions, then timed ones) so that a profile window holds one figure; the
 * figure is the median repetition, wall and CPU (`process.cpuUsage()`).
 */
import { performance } from 'node:perf_hooks'
import { OrderBookCodec, type OrderBookLeaf } from '../../generated/index.js'
import { ByteReader, ByteWriter } from '../../runtime/index.js'
import { monotonicUs } from '../lib/closed-loop.js'
import { median } from '../lib/stats.js'
import type { Approach, Checksummed, Settings, SnapshotFigure, SnapshotResult } from './protocol.js'
import { orderBook } from './workload.js'

const SEQ = 1_234_567
/** A snapshot's `seq` (a varint of at most 8 bytes) and its entry count (a u32). */
const SNAPSHOT_HEADER_BYTES = 12
/** More than the largest room a single write reserves past what it writes. */
const ROOM_SLACK_BYTES = 256
/** Where the growable writer starts, bytes: it doubles up to the snapshot's size. */
const GROWABLE_START_BYTES = 64 * 1024

/** Checksums of the repetitions: module state, so that no repetition's work can be dropped. */
let sinkHole = 0

function timeBlock(settings: Settings, run: () => number): SnapshotFigure {
  for (let i = 0; i < settings.snapshotWarmups; i++) sinkHole ^= run()
  const reps: number[] = []
  const cpuReps: number[] = []
  const startUs = monotonicUs()
  for (let i = 0; i < settings.snapshotReps; i++) {
    const cpu = process.cpuUsage()
    const begin = performance.now()
    sinkHole ^= run()
    reps.push(performance.now() - begin)
    const used = process.cpuUsage(cpu)
    cpuReps.push((used.user + used.system) / 1000)
  }
  return { wallMs: median(reps), cpuMs: median(cpuReps), reps, window: { startUs, endUs: monotonicUs() } }
}

function sameLeaf(a: OrderBookLeaf | undefined, b: OrderBookLeaf): boolean {
  return a !== undefined && a.side === b.side && a.price === b.price && a.size === b.size
}

function checkEntries(book: Map<string, OrderBookLeaf>, seq: number, entries: [string, OrderBookLeaf][]) {
  if (seq !== SEQ) throw new Error(`snapshot seq ${seq}, not ${SEQ}`)
  if (entries.length !== book.size) throw new Error(`snapshot of ${entries.length} entries, not ${book.size}`)
  for (const [key, leaf] of entries) {
    if (!sameLeaf(book.get(key), leaf)) throw new Error(`snapshot entry ${key} differs`)
  }
}

function oursSnapshot(settings: Settings, book: Map<string, OrderBookLeaf>): SnapshotResult {
  const codec = OrderBookCodec
  const first = new ByteWriter(GROWABLE_START_BYTES, { grow: true })
  const written = codec.encodeSnapshot(SEQ, book, first)
  if (written !== book.size) throw new Error(`encodeSnapshot wrote ${written} entries of ${book.size}`)
  const bytes = Buffer.from(first.bytes())
  const decoded = codec.decodeSnapshot(new ByteReader(bytes))
  checkEntries(book, decoded.seq, decoded.entries)

  let last: ByteWriter = first
  const growable = timeBlock(settings, () => {
    last = new ByteWriter(GROWABLE_START_BYTES, { grow: true })
    return codec.encodeSnapshot(SEQ, book, last)
  })
  if (Buffer.compare(last.bytes(), bytes) !== 0) throw new Error('the growable writer wrote other bytes')
  // Sized by the codec's limits, as a publisher that has not encoded this book yet can size it. Not
  // to the exact size: the writer checks room pessimistically (a string reserves 1 + 3 × its
  // length, a varint 8 bytes), so a buffer of exactly the encoded size refuses the last entries.
  const bound =
    SNAPSHOT_HEADER_BYTES + book.size * (codec.maxKeyBytes + codec.maxLeafBytes) + ROOM_SLACK_BYTES
  const presizedWriter = new ByteWriter(Buffer.allocUnsafe(bound))
  const presized = timeBlock(settings, () => {
    presizedWriter.reset()
    return codec.encodeSnapshot(SEQ, book, presizedWriter)
  })
  if (Buffer.compare(presizedWriter.bytes(), bytes) !== 0)
    throw new Error('the pre-sized writer wrote other bytes')
  const decode = timeBlock(settings, () => codec.decodeSnapshot(new ByteReader(bytes)).entries.length)
  return {
    approach: 'ours',
    leaves: book.size,
    bytes: bytes.length,
    figures: { encode: growable, encodePresized: presized, decode },
  }
}

function jsonSnapshot(settings: Settings, book: Map<string, OrderBookLeaf>): SnapshotResult {
  const toBytes = () => Buffer.from(JSON.stringify({ seq: SEQ, entries: [...book] }))
  const fromBytes = (bytes: Buffer) =>
    JSON.parse(bytes.toString()) as { seq: number; entries: [string, OrderBookLeaf][] }
  const bytes = toBytes()
  const decoded = fromBytes(bytes)
  checkEntries(book, decoded.seq, decoded.entries)

  const encode = timeBlock(settings, () => toBytes().length)
  const decode = timeBlock(settings, () => fromBytes(bytes).entries.length)
  return {
    approach: 'json',
    leaves: book.size,
    bytes: bytes.length,
    figures: { encode, decode },
  }
}

export function snapshotJob(approach: Approach, settings: Settings): SnapshotResult & Checksummed {
  const book = orderBook(settings.snapshotLeaves, settings.seed + 1)
  const result = approach === 'ours' ? oursSnapshot(settings, book) : jsonSnapshot(settings, book)
  return { ...result, checksum: sinkHole }
}
