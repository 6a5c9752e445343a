import { sha1Hex, utf8 } from './bytes.js'

/** DHT key of an immutable item: SHA-1 of `bencode(v)`, as 40 lower-case hex digits. */
export function immutableTarget(v: string | Uint8Array): string {
  const bytes = typeof v === 'string' ? utf8(v) : v
  return sha1Hex(utf8(`${bytes.length}:`), bytes)
}

/** DHT key of a mutable item: SHA-1 of the public key followed by the salt, as 40 hex digits. */
export function mutableTarget(publicKey: Uint8Array, salt?: Uint8Array): string {
  return salt && salt.length > 0 ? sha1Hex(publicKey, salt) : sha1Hex(publicKey)
}
