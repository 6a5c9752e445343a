import { ByteWriter } from '../state/byte-writer.js'
import { fragment } from './fragments.js'
import { type FeedIds, HEADER_BYTES, Kind, seal, writeHeader } from './packet.js'

const SETTLED = Promise.resolve()

export interface BatcherOptions<D> {
  /** Writes one delta (throws, writing nothing, when it cannot). */
  encode(delta: D, out: ByteWriter): void
  maxDatagramBytes: number
  /** Largest encoded delta: the room kept past the datagram limit. */
  maxDeltaBytes: number
  /** How long an open datagram may wait (ms); 0: to the end of the tick. */
  lingerMs: number
  /** The ids to stamp (a relay may change session). */
  ids(): FeedIds
  /** A datagram is ready to go: DATA holding seqs `[first, first + count)`, or one FRAGMENT of `first`. */
  send(datagram: Buffer, first: number, count: number): void
}

/**
 * Puts deltas into DATA datagrams, one seq each: deltas of one tick share a datagram, which goes
 * when full, at the end of the tick (or after `lingerMs`), or on `flush()`. A delta too large for
 * an empty datagram travels alone, in fragments. The seq is taken only once a delta is encoded, so
 * a delta that cannot be encoded leaves no hole.
 */
export class Batcher<D> {
  /** The last seq taken. */
  seq = 0
  readonly #o: BatcherOptions<D>
  #open: ByteWriter | undefined
  #count = 0
  #first = 0
  #flushScheduled = false
  #timer: NodeJS.Timeout | undefined
  /** Where the last delta added was encoded (valid until the next call): its bytes after the op byte. */
  readonly last: { bytes: Uint8Array; start: number; end: number } = {
    bytes: new Uint8Array(0),
    start: 0,
    end: 0,
  }

  constructor(options: BatcherOptions<D>) {
    this.#o = options
  }

  /** Encodes `delta` into the open datagram; returns its seq. */
  add(delta: D): number {
    const limit = this.#o.maxDatagramBytes
    let w = this.#open ?? this.#openDatagram()
    let start = w.pos
    this.#o.encode(delta, w)
    if (w.pos > limit && this.#count > 0) {
      // Does not fit: send what is open, move the delta to a new datagram.
      const bytes = Buffer.from(w.buf.subarray(start, w.pos))
      w.pos = start
      this.flush()
      w = this.#openDatagram()
      start = w.pos
      bytes.copy(w.buf, w.pos)
      w.pos += bytes.length
    }
    this.last.bytes = w.buf
    this.last.start = start + 1
    this.last.end = w.pos
    const seq = ++this.seq
    if (this.#count === 0) {
      this.#first = seq
      w.buf.writeUInt32LE(seq >>> 0, 24)
      w.buf.writeUInt32LE(Math.floor(seq / 2 ** 32), 28)
    }
    this.#count++
    if (w.pos > limit) this.#sendFragments(w, seq)
    else if (w.pos >= limit - 2 || this.#count === 0xffff) this.flush()
    else this.#schedule()
    return seq
  }

  /** Sends the open datagram now, if it holds anything. */
  flush(): void {
    clearTimeout(this.#timer)
    this.#timer = undefined
    const w = this.#open
    if (!w || this.#count === 0) return
    this.#open = undefined
    w.buf[HEADER_BYTES] = this.#count & 0xff
    w.buf[HEADER_BYTES + 1] = this.#count >>> 8
    seal(w.buf, 0, w.pos)
    this.#o.send(w.buf.subarray(0, w.pos), this.#first, this.#count)
  }

  /** Continues after `seq` (a relay whose upstream skipped some): the open datagram goes first. */
  skipTo(seq: number): void {
    this.flush()
    this.seq = seq
  }

  close(): void {
    clearTimeout(this.#timer)
    this.#timer = undefined
    this.#open = undefined
    this.#count = 0
  }

  #sendFragments(w: ByteWriter, seq: number): void {
    w.buf[HEADER_BYTES] = 1
    w.buf[HEADER_BYTES + 1] = 0
    seal(w.buf, 0, w.pos)
    this.#open = undefined
    this.#count = 0
    const ids = this.#o.ids()
    for (const datagram of fragment(w.buf.subarray(0, w.pos), ids, this.#o.maxDatagramBytes)) {
      this.#o.send(datagram, seq, 1)
    }
  }

  #openDatagram(): ByteWriter {
    const w = new ByteWriter(Buffer.allocUnsafe(this.#o.maxDatagramBytes + this.#o.maxDeltaBytes + 64))
    writeHeader(w, Kind.DATA, this.#o.ids(), 0)
    w.u32(0)
    this.#open = w
    this.#count = 0
    return w
  }

  #schedule(): void {
    if (this.#o.lingerMs > 0) {
      this.#timer ??= setTimeout(() => this.flush(), this.#o.lingerMs)
      return
    }
    if (this.#flushScheduled) return
    this.#flushScheduled = true
    // A reaction on a settled promise, not queueMicrotask: the same turn's end, without the
    // AsyncResource and bound function Node wraps each queueMicrotask callback in (one per datagram).
    SETTLED.then(this.#flushTask)
  }

  readonly #flushTask = (): void => {
    this.#flushScheduled = false
    this.flush()
  }
}
