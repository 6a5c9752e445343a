import type { ByteReader } from '../state/byte-reader.js'
import type { StateCodec } from '../state/types.js'
import { fnv1a } from './leaf-store.js'

/**
 * Decodes a codec snapshot (seq, u32 count, entries), handing each entry over with the FNV-1a of
 * the bytes it was decoded from (what the digest sums): installing it then needs no second
 * encode, and no array of entries is built. The same checks as the codec's `decodeSnapshot` (a
 * count the bytes left cannot hold is refused before anything is read).
 */
export function decodeHashedSnapshot<K, L>(
  codec: StateCodec<K, L, unknown>,
  r: ByteReader,
  entry: (key: K, leaf: L, hash: number) => void,
): { seq: number; count: number } {
  const seq = r.uvarint()
  const count = r.u32()
  if (count > r.remaining) r.fail(`truncated: ${count} entries in ${r.remaining} bytes`)
  for (let i = 0; i < count; i++) {
    const start = r.pos
    const key = codec.decodeKey(r)
    const leaf = codec.decodeLeaf(r)
    entry(key, leaf, fnv1a(r.buf, r.pos, start))
  }
  return { seq, count }
}
