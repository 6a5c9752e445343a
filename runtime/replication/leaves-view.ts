/** What a `LeafStore` keeps per key: the leaf and the FNV-1a of its encoded key and leaf. */
export interface Slot<L> {
  leaf: L
  hash: number
  /** The last carousel cut that sent this key (its number; 0: none): a mark, not a set of keys. */
  cut: number
}

/**
 * `f` of each item of `source`, as a generator: like a Map's iterators it inherits
 * `Iterator.prototype` (its helpers where the runtime has them).
 */
function mapIterator<T, U>(source: Iterator<T>, f: (item: T) => U): MapIterator<U> {
  return (function* () {
    for (let step = source.next(); !step.done; step = source.next()) yield f(step.value)
    return undefined
  })()
}

/**
 * A read-only `Map` view of the leaves of whichever map a store holds now (it stays valid when the
 * store swaps in a snapshot), each value read through `leafOf`. Iterating yields fresh
 * `[key, leaf]` pairs, as a `Map` does.
 */
export class MapView<K, V, L> implements ReadonlyMap<K, L> {
  readonly #current: () => ReadonlyMap<K, V>
  readonly #leafOf: ((value: V) => L) | undefined

  /** Without `leafOf`, the map's values are the leaves: reads go straight through, unwrapped. */
  constructor(current: () => ReadonlyMap<K, V>, leafOf?: (value: V) => L) {
    this.#current = current
    this.#leafOf = leafOf
  }

  /** The current map as a map of leaves, when its values are the leaves (no `leafOf`). */
  #direct(): ReadonlyMap<K, L> | undefined {
    return this.#leafOf ? undefined : (this.#current() as unknown as ReadonlyMap<K, L>)
  }

  get size(): number {
    return this.#current().size
  }

  get(key: K): L | undefined {
    const leafOf = this.#leafOf
    const value = this.#current().get(key)
    if (!leafOf) return value as L | undefined
    return value === undefined ? undefined : leafOf(value)
  }

  has(key: K): boolean {
    return this.#current().has(key)
  }

  forEach(callback: (value: L, key: K, map: ReadonlyMap<K, L>) => void, thisArg?: unknown): void {
    const leafOf = this.#leafOf
    this.#current().forEach((value, key) => {
      callback.call(thisArg, leafOf ? leafOf(value) : (value as unknown as L), key, this)
    })
  }

  entries(): MapIterator<[K, L]> {
    const direct = this.#direct()
    if (direct) return direct.entries()
    const leafOf = this.#leafOf as (value: V) => L
    return mapIterator(this.#current().entries(), (entry) => [entry[0], leafOf(entry[1])])
  }

  keys(): MapIterator<K> {
    return this.#current().keys()
  }

  values(): MapIterator<L> {
    const direct = this.#direct()
    if (direct) return direct.values()
    return mapIterator(this.#current().values(), this.#leafOf as (value: V) => L)
  }

  [Symbol.iterator](): MapIterator<[K, L]> {
    return this.entries()
  }
}
