import type { ByteReader } from '../state/byte-reader.js'
import type { StateCodec } from '../state/types.js'
import { fnv1a, type SnapshotTarget } from './leaf-store.js'

/**
 * Reads a codec snapshot (seq, u32 count, entries) into `target`: as bytes when it takes them
 * (`fillEncoded`), else each entry decoded and handed over with the FNV-1a of the bytes it came
 * from (what the digest sums), so that installing needs no second encode. The same checks as the
 * codec's `decodeSnapshot` (a count the bytes left cannot hold is refused before anything is read).
 * `fresh` is false when a key came twice (the target holds one of them).
 */
export function fillSnapshot<K, L>(
  codec: StateCodec<K, L, unknown>,
  r: ByteReader,
  target: SnapshotTarget<K, L>,
): { seq: number; count: number; fresh: boolean } {
  const seq = r.uvarint()
  const count = r.u32()
  if (count > r.remaining) r.fail(`truncated: ${count} entries in ${r.remaining} bytes`)
  if (target.fillEncoded) return { seq, count, fresh: target.fillEncoded(r, count) }
  let fresh = true
  for (let i = 0; i < count; i++) {
    const start = r.pos
    const key = codec.decodeKey(r)
    const leaf = codec.decodeLeaf(r)
    if (!target.fill(key, leaf, fnv1a(r.buf, r.pos, start))) fresh = false
  }
  return { seq, count, fresh }
}
