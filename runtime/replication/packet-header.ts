/**
 * The 32-byte header every replication packet starts with (docs/replication.md, "Packets"):
 * magic, version, kind, CRC-32, session, fingerprint, seq. `parseHeader` checks everything a
 * header can get wrong before a body (packet.ts) is read; `seal` fills in the CRC.
 */
import { randomBytes } from 'node:crypto'
import { crc32 } from 'node:zlib'
import { GrenacheError } from '../errors.js'
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
  if (u32(bytes, 4) !== crc32(bytes.subarray(8))) return 'crc'
  const hi = u32(bytes, 28)
  if (hi >= 0x200000) return 'seq'
  out.kind = kind
  out.session0 = u32(bytes, 8)
  out.session1 = u32(bytes, 12)
  out.fingerprint0 = u32(bytes, 16)
  out.fingerprint1 = u32(bytes, 20)
  out.seq = u32(bytes, 24) + hi * TWO_32
  return undefined
}

/** The little-endian uint32 at `at` (no DataView: that is an object per packet). */
function u32(b: Uint8Array, at: number): number {
  return (
    ((b[at] as number) | ((b[at + 1] as number) << 8) | ((b[at + 2] as number) << 16)) +
    (b[at + 3] as number) * 0x1000000
  )
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

/** Sets a flag bit of a packet and seals it again (a retransmit reuses the datagram it sent). */
export function setFlagAndSeal(packet: Buffer, flagOffset: number, flag: number): void {
  packet[flagOffset] = (packet[flagOffset] as number) | flag
  seal(packet, 0, packet.length)
}
