import { patchLeaf } from '../state/apply.js'
import type { ByteWriter } from '../state/byte-writer.js'
import type { Delta, StateCodec } from '../state/types.js'
import { fnv1a, type SnapshotTarget } from './leaf-store.js'
import { MapView } from './leaves-view.js'

/**
 * A replica's leaves and their digest (the same sum of FNV-1a hashes as `LeafStore`'s), kept as a
 * plain Map of leaves: no per-key slot with the hash. A join fills 100k leaves about 30% faster
 * (one object less per leaf for the young generation to copy into the old one), and the store
 * holds a third fewer objects; the price is one encode of the leaf a delta replaces, to take its
 * hash out of the digest. The publisher, whose CPU bounds the feed's rate, keeps `LeafStore`.
 */
export class ReplicaStore<K, L, P> implements SnapshotTarget<K, L> {
  #leaves = new Map<K, L>()
  /** The leaves, read-only; the same object for the store's whole life, even across `swap()`. */
  readonly leaves: ReadonlyMap<K, L> = new MapView(() => this.#leaves)
  readonly #codec: StateCodec<K, L, P>
  readonly #scratch: ByteWriter
  #digest = 0

  constructor(codec: StateCodec<K, L, P>, scratch: ByteWriter) {
    this.#codec = codec
    this.#scratch = scratch
  }

  get digest(): number {
    return this.#digest >>> 0
  }

  get size(): number {
    return this.#leaves.size
  }

  /**
   * Applies one delta; returns the leaf before it (undefined when there was none). `encoded`, for
   * an upsert, is where its key and leaf were just decoded (the delta's bytes after the op byte).
   */
  apply(delta: Delta<K, L, P>, encoded?: { bytes: Uint8Array; start: number; end: number }): L | undefined {
    switch (delta.op) {
      case 'upsert': {
        const hash = encoded
          ? fnv1a(encoded.bytes, encoded.end, encoded.start)
          : this.#encodedHash(delta.key, delta.leaf)
        const before = this.#leaves.get(delta.key)
        const out = before === undefined ? 0 : this.#encodedHash(delta.key, before)
        this.#leaves.set(delta.key, delta.leaf)
        this.#digest = (this.#digest - out + hash) | 0
        return before
      }
      case 'patch': {
        const before = this.#leaves.get(delta.key)
        if (before === undefined) return undefined
        const leaf = patchLeaf(before, delta.fields)
        const out = this.#encodedHash(delta.key, before)
        this.#digest = (this.#digest - out + this.#encodedHash(delta.key, leaf)) | 0
        this.#leaves.set(delta.key, leaf)
        return before
      }
      case 'delete': {
        const before = this.#leaves.get(delta.key)
        if (before === undefined) return undefined
        this.#leaves.delete(delta.key)
        this.#digest = (this.#digest - this.#encodedHash(delta.key, before)) | 0
        return before
      }
      case 'clear':
        this.clear()
        return undefined
    }
  }

  /**
   * Adds one entry of a snapshot being filled in: one map write. False when `key` was there
   * already (a snapshot with a key twice is broken: its count and digest will not match).
   */
  fill(key: K, leaf: L, hash: number): boolean {
    const size = this.#leaves.size
    this.#leaves.set(key, leaf)
    this.#digest = (this.#digest + hash) | 0
    return this.#leaves.size !== size
  }

  get(key: K): L | undefined {
    return this.#leaves.get(key)
  }

  has(key: K): boolean {
    return this.#leaves.has(key)
  }

  /** Trades contents with `other` (a snapshot cut filled there as its parts came): O(1). */
  swap(other: ReplicaStore<K, L, P>): void {
    const leaves = this.#leaves
    const digest = this.#digest
    this.#leaves = other.#leaves
    this.#digest = other.#digest
    other.#leaves = leaves
    other.#digest = digest
  }

  clear(): void {
    this.#leaves.clear()
    this.#digest = 0
  }

  #encodedHash(key: K, leaf: L): number {
    const w = this.#scratch
    w.reset()
    this.#codec.encodeKey(key, w)
    this.#codec.encodeLeaf(leaf, w)
    return fnv1a(w.buf, w.pos)
  }
}
