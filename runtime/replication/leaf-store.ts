import { patchLeaf } from '../state/apply.js'
import type { ByteReader } from '../state/byte-reader.js'
import type { ByteWriter } from '../state/byte-writer.js'
import type { Delta, StateCodec } from '../state/types.js'
import { MapView, type Slot } from './leaves-view.js'
import { StoreCut } from './store-cut.js'

/** Where a snapshot's entries are filled in as they come (a store of the replica, or a fresh one). */
export interface SnapshotTarget<K, L> {
  /** Adds one entry, `hash` its key and leaf's FNV-1a; false when `key` was there already. */
  fill(key: K, leaf: L, hash: number): boolean
  /** Told how many entries are coming before the first `fill`, when that is known. */
  reserve?(leaves: number): void
  /**
   * Adds `count` encoded entries at `r` (a codec snapshot's, after its count), instead of a `fill`
   * per decoded entry; false when a key was there already.
   */
  fillEncoded?(r: ByteReader, count: number): boolean
  readonly size: number
  readonly digest: number
}

/**
 * The leaves of a state and an incremental digest of them: the sum (mod 2^32) of an FNV-1a hash
 * of each leaf's encoded key and leaf. Publisher and replica keep one each; equal digests and leaf
 * counts at the same seq mean the same state (up to a 32-bit collision). Leaves are replaced,
 * never mutated in place.
 *
 * One map holds, per key, a slot with the leaf and its hash: a delta to a key there costs one map
 * lookup (the slot is updated in place), a new key one more (a write), a deleted one a delete.
 */
export class LeafStore<K, L, P> implements SnapshotTarget<K, L> {
  #slots = new Map<K, Slot<L>>()
  /** The leaves, read-only; the same object for the store's whole life, even across `swap()`. */
  readonly leaves: ReadonlyMap<K, L> = new MapView(() => this.#slots, slotLeaf)
  readonly #codec: StateCodec<K, L, P>
  readonly #scratch: ByteWriter
  #digest = 0
  /** The carousel's open cut, told before every change. */
  #cut: StoreCut<K, L> | undefined

  constructor(codec: StateCodec<K, L, P>, scratch: ByteWriter) {
    this.#codec = codec
    this.#scratch = scratch
  }

  get digest(): number {
    return this.#digest >>> 0
  }

  get size(): number {
    return this.#slots.size
  }

  /**
   * Applies one delta; returns the leaf before it (undefined when there was none). `encoded`, for
   * an upsert, is where its key and leaf were just encoded or decoded (the delta's bytes after the
   * op byte): hashed there instead of encoding them again.
   */
  apply(delta: Delta<K, L, P>, encoded?: { bytes: Uint8Array; start: number; end: number }): L | undefined {
    switch (delta.op) {
      case 'upsert': {
        const hash = encoded
          ? fnv1a(encoded.bytes, encoded.end, encoded.start)
          : this.#hash(delta.key, delta.leaf)
        return this.#set(delta.key, delta.leaf, hash)
      }
      case 'patch': {
        const slot = this.#slots.get(delta.key)
        if (slot === undefined) return undefined
        this.#cut?.beforeChange(delta.key, slot)
        const before = slot.leaf
        const leaf = patchLeaf(before, delta.fields)
        const hash = this.#hash(delta.key, leaf)
        this.#digest = (this.#digest - slot.hash + hash) | 0
        slot.leaf = leaf
        slot.hash = hash
        return before
      }
      case 'delete': {
        const slot = this.#slots.get(delta.key)
        if (slot === undefined) return undefined
        this.#cut?.beforeChange(delta.key, slot)
        this.#slots.delete(delta.key)
        this.#digest = (this.#digest - slot.hash) | 0
        return slot.leaf
      }
      case 'clear':
        this.clear()
        return undefined
    }
  }

  /** Sets a leaf as it is (a snapshot entry); `hash`, when known, is its key and leaf's FNV-1a. */
  set(key: K, leaf: L, hash?: number): void {
    this.#set(key, leaf, hash ?? this.#hash(key, leaf))
  }

  /**
   * Adds one entry of a snapshot being filled in, `hash` its key and leaf's FNV-1a: one map write.
   * False when `key` was there already (the leaf is replaced but the digest counts both: a snapshot
   * with a key twice is broken, and its count and digest will not match).
   */
  fill(key: K, leaf: L, hash: number): boolean {
    if (this.#cut) this.#cut.beforeChange(key, this.#slots.get(key))
    const size = this.#slots.size
    this.#slots.set(key, { leaf, hash, cut: 0 })
    this.#digest = (this.#digest + hash) | 0
    return this.#slots.size !== size
  }

  /** The leaf at `key`. */
  get(key: K): L | undefined {
    return this.#slots.get(key)?.leaf
  }

  has(key: K): boolean {
    return this.#slots.has(key)
  }

  /**
   * A consistent cut of the leaves now, read entry by entry while deltas go on (see `StoreCut`);
   * one at a time: opening one closes the last.
   */
  openCut(): StoreCut<K, L> {
    this.#cut = new StoreCut(this.#slots, this.digest)
    return this.#cut
  }

  /** Stops telling `cut` about changes (its cycle ended). */
  closeCut(cut: StoreCut<K, L>): void {
    if (this.#cut === cut) this.#cut = undefined
  }

  /**
   * Trades contents with `other` (a snapshot cut filled there as its parts came): O(1). `leaves`
   * stays this store's view, now of the new contents.
   */
  swap(other: LeafStore<K, L, P>): void {
    // A cut reads the map it was opened on: it has no leaves of the one swapped in.
    this.#cut = undefined
    other.#cut = undefined
    const slots = this.#slots
    const digest = this.#digest
    this.#slots = other.#slots
    this.#digest = other.#digest
    other.#slots = slots
    other.#digest = digest
  }

  clear(): void {
    this.#cut?.beforeClear(this.#slots)
    this.#slots.clear()
    this.#digest = 0
  }

  /** Puts `leaf` (its hash `hash`) at `key`; returns the leaf it replaced. */
  #set(key: K, leaf: L, hash: number): L | undefined {
    const slot = this.#slots.get(key)
    this.#cut?.beforeChange(key, slot)
    if (slot === undefined) {
      this.#slots.set(key, { leaf, hash, cut: 0 })
      this.#digest = (this.#digest + hash) | 0
      return undefined
    }
    const before = slot.leaf
    this.#digest = (this.#digest - slot.hash + hash) | 0
    slot.leaf = leaf
    slot.hash = hash
    return before
  }

  #hash(key: K, leaf: L): number {
    return entryHash(this.#codec, this.#scratch, key, leaf)
  }
}

function slotLeaf<L>(slot: Slot<L>): L {
  return slot.leaf
}

/** The FNV-1a of `key` and `leaf` as `codec` encodes them (into `scratch`): what a digest sums. */
export function entryHash<K, L, P>(codec: StateCodec<K, L, P>, scratch: ByteWriter, key: K, leaf: L): number {
  scratch.reset()
  codec.encodeKey(key, scratch)
  codec.encodeLeaf(leaf, scratch)
  return fnv1a(scratch.buf, scratch.pos)
}

/**
 * 32-bit FNV-1a of bytes `start` to `end`, as a signed int32: a small integer to V8, where an
 * unsigned value past 2^31 is a boxed number; every hash held per leaf would be one more object
 * for the young generation to copy. Sums of these wrap the same either way (`| 0`).
 */
export function fnv1a(bytes: Uint8Array, end: number, start = 0): number {
  let hash = 0x811c9dc5 | 0
  for (let i = start; i < end; i++) {
    hash ^= bytes[i] as number
    hash = Math.imul(hash, 0x01000193)
  }
  return hash
}
