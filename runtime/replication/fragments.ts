import { ByteReader } from '../state/byte-reader.js'
import { ByteWriter } from '../state/byte-writer.js'
import {
  type FeedIds,
  FRAGMENT_BODY_BYTES,
  HEADER_BYTES,
  Kind,
  readFragmentHeader,
  seal,
  writeFragmentHeader,
  writeHeader,
} from './packet.js'

/**
 * Cuts a packet (header and body, `packet.length` past `maxDatagramBytes`) into FRAGMENT
 * datagrams of at most `maxDatagramBytes`, each sealed.
 */
export function fragment(packet: Buffer, ids: FeedIds, maxDatagramBytes: number): Buffer[] {
  const kind = packet[3] as number
  const seq = packet.readUInt32LE(24) + packet.readUInt32LE(28) * 2 ** 32
  const body = packet.subarray(HEADER_BYTES)
  const room = maxDatagramBytes - HEADER_BYTES - FRAGMENT_BODY_BYTES
  const count = Math.ceil(body.length / room)
  const out: Buffer[] = []
  for (let index = 0; index < count; index++) {
    const chunk = body.subarray(index * room, Math.min(body.length, (index + 1) * room))
    const w = new ByteWriter(Buffer.allocUnsafe(HEADER_BYTES + FRAGMENT_BODY_BYTES + chunk.length))
    writeHeader(w, Kind.FRAGMENT, ids, seq)
    writeFragmentHeader(w, { inner: kind, index, count, total: body.length })
    chunk.copy(w.buf, w.pos)
    w.pos += chunk.length
    seal(w.buf, 0, w.pos)
    out.push(w.buf.subarray(0, w.pos))
  }
  return out
}

interface Pending {
  inner: number
  seq: number
  total: number
  chunks: Array<Buffer | undefined>
  received: number
  bytes: number
  startedMs: number
}

/** A packet put back together: its kind, seq and body. */
export interface Assembled {
  kind: number
  seq: number
  body: Buffer
}

/**
 * Puts fragments back together, bounded: at most `maxPending` packets at once (the oldest is
 * dropped for a new one), each at most `maxBytes`, each given up after `maxAgeMs`.
 */
export class FragmentAssembler {
  readonly #pending = new Map<string, Pending>()
  readonly #maxPending: number
  readonly #maxBytes: number
  readonly #maxAgeMs: number
  /** Fragments that could not be used (malformed, too big, inconsistent, expired). */
  dropped = 0

  constructor(options: { maxPending?: number; maxBytes: number; maxAgeMs?: number }) {
    this.#maxPending = options.maxPending ?? 8
    this.#maxBytes = options.maxBytes
    this.#maxAgeMs = options.maxAgeMs ?? 2000
  }

  /** Takes one FRAGMENT datagram (header already checked); returns the packet once complete. */
  add(datagram: Buffer, seq: number, nowMs: number): Assembled | undefined {
    let header: ReturnType<typeof readFragmentHeader>
    const r = new ByteReader(datagram, HEADER_BYTES)
    try {
      header = readFragmentHeader(r)
    } catch {
      this.dropped++
      return undefined
    }
    if (header.total > this.#maxBytes || header.count > Math.ceil(this.#maxBytes / 64) + 1) {
      this.dropped++
      return undefined
    }
    this.#expire(nowMs)
    const id = `${header.inner}:${seq}`
    let pending = this.#pending.get(id)
    if (pending && (pending.total !== header.total || pending.chunks.length !== header.count)) {
      this.#pending.delete(id)
      this.dropped += pending.received + 1
      return undefined
    }
    if (!pending) {
      if (this.#pending.size >= this.#maxPending) {
        const oldest = this.#pending.keys().next().value as string
        this.dropped += this.#pending.get(oldest)?.received ?? 0
        this.#pending.delete(oldest)
      }
      pending = {
        inner: header.inner,
        seq,
        total: header.total,
        chunks: new Array(header.count),
        received: 0,
        bytes: 0,
        startedMs: nowMs,
      }
      this.#pending.set(id, pending)
    }
    if (pending.chunks[header.index] !== undefined) return undefined
    const chunk = datagram.subarray(r.pos)
    if (pending.bytes + chunk.length > pending.total) {
      this.#pending.delete(id)
      this.dropped += pending.received + 1
      return undefined
    }
    pending.chunks[header.index] = chunk
    pending.received++
    pending.bytes += chunk.length
    if (pending.received < pending.chunks.length) return undefined
    this.#pending.delete(id)
    if (pending.bytes !== pending.total) {
      this.dropped += pending.received
      return undefined
    }
    return { kind: pending.inner, seq, body: Buffer.concat(pending.chunks as Buffer[], pending.total) }
  }

  clear(): void {
    this.#pending.clear()
  }

  #expire(nowMs: number): void {
    for (const [id, pending] of this.#pending) {
      if (nowMs - pending.startedMs <= this.#maxAgeMs) break
      this.dropped += pending.received
      this.#pending.delete(id)
    }
  }
}
