import type { ByteReader } from '../state/byte-reader.js'
import type { StateCodec } from '../state/types.js'
import { fnv1a } from './leaf-store.js'

/** A snapshot entry with the FNV-1a of its encoded key and leaf (what the digest sums). */
export type HashedEntry<K, L> = [key: K, leaf: L, hash: number]

/**
 * Decodes a codec snapshot (seq, u32 count, entries) keeping each entry's hash, taken from the
 * bytes it was decoded from: installing it then needs no second encode. The same checks as the
 * codec's `decodeSnapshot` (a count the bytes left cannot hold is refused before allocating).
 */
export function decodeHashedSnapshot<K, L>(
  codec: StateCodec<K, L, unknown>,
  r: ByteReader,
): { seq: number; entries: Array<HashedEntry<K, L>> } {
  const seq = r.uvarint()
  const count = r.u32()
  if (count > r.remaining) r.fail(`truncated: ${count} entries in ${r.remaining} bytes`)
  const entries = new Array<HashedEntry<K, L>>(count)
  for (let i = 0; i < count; i++) {
    const start = r.pos
    const key = codec.decodeKey(r)
    const leaf = codec.decodeLeaf(r)
    entries[i] = [key, leaf, fnv1a(r.buf, r.pos, start)]
  }
  return { seq, entries }
}
