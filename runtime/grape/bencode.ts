import { GrenacheError } from '../errors.js'

/**
 * A decoded bencode value, shaped as the decoder inside k-rpc-socket shapes it (so a message that
 * decodes here reaches bittorrent-dht with the same structure): byte strings as `Buffer`s,
 * integers as numbers, lists as arrays, dictionaries as objects keyed by the UTF-8 text of the key.
 */
export type BencodeValue = Buffer | number | BencodeValue[] | BencodeDict

/** A decoded dictionary. Its prototype is `null`, so a key named `__proto__` is an ordinary key. */
export interface BencodeDict {
  [key: string]: BencodeValue
}

/** What `encodeBencode` takes: a decoded value, or the same built with strings (written as UTF-8). */
export type BencodeInput =
  | Uint8Array
  | string
  | number
  | readonly BencodeInput[]
  | { readonly [key: string]: BencodeInput }

/** Nesting a decoded value may have. A 999-byte BEP 44 value can nest about 500 lists deep. */
export const MAX_BENCODE_DEPTH = 512

const I = 0x69
const L = 0x6c
const D = 0x64
const E = 0x65
const COLON = 0x3a
const MINUS = 0x2d

/**
 * Decodes one bencoded value that fills `bytes` exactly. Canonical integers only (no `+`, no
 * leading zeros, no `-0`), each a safe integer; dictionary keys are byte strings (their order is
 * not checked, and a repeated key keeps its last value, as k-rpc-socket's decoder does).
 * Throws `ERR_DECODE` naming the byte at fault; never anything else.
 */
export function decodeBencode(bytes: Uint8Array, maxDepth = MAX_BENCODE_DEPTH): BencodeValue {
  const data = Buffer.isBuffer(bytes) ? bytes : Buffer.from(bytes.buffer, bytes.byteOffset, bytes.byteLength)
  const reader = new Reader(data, maxDepth)
  const value = reader.value(0)
  if (reader.pos !== data.length) reader.fail('trailing bytes after the value')
  return value
}

class Reader {
  pos = 0
  constructor(
    readonly data: Buffer,
    readonly maxDepth: number,
  ) {}

  fail(rule: string): never {
    throw new GrenacheError('ERR_DECODE', `bencode: ${rule} at byte ${this.pos}`)
  }

  value(depth: number): BencodeValue {
    if (depth > this.maxDepth) this.fail(`nesting deeper than ${this.maxDepth}`)
    const byte = this.data[this.pos]
    if (byte === I) {
      this.pos++
      const n = this.integer(E)
      this.pos++
      return n
    }
    if (byte === L) {
      this.pos++
      const list: BencodeValue[] = []
      while (this.data[this.pos] !== E) {
        if (this.pos >= this.data.length) this.fail('unterminated list')
        list.push(this.value(depth + 1))
      }
      this.pos++
      return list
    }
    if (byte === D) {
      this.pos++
      const dict: BencodeDict = Object.create(null)
      while (this.data[this.pos] !== E) {
        if (this.pos >= this.data.length) this.fail('unterminated dictionary')
        if (!isDigit(this.data[this.pos])) this.fail('a dictionary key that is not a string')
        const key = this.key()
        if (this.pos >= this.data.length) this.fail(`no value for key "${key.slice(0, 32)}"`)
        dict[key] = this.value(depth + 1)
      }
      this.pos++
      return dict
    }
    if (isDigit(byte)) return this.string()
    return this.fail(byte === undefined ? 'no value' : `unexpected byte 0x${byte.toString(16)}`)
  }

  string(): Buffer {
    const start = this.stringStart()
    return this.data.subarray(start, this.pos)
  }

  /** A dictionary key, as its UTF-8 text (without a Buffer in between: every datagram has many). */
  key(): string {
    const start = this.stringStart()
    return this.data.toString('utf8', start, this.pos)
  }

  /** Reads a string's length and skips its bytes; returns where they start. */
  stringStart(): number {
    const length = this.integer(COLON)
    if (length < 0) this.fail('a negative string length')
    const start = this.pos + 1
    if (start + length > this.data.length) this.fail(`a string of ${length} bytes past the end`)
    this.pos = start + length
    return start
  }

  /**
   * A canonical decimal integer ending at `end`; leaves `pos` on `end`. The common case (at most
   * 15 digits, always a safe integer) is read byte by byte; anything else goes the strict way,
   * which also names what is wrong.
   */
  integer(end: number): number {
    const data = this.data
    let i = this.pos
    const negative = data[i] === MINUS
    if (negative) i++
    const first = i
    let n = 0
    for (let byte = data[i]; byte !== undefined && byte >= 0x30 && byte <= 0x39; byte = data[++i]) {
      n = n * 10 + byte - 0x30
    }
    const digits = i - first
    const canonical = data[first] !== 0x30 || (digits === 1 && !negative)
    if (data[i] === end && digits > 0 && digits <= 15 && canonical) {
      this.pos = i
      return negative ? -n : n
    }
    return this.strictInteger(end)
  }

  strictInteger(end: number): number {
    const data = this.data
    const start = this.pos
    const stop = data.indexOf(end, start)
    if (stop < 0) this.fail(end === E ? 'unterminated integer' : 'a string length without ":"')
    const text = data.toString('latin1', start, stop)
    if (!/^(0|-?[1-9][0-9]*)$/.test(text)) this.fail(`"${text.slice(0, 24)}" is not a canonical integer`)
    const n = Number(text)
    if (!Number.isSafeInteger(n)) this.fail(`${text.slice(0, 24)} is not a safe integer`)
    this.pos = stop
    return n
  }
}

function isDigit(byte: number | undefined): boolean {
  return byte !== undefined && byte >= 0x30 && byte <= 0x39
}

/**
 * Encodes byte strings (`Uint8Array`, or a `string` as UTF-8), safe integers, lists and
 * dictionaries (keys sorted by their bytes). Throws `ERR_ENCODE` on anything else.
 */
export function encodeBencode(value: BencodeInput): Buffer {
  const parts: Buffer[] = []
  encodeInto(parts, value, 0)
  return Buffer.concat(parts)
}

function encodeInto(parts: Buffer[], value: unknown, depth: number): void {
  if (depth > MAX_BENCODE_DEPTH) throw new GrenacheError('ERR_ENCODE', 'bencode: nested too deep')
  if (typeof value === 'string') value = Buffer.from(value)
  if (value instanceof Uint8Array) {
    parts.push(Buffer.from(`${value.length}:`), Buffer.from(value.buffer, value.byteOffset, value.byteLength))
  } else if (typeof value === 'number') {
    if (!Number.isSafeInteger(value))
      throw new GrenacheError('ERR_ENCODE', `bencode: ${value} is not an integer`)
    parts.push(Buffer.from(`i${value}e`))
  } else if (Array.isArray(value)) {
    parts.push(Buffer.from('l'))
    for (const item of value) encodeInto(parts, item, depth + 1)
    parts.push(Buffer.from('e'))
  } else if (typeof value === 'object' && value !== null) {
    parts.push(Buffer.from('d'))
    const entries = Object.entries(value).map(([key, item]) => [Buffer.from(key), item] as const)
    entries.sort((a, b) => Buffer.compare(a[0], b[0]))
    for (const [key, item] of entries) {
      encodeInto(parts, key, depth + 1)
      encodeInto(parts, item, depth + 1)
    }
    parts.push(Buffer.from('e'))
  } else {
    throw new GrenacheError(
      'ERR_ENCODE',
      `bencode: cannot encode a ${value === null ? 'null' : typeof value}`,
    )
  }
}

/**
 * The length of `value` bencoded as bittorrent-dht bencodes what it stores: strings as UTF-8,
 * booleans as 0 or 1, a `null` in a list or dictionary left out, fractions cut to integers. Counting
 * stops once past `stopAfter`, so a deep or huge value costs no more than the limit it is held to.
 */
export function bencodedLength(value: unknown, stopAfter = Number.POSITIVE_INFINITY): number {
  let total = 0
  const visit = (v: unknown): void => {
    if (total > stopAfter || v === null || v === undefined) return
    if (typeof v === 'string') total += withLength(Buffer.byteLength(v))
    else if (v instanceof Uint8Array) total += withLength(v.length)
    else if (typeof v === 'boolean') total += 3
    else if (typeof v === 'number') total += integerText(v).length + 2
    else if (Array.isArray(v)) {
      total += 2
      for (let i = 0; i < v.length && total <= stopAfter; i++) visit(v[i])
    } else if (typeof v === 'object') {
      total += 2
      for (const key in v) {
        if (total > stopAfter) return
        const item = (v as Record<string, unknown>)[key]
        if (item === null || item === undefined || !Object.hasOwn(v, key)) continue
        total += withLength(Buffer.byteLength(key))
        visit(item)
      }
    }
  }
  visit(value)
  return total
}

const withLength = (bytes: number): number => String(bytes).length + 1 + bytes

/** The digits bencode 4 writes for a number, fractions and all. */
function integerText(n: number): string {
  if (Number.isInteger(n)) return BigInt(n).toString()
  if (!Number.isFinite(n)) return '0'
  const high = 0x80000000
  return String(((n / high) << 0) * high + ((n % high) << 0))
}
