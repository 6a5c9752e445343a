import { concatBytes, utf8 } from './bytes.js'

/** The fields of a mutable item that its signature covers (BEP 44). */
export interface SignedFields {
  /** The value's bytes (a string value is signed as its UTF-8 bytes). */
  v: Uint8Array
  /** Sequence number, a non-negative safe integer. */
  seq: number
  /** Salt bytes; an empty or absent salt is not part of the signed bytes. */
  salt?: Uint8Array | undefined
}

/**
 * The bytes a mutable item's signature covers: the bencoded dictionary `{salt?, seq, v}` without
 * its outer `d`…`e`, i.e. `4:salt<n>:<salt>3:seqi<seq>e1:v<n>:<v>`.
 */
export function encodeSignedData(fields: SignedFields): Uint8Array {
  const parts: Uint8Array[] = []
  if (fields.salt && fields.salt.length > 0) parts.push(utf8(`4:salt${fields.salt.length}:`), fields.salt)
  parts.push(utf8(`3:seqi${fields.seq}e1:v${fields.v.length}:`), fields.v)
  return concatBytes(parts)
}
