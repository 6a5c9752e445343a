import { GrenacheError } from '../errors.js'

// ignoreBOM: a string that starts with U+FEFF keeps it (by default the decoder drops it).
const utf8 = new TextDecoder('utf-8', { fatal: true, ignoreBOM: true })

/** Node's Latin-1 slice: the fastest way to read ASCII (undocumented, on every Buffer since Node 0.x). */
type Latin1Slicing = Buffer & { latin1Slice(start: number, end: number): string }

/**
 * Reads what `ByteWriter` wrote, from `pos` up to `end`, checking every read against `end`: a
 * truncated, foreign or corrupt buffer fails with `ERR_DECODE` naming the byte, never a crash, a
 * hang or an allocation larger than the buffer could hold.
 */
export class ByteReader {
  readonly buf: Buffer
  /** The next byte to read. */
  pos: number
  /** One past the last byte this reader may read. */
  end: number

  constructor(bytes: Uint8Array, start = 0, end = bytes.byteLength) {
    if (!(start >= 0 && start <= end && end <= bytes.byteLength)) {
      throw new GrenacheError(
        'ERR_INVALID_ARGUMENT',
        `ByteReader: bytes ${start} to ${end} are not within 0 to ${bytes.byteLength}`,
      )
    }
    // A Buffer is used as it is; the DataView is made on first use (most layouts never need one).
    this.buf = Buffer.isBuffer(bytes) ? bytes : Buffer.from(bytes.buffer, bytes.byteOffset, bytes.byteLength)
    this.pos = start
    this.end = end
  }

  #view: DataView | undefined

  /** A view of the bytes for fixed-width numbers. */
  get view(): DataView {
    this.#view ??= new DataView(this.buf.buffer, this.buf.byteOffset, this.buf.byteLength)
    return this.#view
  }

  /** Bytes left to read. */
  get remaining(): number {
    return this.end - this.pos
  }

  /** Throws `ERR_DECODE`: `problem` at the current byte. */
  fail(problem: string): never {
    throw new GrenacheError('ERR_DECODE', `${problem} (at byte ${this.pos})`)
  }

  u8(): number {
    if (this.pos >= this.end) this.fail('truncated: a byte is missing')
    return this.buf[this.pos++] as number
  }

  bool(): boolean {
    const byte = this.u8()
    if (byte > 1) this.fail(`a boolean is 0 or 1, got ${byte}`)
    return byte === 1
  }

  /** A LEB128 non-negative safe integer; overlong forms and values past 2^53 - 1 are refused. */
  uvarint(): number {
    const buf = this.buf
    let pos = this.pos
    if (pos < this.end) {
      const first = buf[pos] as number
      if (first < 0x80) {
        this.pos = pos + 1
        return first
      }
    }
    let value = 0
    let scale = 1
    for (let i = 0; i < 8; i++) {
      if (pos >= this.end) this.fail('truncated: a varint is cut short')
      const byte = buf[pos++] as number
      value += (byte & 0x7f) * scale
      if (byte < 0x80) {
        if (byte === 0 && i > 0) this.fail('a varint has a redundant last byte')
        if (value > Number.MAX_SAFE_INTEGER) this.fail('a varint is past 2^53 - 1')
        this.pos = pos
        return value
      }
      scale *= 128
    }
    return this.fail('a varint is longer than 8 bytes')
  }

  /**
   * A zigzag LEB128 safe integer. The zigzag form of a safe integer takes up to 54 bits, past exact
   * doubles, so the sign (the low bit) and the magnitude are read apart, as the writer wrote them.
   */
  varint(): number {
    const buf = this.buf
    let pos = this.pos
    if (pos < this.end) {
      const first = buf[pos] as number
      if (first < 0x80) {
        this.pos = pos + 1
        return first & 1 ? -((first >>> 1) + 1) : first >>> 1
      }
    }
    if (pos >= this.end) this.fail('truncated: a varint is cut short')
    const first = buf[pos++] as number
    const negative = (first & 1) === 1
    let rest = (first & 0x7f) >>> 1
    let scale = 64
    for (let i = 1; i < 8; i++) {
      if (pos >= this.end) this.fail('truncated: a varint is cut short')
      const byte = buf[pos++] as number
      rest += (byte & 0x7f) * scale
      if (byte < 0x80) {
        if (byte === 0) this.fail('a varint has a redundant last byte')
        // Safe integers: up to 2^53 - 1 each way, so the magnitude of a negative one is 2^53 - 2 at most.
        if (rest > Number.MAX_SAFE_INTEGER - (negative ? 1 : 0)) this.fail('a varint is past 2^53 - 1')
        this.pos = pos
        return negative ? -rest - 1 : rest
      }
      scale *= 128
    }
    return this.fail('a varint is longer than 8 bytes')
  }

  f64(): number {
    if (this.pos + 8 > this.end) this.fail('truncated: a float64 needs 8 bytes')
    const value = this.view.getFloat64(this.pos, true)
    this.pos += 8
    return value
  }

  f32(): number {
    if (this.pos + 4 > this.end) this.fail('truncated: a float32 needs 4 bytes')
    const value = this.view.getFloat32(this.pos, true)
    this.pos += 4
    return value
  }

  i64(): bigint {
    if (this.pos + 8 > this.end) this.fail('truncated: a 64-bit integer needs 8 bytes')
    const value = this.view.getBigInt64(this.pos, true)
    this.pos += 8
    return value
  }

  u32(): number {
    if (this.pos + 4 > this.end) this.fail('truncated: a u32 needs 4 bytes')
    const value = this.view.getUint32(this.pos, true)
    this.pos += 4
    return value
  }

  date(): Date {
    const time = this.varint()
    if (time > 8.64e15 || time < -8.64e15) this.fail(`a date is out of range: ${time} ms`)
    return new Date(time)
  }

  /** A string of at most `maxBytes` UTF-8 bytes; invalid UTF-8 is refused. */
  string(maxBytes: number): string {
    const length = this.uvarint()
    if (length > maxBytes) this.fail(`a string of ${length} bytes is longer than its limit of ${maxBytes}`)
    const start = this.pos
    const stop = start + length
    if (stop > this.end) this.fail(`truncated: a string of ${length} bytes has ${this.end - start} left`)
    const buf = this.buf
    this.pos = stop
    if (length <= 32) {
      let i = start
      while (i < stop && (buf[i] as number) < 0x80) i++
      if (i === stop)
        return length <= 8 ? shortAscii(buf, start, length) : (buf as Latin1Slicing).latin1Slice(start, stop)
    }
    try {
      return utf8.decode(buf.subarray(start, stop))
    } catch {
      this.pos = start
      return this.fail(`a string of ${length} bytes is not valid UTF-8`)
    }
  }

  /** The length zod gives a string: its code points (a surrogate pair counts once). */
  codePoints(text: string): number {
    let count = text.length
    for (let i = 0; i < text.length; i++) {
      const unit = text.charCodeAt(i)
      if (unit >= 0xd800 && unit <= 0xdbff && i + 1 < text.length) {
        const next = text.charCodeAt(i + 1)
        if (next >= 0xdc00 && next <= 0xdfff) {
          count--
          i++
        }
      }
    }
    return count
  }

  /**
   * A count of items that take at least `minBytes` each (at least 1): refused when the bytes left
   * could not hold that many, or when it is past `max`.
   */
  count(minBytes: number, max: number): number {
    const n = this.uvarint()
    if (n > max) this.fail(`${n} items is more than the limit of ${max}`)
    if (n * minBytes > this.end - this.pos) {
      this.fail(`truncated: ${n} items need at least ${n * minBytes} bytes, ${this.end - this.pos} left`)
    }
    return n
  }

  /** Fails unless every byte was read. */
  done(): void {
    if (this.pos !== this.end) this.fail(`${this.end - this.pos} bytes left over`)
  }
}

/**
 * A short ASCII string straight from its bytes: `String.fromCharCode` with a fixed number of
 * arguments is about twice as fast as a Buffer slice for keys like `o-12345` (measured in bench/codec).
 */
function shortAscii(b: Uint8Array, at: number, length: number): string {
  switch (length) {
    case 0:
      return ''
    case 1:
      return String.fromCharCode(b[at] as number)
    case 2:
      return String.fromCharCode(b[at] as number, b[at + 1] as number)
    case 3:
      return String.fromCharCode(b[at] as number, b[at + 1] as number, b[at + 2] as number)
    case 4:
      return String.fromCharCode(
        b[at] as number,
        b[at + 1] as number,
        b[at + 2] as number,
        b[at + 3] as number,
      )
    case 5:
      return String.fromCharCode(
        b[at] as number,
        b[at + 1] as number,
        b[at + 2] as number,
        b[at + 3] as number,
        b[at + 4] as number,
      )
    case 6:
      return String.fromCharCode(
        b[at] as number,
        b[at + 1] as number,
        b[at + 2] as number,
        b[at + 3] as number,
        b[at + 4] as number,
        b[at + 5] as number,
      )
    case 7:
      return String.fromCharCode(
        b[at] as number,
        b[at + 1] as number,
        b[at + 2] as number,
        b[at + 3] as number,
        b[at + 4] as number,
        b[at + 5] as number,
        b[at + 6] as number,
      )
    default:
      return String.fromCharCode(
        b[at] as number,
        b[at + 1] as number,
        b[at + 2] as number,
        b[at + 3] as number,
        b[at + 4] as number,
        b[at + 5] as number,
        b[at + 6] as number,
        b[at + 7] as number,
      )
  }
}
