/**
 * The packets of replication (docs/replication.md, "Packets"): a 32-byte header (magic, version,
 * kind, CRC-32, session, fingerprint, seq; packet-header.ts) and one body per kind (here). Writers
 * go through a `ByteWriter`; `parseHeader` checks everything a header can get wrong before a body
 * is read.
 */
import { GrenacheError } from '../errors.js'
import type { ByteReader } from '../state/byte-reader.js'
import type { ByteWriter } from '../state/byte-writer.js'
import { HEADER_BYTES, Kind } from './packet-header.js'

export {
  FeedIds,
  HEADER_BYTES,
  type HeaderProblem,
  KIND_NAMES,
  Kind,
  type KindName,
  PacketHeader,
  PROTOCOL_VERSION,
  parseHeader,
  seal,
  setFlagAndSeal,
  writeHeader,
} from './packet-header.js'

const TWO_32 = 2 ** 32

/** DATA flags. */
export const DATA_RETRANSMIT = 1
/** SNAPSHOT flags. */
export const SNAPSHOT_LAST = 1
export const SNAPSHOT_RETRANSMIT = 2
/** HEARTBEAT flags. */
export const HEARTBEAT_CLOSING = 1
/** HELLO flags. */
export const HELLO_CAROUSEL = 1
export const HELLO_SUBSCRIBE = 2
export const HELLO_LEAVE = 4
export const HELLO_LAYOUT = 8

// ── bodies ────────────────────────────────────────────────────────────────────────────────────

/** Byte offset of DATA's flags in the packet. */
export const DATA_FLAGS_OFFSET = HEADER_BYTES + 2
export const DATA_BODY_BYTES = 4
/** Byte offset of SNAPSHOT's flags in the packet. */
export const SNAPSHOT_FLAGS_OFFSET = HEADER_BYTES + 8

export interface Heartbeat {
  timeMs: number
  digest: number
  leaves: number
  cycle: number
  flags: number
  intervalMs: number
}

export function writeHeartbeat(w: ByteWriter, h: Heartbeat): void {
  w.f64(h.timeMs)
  w.u32(h.digest >>> 0)
  w.u32(h.leaves)
  w.u32(h.cycle)
  w.u8(h.flags)
  w.u8(0)
  w.u8(h.intervalMs & 0xff)
  w.u8(h.intervalMs >>> 8)
}

export function readHeartbeat(r: ByteReader): Heartbeat {
  const timeMs = r.f64()
  const digest = r.u32()
  const leaves = r.u32()
  const cycle = r.u32()
  const flags = r.u8()
  r.u8()
  const intervalMs = r.u8() + r.u8() * 256
  return { timeMs, digest, leaves, cycle, flags, intervalMs }
}

export interface SnapshotPartHeader {
  cycle: number
  part: number
  flags: number
  leaves: number
  digest: number
}

export const SNAPSHOT_BODY_BYTES = 20

export function writeSnapshotPartHeader(w: ByteWriter, p: SnapshotPartHeader): void {
  w.u32(p.cycle)
  w.u32(p.part)
  w.u8(p.flags)
  w.u8(0)
  w.u8(0)
  w.u8(0)
  w.u32(p.leaves)
  w.u32(p.digest >>> 0)
}

export function readSnapshotPartHeader(r: ByteReader): SnapshotPartHeader {
  const cycle = r.u32()
  const part = r.u32()
  const flags = r.u8()
  r.u8()
  r.u8()
  r.u8()
  return { cycle, part, flags, leaves: r.u32(), digest: r.u32() }
}

/** A range of seqs: `[from, from + count)`. */
export interface SeqRange {
  from: number
  count: number
}

/** At most this many ranges in one NACK (keeps it one small datagram). */
export const MAX_NACK_RANGES = 64

export function writeNack(w: ByteWriter, ranges: readonly SeqRange[]): void {
  const n = Math.min(ranges.length, MAX_NACK_RANGES)
  w.u8(n & 0xff)
  w.u8(n >>> 8)
  for (let i = 0; i < n; i++) {
    const range = ranges[i] as SeqRange
    w.u32(range.from >>> 0)
    w.u32(Math.floor(range.from / TWO_32))
    w.u32(range.count)
  }
}

export function readNack(r: ByteReader): SeqRange[] {
  const n = r.u8() + r.u8() * 256
  if (n > MAX_NACK_RANGES) r.fail(`a NACK of ${n} ranges (at most ${MAX_NACK_RANGES})`)
  const ranges: SeqRange[] = []
  for (let i = 0; i < n; i++) {
    const lo = r.u32()
    const hi = r.u32()
    if (hi >= 0x200000) r.fail('a NACK range past 2^53')
    ranges.push({ from: lo + hi * TWO_32, count: r.u32() })
  }
  return ranges
}

export function writeSnapshotNack(w: ByteWriter, cycle: number, parts: readonly number[]): void {
  const n = Math.min(parts.length, 256)
  w.u32(cycle)
  w.u8(n & 0xff)
  w.u8(n >>> 8)
  for (let i = 0; i < n; i++) w.u32(parts[i] as number)
}

export function readSnapshotNack(r: ByteReader): { cycle: number; parts: number[] } {
  const cycle = r.u32()
  const n = r.u8() + r.u8() * 256
  if (n > 256) r.fail(`a SNAPSHOT_NACK of ${n} parts (at most 256)`)
  const parts: number[] = []
  for (let i = 0; i < n; i++) parts.push(r.u32())
  return { cycle, parts }
}

export interface Unrecoverable {
  count: number
  what: 'deltas' | 'snapshot'
  cycle: number
  oldest: number
}

export function writeUnrecoverable(w: ByteWriter, u: Unrecoverable): void {
  w.u32(u.count)
  w.u8(u.what === 'snapshot' ? 1 : 0)
  w.u8(0)
  w.u8(0)
  w.u8(0)
  w.u32(u.cycle)
  w.u32(u.oldest >>> 0)
  w.u32(Math.floor(u.oldest / TWO_32))
}

export function readUnrecoverable(r: ByteReader): Unrecoverable {
  const count = r.u32()
  const what = r.u8()
  if (what > 1) r.fail(`UNRECOVERABLE of an unknown kind ${what}`)
  r.u8()
  r.u8()
  r.u8()
  const cycle = r.u32()
  const lo = r.u32()
  const hi = r.u32()
  if (hi >= 0x200000) r.fail('an oldest seq past 2^53')
  return { count, what: what === 1 ? 'snapshot' : 'deltas', cycle, oldest: lo + hi * TWO_32 }
}

export type FeedTransportKind = 'multicast' | 'unicast' | 'memory'
const TRANSPORT_CODES: Record<FeedTransportKind, number> = { multicast: 1, unicast: 2, memory: 3 }
const TRANSPORT_NAMES: Record<number, FeedTransportKind> = { 1: 'multicast', 2: 'unicast', 3: 'memory' }

/** What a publisher tells a replica that said HELLO. */
export interface FeedInfo {
  transport: FeedTransportKind
  group: string
  dataPort: number
  snapshotPort: number
  heartbeatMs: number
  maxDatagramBytes: number
  /** The snapshot stream, when the publisher serves one: transport code (1 http, 2 ws, 3 zmq) and port. */
  stream?: { code: number; port: number }
}

export function writeInfo(w: ByteWriter, info: FeedInfo): void {
  w.u8(TRANSPORT_CODES[info.transport])
  w.u8(0)
  for (const value of [info.dataPort, info.snapshotPort, info.heartbeatMs, info.maxDatagramBytes]) {
    w.u8(value & 0xff)
    w.u8(value >>> 8)
  }
  const group = Buffer.from(info.group, 'latin1')
  w.u8(group.length)
  if (w.pos + group.length > w.buf.length)
    throw new GrenacheError('ERR_ENCODE', 'INFO: no room for the group')
  group.copy(w.buf, w.pos)
  w.pos += group.length
  w.u8(info.stream?.code ?? 0)
  w.u8((info.stream?.port ?? 0) & 0xff)
  w.u8((info.stream?.port ?? 0) >>> 8)
}

export function readInfo(r: ByteReader): FeedInfo {
  const transport = TRANSPORT_NAMES[r.u8()]
  if (!transport) r.fail('INFO of an unknown transport')
  r.u8()
  const u16 = () => r.u8() + r.u8() * 256
  const dataPort = u16()
  const snapshotPort = u16()
  const heartbeatMs = u16()
  const maxDatagramBytes = u16()
  const length = r.u8()
  if (length > r.remaining) r.fail('INFO: the group is cut short')
  const group = r.buf.toString('latin1', r.pos, r.pos + length)
  r.pos += length
  if (heartbeatMs === 0 || maxDatagramBytes < 256)
    r.fail('INFO with a zero heartbeat or a tiny datagram size')
  const info: FeedInfo = { transport, group, dataPort, snapshotPort, heartbeatMs, maxDatagramBytes }
  if (r.remaining >= 3) {
    const code = r.u8()
    const port = u16()
    if (code !== 0 && port !== 0) info.stream = { code, port }
  }
  return info
}

export interface FragmentHeader {
  inner: number
  index: number
  count: number
  total: number
}

export const FRAGMENT_BODY_BYTES = 12

export function writeFragmentHeader(w: ByteWriter, f: FragmentHeader): void {
  w.u8(f.inner)
  w.u8(0)
  w.u8(f.index & 0xff)
  w.u8(f.index >>> 8)
  w.u8(f.count & 0xff)
  w.u8(f.count >>> 8)
  w.u8(0)
  w.u8(0)
  w.u32(f.total)
}

export function readFragmentHeader(r: ByteReader): FragmentHeader {
  const inner = r.u8()
  r.u8()
  const index = r.u8() + r.u8() * 256
  const count = r.u8() + r.u8() * 256
  r.u8()
  r.u8()
  const total = r.u32()
  if (inner !== Kind.DATA && inner !== Kind.SNAPSHOT && inner !== Kind.LAYOUT)
    r.fail(`a fragment of kind ${inner}`)
  if (count === 0 || index >= count) r.fail(`fragment ${index} of ${count}`)
  return { inner, index, count, total }
}
