import { GrenacheError } from '../errors.js'
import { ByteReader } from '../state/byte-reader.js'
import { ByteWriter } from '../state/byte-writer.js'
import type { Delta, StateCodec } from '../state/types.js'

/**
 * The frames of the WebSocket feed (`docs/replication.md`, "Repeater"): one binary WebSocket
 * message each, the first byte its kind, numbers little-endian. The server sends, the client only
 * reads; TCP keeps them in order, so there are no NACKs, only a fresh snapshot after a reconnect.
 *
 * | kind | name | body |
 * |---:|---|---|
 * | 0 | HELLO | u8 protocol version (1), 8 bytes fingerprint, u8 feed name length, feed name (ASCII) |
 * | 1 | SNAPSHOT | 8 bytes session, u32 digest, then a codec snapshot (LEB128 seq, u32 count, key and leaf pairs) |
 * | 2 | DELTAS | u64 first seq, u16 count, then `count` codec deltas back to back (one seq each) |
 * | 3 | RESET | u8 reason (0 the upstream resynced, 1 it restarted with a new session): a SNAPSHOT follows |
 */
export const WS_FEED_VERSION = 1

export const WsFrameKind = { HELLO: 0, SNAPSHOT: 1, DELTAS: 2, RESET: 3 } as const

/** Why the state was replaced: the repeater's upstream replica resynced, or its publisher restarted. */
export type WsFeedResetReason = 'resync' | 'restart'

/** One decoded frame. */
export type WsFeedFrame<K, L, P> =
  | { kind: 'hello'; version: number; fingerprint: string; feed: string }
  | { kind: 'snapshot'; session: string; digest: number; seq: number; entries: Array<[K, L]> }
  | { kind: 'deltas'; first: number; deltas: Array<Delta<K, L, P>> }
  | { kind: 'reset'; reason: WsFeedResetReason }

/** The state a SNAPSHOT frame carries. */
export interface WsFeedState<K, L> {
  /** The upstream session (16 hex digits). */
  session: string
  /** The last seq the leaves include. */
  seq: number
  /** The digest of the leaves (`LeafStore`'s), so the client can check what it installed. */
  digest: number
  leaves: Iterable<readonly [K, L]>
}

const MAX_U16 = 0xffff

export function encodeHello(codec: { fingerprint: string; feed: string }): Buffer {
  const feed = Buffer.from(codec.feed, 'latin1')
  const out = Buffer.allocUnsafe(11 + feed.length)
  out[0] = WsFrameKind.HELLO
  out[1] = WS_FEED_VERSION
  Buffer.from(codec.fingerprint, 'hex').copy(out, 2)
  out[10] = feed.length
  feed.copy(out, 11)
  return out
}

export function encodeSnapshotFrame<K, L, P>(codec: StateCodec<K, L, P>, state: WsFeedState<K, L>): Buffer {
  if (!/^[0-9a-f]{16}$/.test(state.session)) {
    throw new GrenacheError('ERR_INVALID_ARGUMENT', `a session is 16 hex digits, got ${state.session}`)
  }
  const w = new ByteWriter(1024, { grow: true })
  w.u8(WsFrameKind.SNAPSHOT)
  for (const byte of Buffer.from(state.session, 'hex')) w.u8(byte)
  w.u32(state.digest >>> 0)
  codec.encodeSnapshot(state.seq, state.leaves, w)
  return Buffer.from(w.buf.subarray(0, w.pos))
}

export function encodeReset(reason: WsFeedResetReason): Buffer {
  return Buffer.from([WsFrameKind.RESET, reason === 'restart' ? 1 : 0])
}

/**
 * Builds one DELTAS frame from deltas of consecutive seqs. `add` refuses (returns false) a seq
 * that does not follow the last one, or a 65 536th delta: take the frame first.
 */
export class DeltaFrameWriter<K, L, P> {
  readonly #codec: StateCodec<K, L, P>
  #w: ByteWriter | undefined
  #first = 0
  #count = 0

  constructor(codec: StateCodec<K, L, P>) {
    this.#codec = codec
  }

  get count(): number {
    return this.#count
  }

  /** Bytes of the frame so far (0 when empty). */
  get bytes(): number {
    return this.#w?.pos ?? 0
  }

  add(seq: number, delta: Delta<K, L, P>): boolean {
    if (this.#count > 0 && (seq !== this.#first + this.#count || this.#count === MAX_U16)) return false
    let w = this.#w
    if (!w || this.#count === 0) {
      w ??= new ByteWriter(4096, { grow: true })
      this.#w = w
      w.reset()
      w.u8(WsFrameKind.DELTAS)
      w.u32(seq >>> 0)
      w.u32(Math.floor(seq / 2 ** 32))
      w.u8(0)
      w.u8(0)
      this.#first = seq
    }
    this.#codec.encodeDelta(delta, w)
    this.#count++
    return true
  }

  /** The frame (a copy), or undefined when no delta was added; starts a new one. */
  take(): Buffer | undefined {
    const w = this.#w
    if (!w || this.#count === 0) return undefined
    w.buf[9] = this.#count & 0xff
    w.buf[10] = this.#count >>> 8
    const frame = Buffer.from(w.buf.subarray(0, w.pos))
    this.#count = 0
    if (w.buf.length > 1 << 20) this.#w = undefined
    return frame
  }

  /** Drops what was added. */
  clear(): void {
    this.#count = 0
  }
}

/** Decodes one frame; anything malformed is `ERR_DECODE` naming the frame and the byte. */
export function decodeFrame<K, L, P>(codec: StateCodec<K, L, P>, bytes: Uint8Array): WsFeedFrame<K, L, P> {
  const r = new ByteReader(bytes)
  try {
    const kind = r.u8()
    switch (kind) {
      case WsFrameKind.HELLO: {
        const version = r.u8()
        const fingerprint = hex(r, 8)
        const length = r.u8()
        if (length > r.remaining) r.fail(`truncated: a feed name of ${length} bytes`)
        const feed = r.buf.toString('latin1', r.pos, r.pos + length)
        r.pos += length
        r.done()
        return { kind: 'hello', version, fingerprint, feed }
      }
      case WsFrameKind.SNAPSHOT: {
        const session = hex(r, 8)
        const digest = r.u32()
        const snapshot = codec.decodeSnapshot(r)
        r.done()
        return { kind: 'snapshot', session, digest, seq: snapshot.seq, entries: snapshot.entries }
      }
      case WsFrameKind.DELTAS: {
        const low = r.u32()
        const high = r.u32()
        if (high >= 2 ** 21) r.fail(`a seq past 2^53`)
        const first = high * 2 ** 32 + low
        const count = r.u8() + r.u8() * 256
        if (count === 0 || first < 1) r.fail('a DELTAS frame without deltas, or at seq 0')
        if (count > r.remaining) r.fail(`truncated: ${count} deltas in ${r.remaining} bytes`)
        const deltas: Array<Delta<K, L, P>> = []
        for (let i = 0; i < count; i++) deltas.push(codec.decodeDelta(r))
        r.done()
        return { kind: 'deltas', first, deltas }
      }
      case WsFrameKind.RESET: {
        const reason = r.u8()
        if (reason > 1) r.fail(`a reset reason is 0 or 1, got ${reason}`)
        r.done()
        return { kind: 'reset', reason: reason === 1 ? 'restart' : 'resync' }
      }
      default:
        return r.fail(`unknown frame kind ${kind}`)
    }
  } catch (err) {
    if (err instanceof GrenacheError && err.code === 'ERR_DECODE') {
      throw new GrenacheError('ERR_DECODE', `${codec.feed} ws feed frame: ${err.message}`, { cause: err })
    }
    throw err
  }
}

function hex(r: ByteReader, length: number): string {
  if (r.remaining < length) r.fail(`truncated: ${length} bytes are missing`)
  const text = r.buf.toString('hex', r.pos, r.pos + length)
  r.pos += length
  return text
}
