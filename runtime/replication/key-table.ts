import { randomBytes } from 'node:crypto'
import { EntryBytes, type EntryDecoder } from './entry-bytes.js'

/** Keys a state can have: the codecs take zod strings and integers only. */
export type TableKey = string | number

/** Per process, so that no one can compute keys that all land in one bucket. */
const SEED = randomBytes(4).readInt32LE(0)

/** Murmur3's finalizer: spreads every input bit over the low bits the index masks. */
function mix(h: number): number {
  h ^= h >>> 16
  h = Math.imul(h, 0x85ebca6b)
  h ^= h >>> 13
  h = Math.imul(h, 0xc2b2ae35)
  return h ^ (h >>> 16)
}

/** A seeded 32-bit hash of a key: FNV-1a over a string's UTF-16 code units, the bits of an integer. */
export function hashKey(key: TableKey): number {
  if (typeof key === 'string') {
    let h = SEED ^ 0x811c9dc5
    for (let i = 0; i < key.length; i++) h = Math.imul(h ^ key.charCodeAt(i), 0x01000193)
    return mix(h)
  }
  // -0 and 0 are one key, as in a Map (`-0 | 0` is 0).
  if ((key | 0) === key) return mix(SEED ^ key)
  const high = Math.floor(key / 4294967296)
  return mix(Math.imul(SEED ^ high, 0x9e3779b1) ^ (key - high * 4294967296))
}

const MIN_SLOTS = 16

/**
 * An insertion-ordered hash map from string or integer keys, with an int32 `tag` per entry (the
 * replica keeps each leaf's digest hash there), that can be sized up front.
 *
 * Why not a `Map`: filling a `Map` of 100k keys, as a join does, cost a replica 50 to 70 ms, most
 * of it in the rehash each time the table doubles (V8 reads every key's hash from the key string
 * again). Here a join reserves its size from the snapshot's leaf count, growth rehashes from the
 * stored hashes, and nothing is allocated per entry.
 *
 * Layout: entries are appended to parallel arrays (key, value, key hash, tag) in insertion order;
 * `#index` is an open-addressing table (linear probing) of entry number + 1, 0 = free, kept at
 * most half full. A delete clears its entry (key `undefined`) and shifts the probe run back, so
 * there are no tombstones; the entry arrays are compacted when more than half of them are holes.
 * Iterators read the arrays they started on: a compaction or a `clear()` while one is open leaves
 * it reading the entries as they were then (a `Map` would show the changes since, or end).
 *
 * Entries filled from a snapshot can stay as bytes (`addEncoded`): their leaf is decoded when first
 * read, and an ASCII string key is kept as its characters in `#bytes` and compared there, made a
 * string only when iterated. A join of 100k leaves then leaves no object per entry for the young
 * generation to copy and promote; that copying, and the old-generation collections that followed
 * a replica's close, made up most of a join's time under load (see docs/replication.md).
 */
export class KeyTable<K extends TableKey, V> implements ReadonlyMap<K, V> {
  #keys: (K | undefined)[] = []
  #values: (V | undefined)[] = []
  #hashes: Int32Array
  #tags: Int32Array
  /**
   * Per entry kept (in part) as bytes, made on the first `addEncoded`: where in `#bytes` its key's
   * characters start while it has no key string (its leaf's encoding follows them), else where its
   * leaf's encoding starts while that is not decoded; -1 when neither.
   */
  #at: Int32Array | undefined
  /** The encoded entries copied from snapshot parts (only appended to; dropped by `clear()`). */
  #bytes = new EntryBytes()
  readonly #decoder: EntryDecoder<V> | undefined
  #index: Int32Array
  #mask: number
  /** Entries appended so far, holes included. */
  #used = 0
  #size = 0
  /** Bumped by each compaction, so that iterators know their arrays are no longer the table's. */
  #epoch = 0

  /** `decoder`: how entries added with `addEncoded` are decoded (needed only for those). */
  constructor(expected = 0, decoder?: EntryDecoder<V>) {
    this.#decoder = decoder
    // A count off the wire may be anything; room for the state to grow a little past it.
    const n = Number.isSafeInteger(expected) && expected > 0 ? expected : 0
    const capacity = Math.max(8, n + Math.floor(n / 4))
    this.#hashes = new Int32Array(capacity)
    this.#tags = new Int32Array(capacity)
    this.#index = new Int32Array(slotsFor(capacity))
    this.#mask = this.#index.length - 1
  }

  get size(): number {
    return this.#size
  }

  /** The entry number of `key` (for `valueAt`, `tagAt`, `setAt`, `deleteAt`), or -1. */
  find(key: K): number {
    const index = this.#index
    const mask = this.#mask
    const keys = this.#keys
    const hash = hashKey(key)
    for (let slot = hash & mask; ; slot = (slot + 1) & mask) {
      const at = (index[slot] as number) - 1
      if (at < 0) return -1
      const other = keys[at]
      if (other === key) return at
      // An indexed entry without a key keeps it as characters.
      if (other === undefined && this.#hashes[at] === hash && this.#charsAre(at, key)) return at
    }
  }

  valueAt(entry: number): V {
    const value = this.#values[entry]
    return value === undefined && this.#at !== undefined && (this.#at[entry] as number) >= 0
      ? this.#decodeLeaf(entry)
      : (value as V)
  }

  tagAt(entry: number): number {
    return this.#tags[entry] as number
  }

  setAt(entry: number, value: V, tag: number): void {
    this.#values[entry] = value
    if (this.#at && this.#keys[entry] !== undefined) this.#at[entry] = -1
    this.#tags[entry] = tag
  }

  /**
   * Adds `key`, which must not be here (`find` said -1, or a fill that checks with `add`'s
   * result): one probe run.
   */
  add(key: K, value: V, tag: number): boolean {
    const entry = this.#newEntry(key, hashKey(key), tag)
    if (entry < 0) return false
    this.#values[entry] = value
    return true
  }

  /**
   * Adds `key` with its leaf left encoded at `leafAt` in the table's bytes (see `addBytes`), decoded
   * by the table's decoder when first read; false when `key` is here. `chars`: when `key` is an
   * ASCII string whose characters are in the table's bytes right before the leaf, after a length
   * byte, where they start: the table keeps those instead of the string (-1: it keeps the key).
   */
  addEncoded(key: K, chars: number, leafAt: number, tag: number): boolean {
    if (this.#at === undefined) this.#at = new Int32Array(this.#hashes.length).fill(-1)
    const entry = this.#newEntry(key, hashKey(key), tag)
    if (entry < 0) return false
    if (chars >= 0) this.#keys[entry] = undefined
    this.#at[entry] = chars >= 0 ? chars : leafAt
    return true
  }

  /**
   * Copies `bytes` from `start` to `end` into the table's own buffer, for entries added with
   * `addEncoded`; returns where byte `start` landed there.
   */
  addBytes(bytes: Uint8Array, start: number, end: number): number {
    return this.#bytes.append(bytes, start, end)
  }

  /** How many bytes the table holds for entries added with `addEncoded`. */
  get encodedBytes(): number {
    return this.#bytes.used
  }

  /** Gives back the last `length` bytes that `addBytes` copied (no entry refers to them). */
  dropBytes(length: number): void {
    this.#bytes.drop(length)
  }

  /** A new entry for `key` (its hash `hash`), its value unset; -1 when `key` is here. */
  #newEntry(key: K, hash: number, tag: number): number {
    if (this.#used === this.#hashes.length) this.#makeRoom()
    const index = this.#index
    const mask = this.#mask
    const keys = this.#keys
    let slot = hash & mask
    for (; ; slot = (slot + 1) & mask) {
      const at = (index[slot] as number) - 1
      if (at < 0) break
      const other = keys[at]
      if (other === key || (other === undefined && this.#hashes[at] === hash && this.#charsAre(at, key)))
        return -1
    }
    const entry = this.#used++
    index[slot] = entry + 1
    // A Map keeps -0 as 0.
    keys[entry] = key === 0 ? (0 as K) : key
    this.#hashes[entry] = hash
    this.#tags[entry] = tag
    if (this.#at) this.#at[entry] = -1
    this.#size++
    return entry
  }

  /** Whether entry `entry`, which keeps its key as characters, has `key`. */
  #charsAre(entry: number, key: K): boolean {
    return typeof key === 'string' && this.#bytes.charsAre((this.#at as Int32Array)[entry] as number, key)
  }

  /** Decodes entry `entry`'s leaf, which is still encoded, and keeps it. */
  #decodeLeaf(entry: number): V {
    const at = this.#at as Int32Array
    const start = at[entry] as number
    const afterChars = this.#keys[entry] === undefined
    const value = this.#bytes.leaf(this.#decoder, start, afterChars)
    this.#values[entry] = value
    if (!afterChars) at[entry] = -1
    return value
  }

  /** Entry `entry`'s key, made a string (and kept) when it is characters. */
  #keyOf(entry: number): K {
    const key = this.#keys[entry]
    if (key !== undefined) return key
    const at = this.#at as Int32Array
    const start = at[entry] as number
    const text = this.#bytes.keyText(start)
    this.#keys[entry] = text as K
    // From now on `at` says where the leaf starts, when it is still encoded.
    at[entry] = this.#values[entry] === undefined ? this.#bytes.leafAfter(start) : -1
    return text as K
  }

  /** Removes entry `entry` (from `find`). */
  deleteAt(entry: number): void {
    const index = this.#index
    const mask = this.#mask
    let slot = (this.#hashes[entry] as number) & mask
    while ((index[slot] as number) !== entry + 1) slot = (slot + 1) & mask
    // Backward shift: each later entry of the run moves into the gap unless its home slot lies
    // after the gap (cyclically), so every key stays reachable from its home without tombstones.
    let gap = slot
    for (let next = (gap + 1) & mask; ; next = (next + 1) & mask) {
      const at = (index[next] as number) - 1
      if (at < 0) break
      const home = (this.#hashes[at] as number) & mask
      if (((next - home) & mask) >= ((next - gap) & mask)) {
        index[gap] = at + 1
        gap = next
      }
    }
    index[gap] = 0
    this.#keys[entry] = undefined
    this.#values[entry] = undefined
    if (this.#at) this.#at[entry] = -1
    this.#size--
    if (this.#size === 0) this.clear()
  }

  clear(): void {
    this.#keys = []
    this.#values = []
    this.#hashes = new Int32Array(8)
    this.#tags = new Int32Array(8)
    this.#at = undefined
    this.#bytes = new EntryBytes()
    this.#index = new Int32Array(MIN_SLOTS)
    this.#mask = MIN_SLOTS - 1
    this.#used = 0
    this.#size = 0
    this.#epoch++
  }

  get(key: K): V | undefined {
    const entry = this.find(key)
    return entry < 0 ? undefined : this.valueAt(entry)
  }

  has(key: K): boolean {
    return this.find(key) >= 0
  }

  forEach(callback: (value: V, key: K, map: ReadonlyMap<K, V>) => void, thisArg?: unknown): void {
    for (const [key, value] of this.entries()) callback.call(thisArg, value, key, this)
  }

  entries(): MapIterator<[K, V]> {
    return this.#walk((key, value) => [key, value])
  }

  keys(): MapIterator<K> {
    return this.#walk((key) => key)
  }

  values(): MapIterator<V> {
    return this.#walk((_, value) => value)
  }

  [Symbol.iterator](): MapIterator<[K, V]> {
    return this.entries()
  }

  /** The live entries in insertion order, each through `f` (see the class comment on compaction). */
  #walk<T>(f: (key: K, value: V) => T): MapIterator<T> {
    const keys = this.#keys
    const values = this.#values
    const at = this.#at
    const bytes = this.#bytes
    const decoder = this.#decoder
    const epoch = this.#epoch
    const table = this
    return (function* () {
      for (let i = 0; i < (table.#epoch === epoch ? table.#used : keys.length); i++) {
        const key = keys[i]
        const start = at ? (at[i] as number) : -1
        if (key === undefined && start < 0) continue
        if (table.#epoch === epoch) {
          yield f(table.#keyOf(i), table.valueAt(i))
          continue
        }
        // The table moved on (compacted or cleared): decode from what it held then, keeping nothing.
        const value = values[i]
        yield f(
          key ?? (bytes.keyText(start) as K),
          value === undefined && start >= 0 ? bytes.leaf(decoder, start, key === undefined) : (value as V),
        )
      }
      return undefined
    })()
  }

  /** The entry arrays are full: compact them when half are holes, else double them. */
  #makeRoom(): void {
    const used = this.#used
    const capacity = this.#size * 2 <= used ? used : used * 2
    const keys: (K | undefined)[] = []
    const values: (V | undefined)[] = []
    const hashes = new Int32Array(capacity)
    const tags = new Int32Array(capacity)
    const from = this.#at
    const at = from ? new Int32Array(capacity).fill(-1) : undefined
    const index = new Int32Array(slotsFor(capacity))
    const mask = index.length - 1
    let n = 0
    for (let i = 0; i < used; i++) {
      const key = this.#keys[i]
      if (key === undefined && (from ? (from[i] as number) : -1) < 0) continue
      const hash = this.#hashes[i] as number
      keys[n] = key
      values[n] = this.#values[i]
      hashes[n] = hash
      tags[n] = this.#tags[i] as number
      if (at) at[n] = (from as Int32Array)[i] as number
      let slot = hash & mask
      while ((index[slot] as number) !== 0) slot = (slot + 1) & mask
      index[slot] = ++n
    }
    this.#keys = keys
    this.#values = values
    this.#hashes = hashes
    this.#tags = tags
    this.#at = at
    this.#index = index
    this.#mask = mask
    this.#used = n
    this.#epoch++
  }
}

/** Index slots for `capacity` entries: a power of two at least twice it. */
function slotsFor(capacity: number): number {
  let slots = MIN_SLOTS
  while (slots < capacity * 2) slots *= 2
  return slots
}
