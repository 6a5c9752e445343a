import { fromHex, utf8 } from '../bep44/bytes.js'
import { verifySignature } from '../bep44/ed25519.js'
import { encodeSignedData } from '../bep44/signed-data.js'
import { immutableTarget, mutableTarget } from '../bep44/targets.js'
import { GrenacheError } from '../errors.js'

/** A DHT item as a Grape returns it. */
export interface DhtItem {
  /** The value, as UTF-8 text (Grapes decode values as UTF-8). */
  v: string
  /** Hex id of the DHT node that answered. */
  id: string
  /** Hex write token of that node; null when the Grape answered from its own store. */
  token: string | null
  /** Mutable items: hex public key. */
  k?: string
  /** Mutable items: hex signature. */
  sig?: string
  /** Mutable items: sequence number. */
  seq?: number
  /** Mutable items: the salt the item was read with. */
  salt?: string
}

/**
 * A salt as a Grape must receive it to use exactly `bytes`: Grapes read a string as JSON first
 * (`"[104,105]"` is the two bytes `hi`; a reference Grape even turns `{"length":9}` into nine zero
 * bytes), so a salt that is valid JSON, or is not UTF-8, is sent as a JSON byte array, which every
 * Grape turns back into the same bytes.
 */
export function saltForGrape(bytes: Uint8Array): string {
  const text = Buffer.from(bytes).toString()
  if (Buffer.from(text).equals(bytes) && !isJson(text)) return text
  return JSON.stringify([...bytes])
}

function isJson(text: string): boolean {
  try {
    JSON.parse(text)
    return true
  } catch {
    return false
  }
}

/** Salt bytes from the caller's string (UTF-8) or bytes. */
export function saltBytes(salt: string | Uint8Array | undefined): Uint8Array | undefined {
  if (salt === undefined) return undefined
  return typeof salt === 'string' ? utf8(salt) : salt
}

/** Why an item failed verification: its value or key does not hash to the key, or its signature is bad. */
export interface ItemProblem {
  kind: 'hash' | 'signature'
  why: string
}

/**
 * Checks what a Grape returned for `hash` (BEP 44: a requester must): the value's hash for an
 * immutable item; the key, salt and signature for a mutable one. Undefined when it is sound.
 */
export function itemProblem(
  hash: string,
  item: DhtItem,
  salt: Uint8Array | undefined,
): ItemProblem | undefined {
  const hashProblem = (why: string): ItemProblem => ({ kind: 'hash', why })
  if (typeof item.v !== 'string') return hashProblem('the value is missing')
  if (item.k === undefined && item.sig === undefined) {
    return immutableTarget(item.v) === hash ? undefined : hashProblem('the value does not hash to the key')
  }
  const publicKey = fromHex(item.k, 32)
  if (!publicKey) return hashProblem('the public key is not 32 bytes of hex')
  const signature = fromHex(item.sig, 64)
  if (!signature) return { kind: 'signature', why: 'the signature is not 64 bytes of hex' }
  const seq = item.seq
  if (typeof seq !== 'number' || !Number.isSafeInteger(seq) || seq < 0)
    return { kind: 'signature', why: 'the seq is not an integer' }
  if (mutableTarget(publicKey, salt) !== hash)
    return hashProblem('the public key and salt do not hash to the key (a salted item needs its salt)')
  const signed = encodeSignedData({ v: utf8(item.v), seq, salt })
  if (!verifySignature(signature, signed, publicKey))
    return { kind: 'signature', why: 'the signature does not verify' }
  return undefined
}

/** `itemProblem`, thrown as `ERR_ITEM_INVALID`. */
export function verifyItem(hash: string, item: DhtItem, salt: Uint8Array | undefined): void {
  const problem = itemProblem(hash, item, salt)
  if (problem) throw new GrenacheError('ERR_ITEM_INVALID', `item ${hash}: ${problem.why}`)
}

let lastSeq = 0

/** A default seq: microseconds since the epoch (as grenache-cli), strictly increasing in this process. */
export function nextSeq(): number {
  lastSeq = Math.max(lastSeq + 1, Date.now() * 1000)
  return lastSeq
}
