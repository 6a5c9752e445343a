import type { DhtGetOptions, DhtItem, DhtPutOptions } from 'bittorrent-dht'
import { encodeSignedData } from '../bep44/signed-data.js'
import { bencodedLength } from './bencode.js'
import type { VerifyFunction } from './grape-options.js'

/**
 * Why a put or get cannot go to the DHT: the HTTP status and the message the reference Grape
 * answers with (200 plus a JSON string for argument errors).
 */
export interface ItemRejection {
  status: number
  message: string
}

/** The reference answers 500 (a TypeError's text) where a field has an impossible type; we name it. */
const PAYLOAD_INVALID: ItemRejection = { status: 500, message: 'ERR_GRAPE_PAYLOAD_INVALID' }
const reject = (message: string): ItemRejection => ({ status: 200, message })

/**
 * Largest value, in bytes, a DHT put accepts (bittorrent-dht requires `v.length < 1000`): a string's
 * UTF-8 bytes, or the bencoded length of a number, list or dictionary.
 */
export const MAX_VALUE_BYTES = 999
/** Largest salt, in bytes (BEP 44). */
export const MAX_SALT_BYTES = 64

/**
 * The reference Grape's conversion of `k`, `sig` and `salt`: a string is first read as JSON
 * (so `"[104,105]"` is the two bytes `hi`), and only when that fails decoded as `fallback`.
 * Kept exactly, so that items put through either Grape land under the same key.
 */
export function grapeBytes(value: string, fallback: 'hex' | 'utf8'): Buffer {
  const bytes = jsonBytes(value)
  return bytes ?? Buffer.from(value, fallback)
}

/**
 * The bytes `Buffer.from(JSON.parse(text))` gives, for what can only be as long as the text: a
 * string, an array, or `{type: 'Buffer', data: [...]}`. Anything else counts as not JSON bytes, so
 * that `{"length": 500000000}` cannot make a 60-byte request allocate half a gigabyte.
 */
function jsonBytes(text: string): Buffer | undefined {
  let parsed: unknown
  try {
    parsed = JSON.parse(text)
  } catch {
    return undefined
  }
  if (typeof parsed === 'string') return Buffer.from(parsed)
  if (Array.isArray(parsed)) return Buffer.from(parsed)
  if (typeof parsed === 'object' && parsed !== null) {
    const { type, data } = parsed as { type?: unknown; data?: unknown }
    if (type === 'Buffer' && Array.isArray(data)) return Buffer.from(data)
  }
  return undefined
}

/** Turns the `data` of a `/put` into DHT put options, or the reference's rejection. */
export function decodePut(data: unknown, verify: VerifyFunction | null): DhtPutOptions | ItemRejection {
  if (data === undefined || data === null) return PAYLOAD_INVALID
  if (typeof data === 'string') data = { v: data }
  if (typeof data !== 'object' || Array.isArray(data)) return reject('opts.v not given')
  const input = data as Record<string, unknown>
  const { v, k, sig, salt, seq, cas } = input
  if (v === undefined) return reject('opts.v not given')
  if (typeof v !== 'string') {
    // The reference bencodes a JSON number, list or dictionary as it is (and reads it back as
    // text); bittorrent-dht refuses what it cannot encode, with its own message.
    if (k || v === null || typeof v === 'boolean') return PAYLOAD_INVALID
    // bittorrent-dht checks only `v.length`: none for a dictionary, the item count for a list.
    // The limit holds for what is stored, whatever the type: the value bencoded.
    const stored = asStored(v)
    if (bencodedLength(stored, MAX_VALUE_BYTES) > MAX_VALUE_BYTES)
      return reject('v must be less than 1000 bytes in put()')
    return { v: stored as DhtPutOptions['v'] }
  }
  if (Buffer.byteLength(v) > MAX_VALUE_BYTES) return reject('v must be less than 1000 bytes in put()')
  if (!k) return { v }

  if (typeof k !== 'string' || (sig && typeof sig !== 'string') || (salt && typeof salt !== 'string')) {
    return PAYLOAD_INVALID
  }
  if (cas !== undefined && !isSeq(cas)) return reject('opts.cas must be an integer if provided')
  const key = grapeBytes(k, 'hex')
  if (key.length !== 32) return reject('opts.k ed25519 public key must be 32 bytes')
  if (!sig) return reject('opts.sign function or options.sig signature is required for mutable put')
  const saltBytes = salt ? grapeBytes(salt as string, 'utf8') : undefined
  if (saltBytes && saltBytes.length > MAX_SALT_BYTES) return reject('opts.salt is > 64 bytes long')
  if (seq === undefined) return reject('opts.seq not provided for a mutable update')
  if (!isSeq(seq)) return reject('opts.seq not an integer')
  const signature = grapeBytes(sig as string, 'hex')
  const value = Buffer.from(v)
  // Storing nodes drop a bad signature without a word, so the reference answers "All queries
  // failed" after a 2 s timeout. Checking it here answers at once (BEP 44 error 206).
  if (verify && !verify(signature, encodeSignedData({ v: value, seq, salt: saltBytes }), key)) {
    return reject('206 invalid signature')
  }
  const put: DhtPutOptions = { v: value, k: key, sig: signature, seq }
  if (saltBytes && saltBytes.length > 0) put.salt = saltBytes
  if (cas !== undefined) put.cas = cas as number
  return put
}

/** A decoded `/get`: the 20-byte target and the DHT get options. */
export interface GetRequest {
  hash: Buffer
  options: DhtGetOptions
}

/** Turns the `data` of a `/get` (a hex string or `{hash, salt?, cache?}`) into a DHT get. */
export function decodeGet(data: unknown): GetRequest | ItemRejection {
  if (data === undefined || data === null) return PAYLOAD_INVALID
  if (typeof data === 'string') return withHash(targetFromString(data), {})
  if (typeof data !== 'object' || Array.isArray(data)) return reject('ERR_GRAPE_GENERIC')
  const { hash, salt, cache } = data as Record<string, unknown>
  if (typeof hash !== 'string') return reject('ERR_GRAPE_GENERIC')
  if (salt && typeof salt !== 'string') return PAYLOAD_INVALID
  const options: DhtGetOptions = {}
  if (salt) options.salt = grapeBytes(salt as string, 'utf8')
  if (cache === false) options.cache = false
  return withHash(/^[0-9a-fA-F]{40}$/.test(hash) ? Buffer.from(hash, 'hex') : undefined, options)
}

function withHash(hash: Buffer | undefined, options: DhtGetOptions): GetRequest | ItemRejection {
  // The reference decodes any string and crashes on the second empty key; a target is 20 bytes.
  if (hash?.length !== 20) return reject('ERR_GRAPE_HASH_FORMAT')
  return { hash, options }
}

function targetFromString(text: string): Buffer | undefined {
  return jsonBytes(text) ?? (/^[0-9a-fA-F]{40}$/.test(text) ? Buffer.from(text, 'hex') : undefined)
}

/**
 * The JSON answer to a `/get`, in the reference's shape and key order: byte fields as hex, `v`
 * as a UTF-8 string, `salt` as a string, other fields as they came.
 */
export function encodeItem(item: DhtItem): Record<string, unknown> {
  const out: Record<string, unknown> = {}
  for (const [name, value] of Object.entries(item)) {
    if (name === 'v' || name === 'salt')
      out[name] = value instanceof Uint8Array ? Buffer.from(value).toString() : value
    else if (name === 'id' || name === 'k' || name === 'sig' || name === 'token') {
      out[name] = value instanceof Uint8Array ? Buffer.from(value).toString('hex') : value
    } else out[name] = value
  }
  return out
}

/**
 * The integer bittorrent-dht's bencode writes for a number: fractions cut, and past 2^62 wrapped.
 * The reference stores a JSON number that way, so we store the same bytes under the same key.
 */
export function storedNumber(n: number): number {
  const high = 0x80000000
  return ((n / high) << 0) * high + ((n % high) << 0)
}

/**
 * `v` with every number already as bencode stores it (copying only what changes), so that the
 * encoder converts nothing: when it does, bencode prints a warning and a stack trace on the Grape's
 * stderr (found by the fuzz of the API), which must stay quiet without NODE_DEBUG.
 */
function asStored(v: unknown): unknown {
  if (typeof v === 'number') return storedNumber(v)
  if (typeof v !== 'object' || v === null) return v
  let copy: unknown[] | Record<string, unknown> | undefined
  const source = v as Record<string, unknown>
  for (const key of Object.keys(source)) {
    const item = source[key]
    const stored = asStored(item)
    if (stored === item) continue
    // A null prototype keeps a key named `__proto__` an own key, as JSON.parse made it.
    copy ??= Array.isArray(v) ? [...v] : Object.assign(Object.create(null) as Record<string, unknown>, source)
    ;(copy as Record<string, unknown>)[key] = stored
  }
  return copy ?? v
}

function isSeq(value: unknown): value is number {
  return typeof value === 'number' && Number.isSafeInteger(value) && value >= 0
}

export function isRejection(value: object): value is ItemRejection {
  return 'status' in value && 'message' in value
}
