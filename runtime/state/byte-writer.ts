import { GrenacheError } from '../errors.js'

export interface ByteWriterOptions {
  /**
   * Grow the buffer (double it) when a write does not fit, instead of failing with `ERR_ENCODE`.
   * Default `false`: a writer over a caller's buffer never allocates.
   */
  grow?: boolean
}

/** `String.prototype.isWellFormed` (Node 20; in TypeScript's ES2024 lib). */
type WellFormed = string & { isWellFormed(): boolean }

/**
 * Writes the binary layout of state codecs into one buffer, from `pos` on. Every write checks the
 * room left: a full buffer fails with `ERR_ENCODE` (or grows, with `grow: true`). Integers are
 * checked as they are written, so a non-integer never reaches the wire as garbage.
 */
export class ByteWriter {
  buf: Buffer
  view: DataView
  /** The next byte to write. */
  pos = 0
  readonly #grow: boolean

  /** Writes into `buffer` (not copied), or into a new buffer of that many bytes. */
  constructor(buffer: Uint8Array | number, options: ByteWriterOptions = {}) {
    const bytes = typeof buffer === 'number' ? new Uint8Array(buffer) : buffer
    this.buf = Buffer.from(bytes.buffer, bytes.byteOffset, bytes.byteLength)
    this.view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength)
    this.#grow = options.grow === true
  }

  /** The bytes written so far: a view of the buffer, not a copy. */
  bytes(): Uint8Array {
    return this.buf.subarray(0, this.pos)
  }

  /** Starts again at byte 0. */
  reset(): void {
    this.pos = 0
  }

  u8(value: number): void {
    if (this.pos + 1 > this.buf.length) this.#room(1)
    this.buf[this.pos++] = value
  }

  bool(value: boolean): void {
    if (typeof value !== 'boolean') throw encodeError('not a boolean', value)
    this.u8(value ? 1 : 0)
  }

  /** A non-negative safe integer as LEB128 (1 byte below 128, at most 8). */
  uvarint(value: number): void {
    if (this.pos + 8 > this.buf.length) this.#fit(varintBytes(value))
    const buf = this.buf
    let pos = this.pos
    if (value >>> 0 === value) {
      while (value > 0x7f) {
        buf[pos++] = (value & 0x7f) | 0x80
        value >>>= 7
      }
      buf[pos++] = value
    } else {
      if (!Number.isSafeInteger(value) || value < 0)
        throw encodeError('not a non-negative safe integer', value)
      while (value > 0x7f) {
        buf[pos++] = (value % 128) | 0x80
        value = Math.floor(value / 128)
      }
      buf[pos++] = value
    }
    this.pos = pos
  }

  /** A safe integer, zigzag then LEB128 (-1 → 1, 1 → 2; at most 8 bytes). */
  varint(value: number): void {
    if ((value | 0) === value) {
      this.uvarint(((value << 1) ^ (value >> 31)) >>> 0)
      return
    }
    if (!Number.isSafeInteger(value)) throw encodeError('not a safe integer', value)
    // Zigzag without the doubling (2^54 is past exact doubles): the low bit is the sign.
    const negative = value < 0
    let rest = negative ? -value - 1 : value
    if (this.pos + 8 > this.buf.length) this.#fit(varintBytes(rest * 2))
    const buf = this.buf
    let pos = this.pos
    buf[pos++] = ((rest % 64) * 2 + (negative ? 1 : 0)) | 0x80
    rest = Math.floor(rest / 64)
    while (rest > 0x7f) {
      buf[pos++] = (rest % 128) | 0x80
      rest = Math.floor(rest / 128)
    }
    buf[pos++] = rest
    this.pos = pos
  }

  /** A finite float64 (zod's numbers are finite; NaN and ±Infinity would be refused by every decoder). */
  f64(value: number): void {
    if (!Number.isFinite(value)) throw encodeError('not a finite number', value)
    if (this.pos + 8 > this.buf.length) this.#room(8)
    this.view.setFloat64(this.pos, value, true)
    this.pos += 8
  }

  /** A float32 (refused when not finite, or when it overflows float32). */
  f32(value: number): void {
    if (!Number.isFinite(value) || !Number.isFinite(Math.fround(value))) {
      throw encodeError('not a finite float32', value)
    }
    if (this.pos + 4 > this.buf.length) this.#room(4)
    this.view.setFloat32(this.pos, value, true)
    this.pos += 4
  }

  /** A bigint within the signed 64-bit range, 8 bytes little-endian. */
  i64(value: bigint): void {
    if (typeof value !== 'bigint' || value < -(2n ** 63n) || value >= 2n ** 63n) {
      throw encodeError('not a bigint within 64 bits', value)
    }
    if (this.pos + 8 > this.buf.length) this.#room(8)
    this.view.setBigInt64(this.pos, value, true)
    this.pos += 8
  }

  /** A Date as its milliseconds since 1970, zigzag LEB128. */
  date(value: Date): void {
    const time = value instanceof Date ? value.getTime() : Number.NaN
    if (Number.isNaN(time)) throw encodeError('not a valid Date', value)
    this.varint(time)
  }

  /** A u32 little-endian; with `at`, overwrites 4 bytes already written there. */
  u32(value: number, at?: number): void {
    if (!(value >>> 0 === value)) throw encodeError('not a 32-bit unsigned integer', value)
    if (at !== undefined) {
      this.view.setUint32(at, value, true)
      return
    }
    if (this.pos + 4 > this.buf.length) this.#room(4)
    this.view.setUint32(this.pos, value, true)
    this.pos += 4
  }

  /** A string: its UTF-8 byte length (LEB128), then the bytes. Lone surrogates are refused. */
  string(value: string): void {
    if (typeof value !== 'string') throw encodeError('not a string', value)
    const length = value.length
    // Near the end of a buffer that cannot grow, the exact size is worked out below instead.
    if (length < 43 && (this.pos + 1 + length * 3 <= this.buf.length || this.#grow)) {
      // At most 126 bytes: the length takes one byte, so the text goes straight after it.
      if (this.pos + 1 + length * 3 > this.buf.length) this.#room(1 + length * 3)
      const buf = this.buf
      const start = this.pos + 1
      let i = 0
      for (; i < length; i++) {
        const code = value.charCodeAt(i)
        if (code > 0x7f) break
        buf[start + i] = code
      }
      if (i === length) {
        buf[start - 1] = length
        this.pos = start + length
        return
      }
      if (!(value as WellFormed).isWellFormed())
        throw encodeError('has a lone surrogate (not valid UTF-8)', value)
      const written = buf.write(value, start)
      buf[start - 1] = written
      this.pos = start + written
      return
    }
    if (!(value as WellFormed).isWellFormed())
      throw encodeError('has a lone surrogate (not valid UTF-8)', value)
    const bytes = Buffer.byteLength(value)
    this.uvarint(bytes)
    if (this.pos + bytes > this.buf.length) this.#room(bytes)
    this.pos += this.buf.write(value, this.pos)
  }

  /** Makes room for `wanted` bytes: the exact size, where the fast paths reserve the most a write can take. */
  #fit(wanted: number): void {
    if (this.pos + wanted > this.buf.length) this.#room(wanted)
  }

  #room(wanted: number): void {
    if (!this.#grow) {
      throw new GrenacheError(
        'ERR_ENCODE',
        `the buffer is full: ${wanted} more bytes needed at byte ${this.pos} of ${this.buf.length}`,
      )
    }
    let size = Math.max(this.buf.length * 2, 64)
    while (size < this.pos + wanted) size *= 2
    const next = Buffer.allocUnsafe(size)
    this.buf.copy(next, 0, 0, this.pos)
    this.buf = next
    this.view = new DataView(next.buffer, next.byteOffset, next.byteLength)
  }
}

/** The LEB128 size of a non-negative integer, 1 to 8 bytes (1 for what `uvarint` refuses anyway). */
function varintBytes(value: number): number {
  let bytes = 1
  for (let rest = value; rest >= 128 && bytes < 8; rest /= 128) bytes++
  return bytes
}

/** `ERR_ENCODE` for a value that does not fit its layout; the codec adds where it was. */
export function encodeError(problem: string, value: unknown): GrenacheError {
  return new GrenacheError('ERR_ENCODE', `${problem}: ${describe(value)}`)
}

function describe(value: unknown): string {
  if (typeof value === 'string') return JSON.stringify(value.length > 40 ? `${value.slice(0, 40)}…` : value)
  if (typeof value === 'bigint') return `${value}n`
  if (value instanceof Date) return `Date(${value.getTime()})`
  if (typeof value === 'object' && value !== null) return Array.isArray(value) ? 'an array' : 'an object'
  return String(value)
}
