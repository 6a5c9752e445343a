import { type BencodeDict, type BencodeValue, bencodedLength, decodeBencode } from './bencode.js'

/** KRPC error codes (BEP 5, BEP 44) the Grape answers with. */
export const KRPC_ERROR = {
  /** Server error: the DHT failed on a query that passed the checks. */
  server: 202,
  /** Protocol error: a malformed packet, invalid arguments, or a bad token. */
  protocol: 203,
  /** BEP 44: the value (`v`) is too big. */
  tooLarge: 205,
} as const

/** Largest value a `put` may carry: bittorrent-dht's own limit (its byte length, or encoded length). */
export const MAX_STORED_VALUE_BYTES = 1000

const PROTO_KEY = Buffer.from('9:__proto__')
const NODE_ID_BYTES = 20
const PUBLIC_KEY_BYTES = 32
const SIGNATURE_BYTES = 64
const MAX_SALT_BYTES = 64

/** What to do with one incoming DHT datagram. */
export type KrpcVerdict =
  /**
   * Hand `message` (the decoded datagram) to bittorrent-dht. `t` is set for a query, so a failure
   * can still be answered.
   */
  | { ok: true; query: boolean; t: Buffer | undefined; message: BencodeDict }
  /** Refuse it: answer `reply` (a KRPC error to a query that can be answered), or drop it. */
  | { ok: false; reason: string; reply: KrpcErrorReply | undefined }

export interface KrpcErrorReply {
  t: Buffer
  code: number
  message: string
}

const pass = (message: BencodeDict, query: boolean, t?: Buffer): KrpcVerdict => ({
  ok: true,
  query,
  t,
  message,
})
const drop = (reason: string): KrpcVerdict => ({ ok: false, reason, reply: undefined })

/**
 * Checks one DHT datagram before bittorrent-dht sees it, so that nothing it receives can make it
 * throw: every field it reads has the type it assumes. Queries with a transaction id are answered
 * with a KRPC error naming the rule; anything else that is malformed is dropped. Never throws.
 */
export function checkKrpcMessage(datagram: Uint8Array): KrpcVerdict {
  let message: BencodeValue
  try {
    message = decodeBencode(datagram)
  } catch (err) {
    return drop(`not bencode (${err instanceof Error ? err.message : String(err)})`)
  }
  if (!isDict(message)) return drop('not a dictionary')
  const { t, y } = message
  const type = isBytes(y) ? y.toString() : undefined
  if (type !== 'q' && type !== 'r' && type !== 'e') return drop('`y` is not "q", "r" or "e"')
  if (!isBytes(t)) return drop('no transaction id `t`')
  // A key named __proto__ is written `9:__proto__`: without those bytes there is none to look for.
  if (bytesOf(datagram).includes(PROTO_KEY) && hasProtoKey(message)) {
    return type === 'q' ? refuse(t, 'a key named __proto__') : drop('a key named __proto__')
  }
  if (type === 'q') {
    const rule = queryRule(message)
    if (rule === undefined) return pass(message, true, t)
    return typeof rule === 'string'
      ? refuse(t, rule)
      : { ok: false, reason: rule.message, reply: { t, ...rule } }
  }
  const rule = type === 'r' ? responseRule(message.r) : errorRule(message.e)
  return rule === undefined ? pass(message, false) : drop(rule)
}

function refuse(t: Buffer, message: string): KrpcVerdict {
  return { ok: false, reason: message, reply: { t, code: KRPC_ERROR.protocol, message } }
}

/** The rule a query breaks: a message (answered 203), a code and message, or undefined when valid. */
function queryRule(message: BencodeDict): string | { code: number; message: string } | undefined {
  const { q, a } = message
  if (!isBytes(q)) return 'a query needs `q`, the method name'
  if (!isDict(a)) return 'a query needs `a`, a dictionary'
  if (!isBytes(a.id, NODE_ID_BYTES)) return 'a query needs `a.id`, a 20-byte node id'
  const method = q.toString()
  switch (method) {
    case 'find_node':
      return needsKey(a, 'target', method)
    case 'get_peers':
      return needsKey(a, 'info_hash', method)
    case 'get':
      return needsKey(a, 'target', method)
    case 'announce_peer':
      return needsKey(a, 'info_hash', method) ?? needsToken(a, method) ?? announcePortRule(a)
    case 'put':
      return needsToken(a, method) ?? putRule(a)
    default:
      // `ping`, and methods bittorrent-dht ignores (as the reference does).
      return undefined
  }
}

function needsKey(a: BencodeDict, field: string, method: string): string | undefined {
  const value = a[field]
  return isBytes(value) && value.length > 0
    ? undefined
    : `\`${method}\` needs \`a.${field}\`, a non-empty string`
}

function needsToken(a: BencodeDict, method: string): string | undefined {
  return isBytes(a.token) ? undefined : `\`${method}\` needs \`a.token\`, a string`
}

function announcePortRule(a: BencodeDict): string | undefined {
  const { implied_port: implied, port } = a
  if (implied !== undefined && !Number.isInteger(implied)) return '`a.implied_port` must be an integer'
  if (implied) return undefined
  return Number.isInteger(port) && (port as number) >= 1 && (port as number) <= 65535
    ? undefined
    : '`announce_peer` needs `a.port`, an integer from 1 to 65535, or `a.implied_port` 1'
}

function putRule(a: BencodeDict): string | { code: number; message: string } | undefined {
  const { v, k, sig, seq, salt, cas } = a
  if (v === undefined) return '`put` needs `a.v`'
  if (valueSize(v) > MAX_STORED_VALUE_BYTES) {
    return { code: KRPC_ERROR.tooLarge, message: 'data payload too large' }
  }
  if (k === undefined && sig === undefined) return undefined
  if (!isBytes(k, PUBLIC_KEY_BYTES)) return 'a mutable `put` needs `a.k`, a 32-byte public key'
  if (!isBytes(sig, SIGNATURE_BYTES)) return 'a mutable `put` needs `a.sig`, a 64-byte signature'
  if (typeof seq !== 'number') return 'a mutable `put` needs `a.seq`, an integer'
  if (salt !== undefined && !(isBytes(salt) && salt.length <= MAX_SALT_BYTES)) {
    return '`a.salt` must be a string of at most 64 bytes'
  }
  if (cas !== undefined && typeof cas !== 'number') return '`a.cas` must be an integer'
  return undefined
}

/** A value's size as held to the limit: a string's bytes, anything else's encoded length. */
export function valueSize(v: unknown): number {
  return v instanceof Uint8Array ? v.length : bencodedLength(v, MAX_STORED_VALUE_BYTES)
}

/** What bittorrent-dht and k-rpc read from a response (`y: "r"`). */
function responseRule(r: BencodeValue | undefined): string | undefined {
  if (!isDict(r)) return 'a response needs `r`, a dictionary'
  for (const field of ['id', 'nodes', 'token', 'k', 'sig'] as const) {
    if (r[field] !== undefined && !isBytes(r[field])) return `\`r.${field}\` must be a string`
  }
  if (r.values !== undefined && !(Array.isArray(r.values) && r.values.every((peer) => isBytes(peer)))) {
    return '`r.values` must be a list of strings'
  }
  if (r.seq !== undefined && typeof r.seq !== 'number') return '`r.seq` must be an integer'
  return undefined
}

/** k-rpc-socket joins the items of `e` into a message. */
function errorRule(e: BencodeValue | undefined): string | undefined {
  const valid = Array.isArray(e) && e.every((item) => typeof item === 'number' || isBytes(item))
  return valid ? undefined : 'an error needs `e`, a list of integers and strings'
}

function bytesOf(data: Uint8Array): Buffer {
  return Buffer.isBuffer(data) ? data : Buffer.from(data.buffer, data.byteOffset, data.byteLength)
}

function isBytes(value: BencodeValue | undefined, length?: number): value is Buffer {
  return Buffer.isBuffer(value) && (length === undefined || value.length === length)
}

function isDict(value: BencodeValue | undefined): value is BencodeDict {
  return typeof value === 'object' && value !== null && !Array.isArray(value) && !Buffer.isBuffer(value)
}

/**
 * k-rpc-socket's decoder assigns keys to a plain object, so a key named `__proto__` would replace
 * the prototype of the object that bittorrent-dht reads, and nothing here would describe it.
 */
function hasProtoKey(value: BencodeValue): boolean {
  if (Array.isArray(value)) return value.some(hasProtoKey)
  if (!isDict(value)) return false
  if (Object.hasOwn(value, '__proto__')) return true
  return Object.values(value).some(hasProtoKey)
}
