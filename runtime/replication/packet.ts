/**
 * The packets of replication (docs/replication.md, "Packets"): a 32-byte header (magic, version,
 * kind, CRC-32, session, fingerprint, seq) and one body per kind. Writers go through a
 * `ByteWriter`; `parseHeader` checks everything a header can get wrong before a body is read.
 */
import { randomBytes } from 'node:crypto'
import { crc32 } from 'node:zlib'
import { GrenacheError } from '../errors.js'
import type { ByteReader } from '../state/byte-reader.js'
import type { ByteWriter } from '../state/byte-writer.js'

export const Kind = {
  DATA: 1,
  HEARTBEAT: 2,
  SNAPSHOT: 3,
  NACK: 4,
  SNAPSHOT_NACK: 5,
  UNRECOVERABLE: 6,
  HELLO: 7,
  INFO: 8,
  FRAGMENT: 9,
  LAYOUT: 10,
} as const

export type KindName = keyof typeof Kind
export const KIND_NAMES: Record<number, KindName> = Object.fromEntries(
  Object.entries(Kind).map(([name, kind]) => [kind, name as KindName]),
)

export const HEADER_BYTES = 32
export const PROTOCOL_VERSION = 1
const MAGIC_0 = 0x47
const MAGIC_1 = 0x56
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

/** The two 64-bit ids every packet carries, as bytes and as u32 halves (cheap to compare). */
export class FeedIds {
  readonly session: Buffer
  readonly fingerprint: Buffer
  readonly session0: number
  readonly session1: number
  readonly fingerprint0: number
  readonly fingerprint1: number

  constructor(session: Uint8Array, fingerprint: string) {
    if (session.length !== 8) throw new GrenacheError('ERR_INVALID_ARGUMENT', 'a session id is 8 bytes')
    if (!/^[0-9a-f]{16}$/.test(fingerprint)) {
      throw new GrenacheError('ERR_INVALID_ARGUMENT', `a fingerprint is 16 hex digits, got ${fingerprint}`)
    }
    this.session = Buffer.from(session)
    this.fingerprint = Buffer.from(fingerprint, 'hex')
    this.session0 = this.session.readUInt32LE(0)
    this.session1 = this.session.readUInt32LE(4)
    this.fingerprint0 = this.fingerprint.readUInt32LE(0)
    this.fingerprint1 = this.fingerprint.readUInt32LE(4)
  }

  /** A new random session of the state with `fingerprint`. */
  static random(fingerprint: string): FeedIds {
    return new FeedIds(randomBytes(8), fingerprint)
  }

  /** The session id in hex. */
  get sessionHex(): string {
    return this.session.toString('hex')
  }
}

/** What `parseHeader` read: reused by receivers, one per endpoint. */
export class PacketHeader {
  kind = 0
  seq = 0
  session0 = 0
  session1 = 0
  fingerprint0 = 0
  fingerprint1 = 0

  sameSession(ids: { session0: number; session1: number }): boolean {
    return this.session0 === ids.session0 && this.session1 === ids.session1
  }

  sameFingerprint(ids: { fingerprint0: number; fingerprint1: number }): boolean {
    return this.fingerprint0 === ids.fingerprint0 && this.fingerprint1 === ids.fingerprint1
  }

  /** The session as 8 bytes (allocates: for a new session, not per packet). */
  sessionBytes(): Buffer {
    const bytes = Buffer.allocUnsafe(8)
    bytes.writeUInt32LE(this.session0, 0)
    bytes.writeUInt32LE(this.session1, 4)
    return bytes
  }

  /** The fingerprint in hex (allocates). */
  fingerprintHex(): string {
    const bytes = Buffer.allocUnsafe(8)
    bytes.writeUInt32LE(this.fingerprint0, 0)
    bytes.writeUInt32LE(this.fingerprint1, 4)
    return bytes.toString('hex')
  }
}

/** Why a datagram is not one of ours, or is broken. */
export type HeaderProblem = 'short' | 'magic' | 'version' | 'kind' | 'crc' | 'seq'

/**
 * Reads and checks the header of `bytes` into `out`: length, magic, version, kind, CRC, seq.
 * Returns the problem, or undefined when the header is good (the body still has to be read).
 */
export function parseHeader(bytes: Uint8Array, out: PacketHeader): HeaderProblem | undefined {
  if (bytes.length < HEADER_BYTES) return 'short'
  if (bytes[0] !== MAGIC_0 || bytes[1] !== MAGIC_1) return 'magic'
  if (bytes[2] !== PROTOCOL_VERSION) return 'version'
  const kind = bytes[3] as number
  if (kind < Kind.DATA || kind > Kind.LAYOUT) return 'kind'
  const view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength)
  if (view.getUint32(4, true) !== crc32(bytes.subarray(8))) return 'crc'
  const hi = view.getUint32(28, true)
  if (hi >= 0x200000) return 'seq'
  out.kind = kind
  out.session0 = view.getUint32(8, true)
  out.session1 = view.getUint32(12, true)
  out.fingerprint0 = view.getUint32(16, true)
  out.fingerprint1 = view.getUint32(20, true)
  out.seq = view.getUint32(24, true) + hi * TWO_32
  return undefined
}

/** Writes a header at `w.pos` (the CRC is filled in by `seal`). */
export function writeHeader(w: ByteWriter, kind: number, ids: FeedIds, seq: number): void {
  w.u8(MAGIC_0)
  w.u8(MAGIC_1)
  w.u8(PROTOCOL_VERSION)
  w.u8(kind)
  w.u32(0)
  const at = w.pos
  w.u32(0)
  w.u32(0)
  w.u32(0)
  w.u32(0)
  ids.session.copy(w.buf, at)
  ids.fingerprint.copy(w.buf, at + 8)
  w.u32(seq >>> 0)
  w.u32(Math.floor(seq / TWO_32))
}

/** Fills in the CRC of the packet that starts at `start` and ends at `end` of `buf`. */
export function seal(buf: Buffer, start: number, end: number): void {
  buf.writeUInt32LE(crc32(buf.subarray(start + 8, end)), start + 4)
}

/** Rewrites a packet's seq and seals it again (a retransmit reuses the datagram it sent). */
export function setFlagAndSeal(packet: Buffer, flagOffset: number, flag: number): void {
  packet[flagOffset] = (packet[flagOffset] as number) | flag
  seal(packet, 0, packet.length)
}

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
