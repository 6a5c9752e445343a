import { patchLeaf } from '../state/apply.js'
import { ByteReader } from '../state/byte-reader.js'
import type { ByteWriter } from '../state/byte-writer.js'
import type { Delta, StateCodec } from '../state/types.js'
import type { EntryDecoder } from './entry-bytes.js'
import { KeyTable, type TableKey } from './key-table.js'
import { entryHash, fnv1a, type SnapshotTarget } from './leaf-store.js'
import { MapView } from './leaves-view.js'

/** A snapshot's own leaf count is trusted for sizing only up to this (a forged one costs no more). */
const MAX_RESERVE = 1 << 20

/**
 * A replica's leaves and their digest (the same sum of FNV-1a hashes as `LeafStore`'s), in a
 * `KeyTable`: each entry's tag is its leaf's hash, so no object is made per leaf beyond the leaf
 * itself, and a store filled from a snapshot is sized for it up front (see `KeyTable` for why not
 * a `Map`). A snapshot's entries stay encoded (`fillEncoded`) until they are read or changed.
 */
export class ReplicaStore<K, L, P> implements SnapshotTarget<K, L> {
  #table: KeyTable<TableKey, L>
  /** The leaves, read-only; the same object for the store's whole life, even across `swap()`. */
  readonly leaves: ReadonlyMap<K, L> = new MapView(() => this.#table as unknown as ReadonlyMap<K, L>)
  readonly #codec: StateCodec<K, L, P>
  readonly #scratch: ByteWriter
  readonly #decoder: EntryDecoder<L>
  #digest = 0

  /** `expected`: how many leaves it will hold (a snapshot's count), to size it once. */
  constructor(codec: StateCodec<K, L, P>, scratch: ByteWriter, expected = 0) {
    this.#codec = codec
    this.#scratch = scratch
    // Entries were checked when they were filled in: this decode does not throw.
    this.#decoder = { leaf: (bytes, start) => codec.decodeLeaf(new ByteReader(bytes, start)) }
    this.#table = sizedFor(expected, this.#decoder)
  }

  /** Sizes an empty store for `leaves` entries (a snapshot's count); does nothing once filled. */
  reserve(leaves: number): void {
    if (this.#table.size === 0) this.#table = sizedFor(leaves, this.#decoder)
  }

  get digest(): number {
    return this.#digest >>> 0
  }

  get size(): number {
    return this.#table.size
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
          : entryHash(this.#codec, this.#scratch, delta.key, delta.leaf)
        return this.#put(delta.key as TableKey, delta.leaf, hash)
      }
      case 'patch': {
        const table = this.#table
        const entry = table.find(delta.key as TableKey)
        if (entry < 0) return undefined
        const leaf = patchLeaf(table.valueAt(entry), delta.fields)
        return this.#replace(entry, leaf, entryHash(this.#codec, this.#scratch, delta.key, leaf))
      }
      case 'delete': {
        const table = this.#table
        const entry = table.find(delta.key as TableKey)
        if (entry < 0) return undefined
        const before = table.valueAt(entry)
        this.#digest = (this.#digest - table.tagAt(entry)) | 0
        table.deleteAt(entry)
        return before
      }
      case 'clear':
        this.clear()
        return undefined
    }
  }

  /**
   * Adds one entry of a snapshot being filled in. False when `key` was there already (a snapshot
   * with a key twice is broken: its count and digest will not match).
   */
  fill(key: K, leaf: L, hash: number): boolean {
    if (!this.#table.add(key as TableKey, leaf, hash)) return false
    this.#digest = (this.#digest + hash) | 0
    return true
  }

  /**
   * Adds the `count` entries of a codec snapshot at `r` (each key and leaf, as `encodeSnapshot`
   * writes them), checked by decoding them but kept as their bytes: a leaf is decoded again when
   * first read, an ASCII key made a string when first iterated. False when a key was there already
   * (as `fill`). Throws `ERR_DECODE` for a broken entry; the ones before it stay.
   */
  fillEncoded(r: ByteReader, count: number): boolean {
    const codec = this.#codec
    const table = this.#table
    const bytes = r.buf
    // Copied before they are read (one copy per part), then what no entry took is given back, even
    // when an entry is broken: forged parts cannot grow the bytes past the entries they bring.
    const shift = table.addBytes(bytes, r.pos, r.end) - r.pos
    let kept = r.pos
    let fresh = true
    try {
      for (let i = 0; i < count; i++) {
        const start = r.pos
        const key = codec.decodeKey(r) as TableKey
        const leafAt = r.pos
        codec.decodeLeaf(r)
        const hash = fnv1a(bytes, r.pos, start)
        const chars = typeof key === 'string' ? asciiAt(bytes, start, leafAt, key) : -1
        if (table.addEncoded(key, chars < 0 ? -1 : chars + shift, leafAt + shift, hash)) {
          this.#digest = (this.#digest + hash) | 0
        } else fresh = false
        kept = r.pos
      }
    } finally {
      table.dropBytes(r.end - kept)
    }
    return fresh
  }

  /** Bytes held for entries filled by `fillEncoded` (until the store is cleared). */
  get encodedBytes(): number {
    return this.#table.encodedBytes
  }

  get(key: K): L | undefined {
    return this.#table.get(key as TableKey)
  }

  has(key: K): boolean {
    return this.#table.has(key as TableKey)
  }

  /** Trades contents with `other` (a snapshot cut filled there as its parts came): O(1). */
  swap(other: ReplicaStore<K, L, P>): void {
    const table = this.#table
    const digest = this.#digest
    this.#table = other.#table
    this.#digest = other.#digest
    other.#table = table
    other.#digest = digest
  }

  clear(): void {
    this.#table.clear()
    this.#digest = 0
  }

  /** Puts `leaf` (its hash `hash`) at `key`; returns the leaf it replaced. */
  #put(key: TableKey, leaf: L, hash: number): L | undefined {
    const table = this.#table
    const entry = table.find(key)
    if (entry < 0) {
      table.add(key, leaf, hash)
      this.#digest = (this.#digest + hash) | 0
      return undefined
    }
    return this.#replace(entry, leaf, hash)
  }

  /** Puts `leaf` (its hash `hash`) in place of entry `entry`'s; returns the leaf it replaced. */
  #replace(entry: number, leaf: L, hash: number): L {
    const table = this.#table
    const before = table.valueAt(entry)
    this.#digest = (this.#digest - table.tagAt(entry) + hash) | 0
    table.setAt(entry, leaf, hash)
    return before
  }
}

/** A table for `leaves` entries, a count that is trusted for sizing only up to `MAX_RESERVE`. */
function sizedFor<L>(leaves: number, decoder: EntryDecoder<L>): KeyTable<TableKey, L> {
  return new KeyTable(Math.min(leaves, MAX_RESERVE), decoder)
}

/**
 * Where `key`'s characters start in `bytes` when its encoding, from `start` to `end`, ends in one
 * length byte then those characters, all ASCII (how the codecs write a short ASCII string); -1
 * otherwise (the table then keeps the string itself).
 */
function asciiAt(bytes: Uint8Array, start: number, end: number, key: string): number {
  const length = key.length
  const at = end - length
  if (length > 127 || at - 1 < start || bytes[at - 1] !== length) return -1
  for (let i = 0; i < length; i++) {
    const code = key.charCodeAt(i)
    if (code > 0x7f || bytes[at + i] !== code) return -1
  }
  return at
}
