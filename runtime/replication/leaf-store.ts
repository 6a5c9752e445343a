import { patchLeaf } from '../state/apply.js'
import type { ByteWriter } from '../state/byte-writer.js'
import type { Delta, StateCodec } from '../state/types.js'

/**
 * The leaves of a state and an incremental digest of them: the sum (mod 2^32) of an FNV-1a hash
 * of each leaf's encoded key and leaf. Publisher and replica keep one each; equal digests and leaf
 * counts at the same seq mean the same state (up to a 32-bit collision). Leaves are replaced,
 * never mutated in place.
 */
export class LeafStore<K, L, P> {
  #leaves = new Map<K, L>()
  #hashes = new Map<K, number>()
  /** The leaves, read-only; the same object for the store's whole life, even across `swap()`. */
  readonly leaves: ReadonlyMap<K, L> = new LeavesView(() => this.#leaves)
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
   * an upsert, is where its key and leaf were just encoded or decoded (the delta's bytes after the
   * op byte): hashed there instead of encoding them again.
   */
  apply(delta: Delta<K, L, P>, encoded?: { bytes: Uint8Array; start: number; end: number }): L | undefined {
    switch (delta.op) {
      case 'upsert': {
        const before = this.#leaves.get(delta.key)
        const hash = encoded ? fnv1a(encoded.bytes, encoded.end, encoded.start) : undefined
        this.#set(delta.key, delta.leaf, hash)
        return before
      }
      case 'patch': {
        const before = this.#leaves.get(delta.key)
        if (before === undefined) return undefined
        this.#set(delta.key, patchLeaf(before, delta.fields))
        return before
      }
      case 'delete': {
        const before = this.#leaves.get(delta.key)
        if (before === undefined) return undefined
        this.#leaves.delete(delta.key)
        this.#digest = (this.#digest - (this.#hashes.get(delta.key) ?? 0)) | 0
        this.#hashes.delete(delta.key)
        return before
      }
      case 'clear':
        this.clear()
        return undefined
    }
  }

  /** Sets a leaf as it is (a snapshot entry); `hash`, when known, is its key and leaf's FNV-1a. */
  set(key: K, leaf: L, hash?: number): void {
    this.#set(key, leaf, hash)
  }

  /** The leaf at `key`. */
  get(key: K): L | undefined {
    return this.#leaves.get(key)
  }

  has(key: K): boolean {
    return this.#leaves.has(key)
  }

  /**
   * Trades contents with `other` (a snapshot cut filled there as its parts came): O(1). `leaves`
   * stays this store's view, now of the new contents.
   */
  swap(other: LeafStore<K, L, P>): void {
    const leaves = this.#leaves
    const hashes = this.#hashes
    const digest = this.#digest
    this.#leaves = other.#leaves
    this.#hashes = other.#hashes
    this.#digest = other.#digest
    other.#leaves = leaves
    other.#hashes = hashes
    other.#digest = digest
  }

  clear(): void {
    this.#leaves.clear()
    this.#hashes.clear()
    this.#digest = 0
  }

  #set(key: K, leaf: L, known?: number): void {
    let hash = known
    if (hash === undefined) {
      const w = this.#scratch
      w.reset()
      this.#codec.encodeKey(key, w)
      this.#codec.encodeLeaf(leaf, w)
      hash = fnv1a(w.buf, w.pos)
    }
    const old = this.#hashes.get(key)
    this.#digest = (this.#digest - (old ?? 0) + hash) | 0
    this.#hashes.set(key, hash)
    this.#leaves.set(key, leaf)
  }
}

/** 32-bit FNV-1a of bytes `start` to `end`. */
export function fnv1a(bytes: Uint8Array, end: number, start = 0): number {
  let hash = 0x811c9dc5
  for (let i = start; i < end; i++) {
    hash ^= bytes[i] as number
    hash = Math.imul(hash, 0x01000193)
  }
  return hash >>> 0
}

/** A read-only view of whichever map a store holds now. */
class LeavesView<K, L> implements ReadonlyMap<K, L> {
  readonly #current: () => Map<K, L>

  constructor(current: () => Map<K, L>) {
    this.#current = current
  }

  get size(): number {
    return this.#current().size
  }

  get(key: K): L | undefined {
    return this.#current().get(key)
  }

  has(key: K): boolean {
    return this.#current().has(key)
  }

  forEach(callback: (value: L, key: K, map: ReadonlyMap<K, L>) => void, thisArg?: unknown): void {
    for (const [key, value] of this.#current()) callback.call(thisArg, value, key, this)
  }

  entries(): MapIterator<[K, L]> {
    return this.#current().entries()
  }

  keys(): MapIterator<K> {
    return this.#current().keys()
  }

  values(): MapIterator<L> {
    return this.#current().values()
  }

  [Symbol.iterator](): MapIterator<[K, L]> {
    return this.#current()[Symbol.iterator]()
  }
}
