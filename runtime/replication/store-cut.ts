import type { Slot } from './leaves-view.js'

/** Saved for a key added after the cut: not part of it. */
const ABSENT: unique symbol = Symbol('absent')
/** Saved for a key whose leaf at the cut was handed out already. */
const SENT: unique symbol = Symbol('sent')

let cuts = 0

/**
 * A consistent cut of a `LeafStore`, read entry by entry while deltas go on (copy on write): the
 * store tells it before each change, and it saves a key's leaf at the cut the first time the key
 * changes before it was read. Opening one costs nothing, where copying 100k keys and leaves cost
 * the carousel's first part 5–10 ms; the price is a field check and a lookup in a small map per
 * delta while a cycle runs.
 *
 * Reading walks the store's live map (new keys come at its end, deleted ones are skipped), marking
 * each slot it hands out with the cut's number and answering from the saved leaves where a key
 * changed; then it hands out the saved keys the walk did not find (deleted, or cleared).
 */
export class StoreCut<K, L> {
  /** Leaves at the cut. */
  readonly size: number
  /** The store's digest at the cut. */
  readonly digest: number
  readonly #id = ++cuts
  #walk: Iterator<[K, Slot<L>]> | undefined
  #rest: Iterator<[K, L | typeof ABSENT | typeof SENT]> | undefined
  readonly #saved = new Map<K, L | typeof ABSENT | typeof SENT>()
  #done = false

  constructor(slots: Map<K, Slot<L>>, digest: number) {
    this.size = slots.size
    this.digest = digest
    this.#walk = slots.entries()
  }

  /** Whether every entry was handed out. */
  get done(): boolean {
    return this.#done
  }

  /** The store is about to change `key`, now at `slot` (undefined: absent). */
  beforeChange(key: K, slot: Slot<L> | undefined): void {
    if (this.#done || slot?.cut === this.#id || this.#saved.has(key)) return
    this.#saved.set(key, slot === undefined ? ABSENT : slot.leaf)
  }

  /** The store is about to drop every key. */
  beforeClear(slots: Map<K, Slot<L>>): void {
    for (const [key, slot] of slots) this.beforeChange(key, slot)
  }

  /** The next entry of the cut, or undefined when all were handed out. */
  next(): [K, L] | undefined {
    while (this.#walk) {
      const step = this.#walk.next()
      if (step.done) {
        this.#walk = undefined
        this.#rest = this.#saved.entries()
        break
      }
      const [key, slot] = step.value
      const saved = this.#saved.get(key)
      if (saved === ABSENT || saved === SENT || slot.cut === this.#id) continue
      // From here on, changes to this key are after it was sent: nothing to save.
      slot.cut = this.#id
      if (saved === undefined) return [key, slot.leaf]
      this.#saved.set(key, SENT)
      return [key, saved]
    }
    while (this.#rest) {
      const step = this.#rest.next()
      if (step.done) break
      const [key, saved] = step.value
      if (saved === ABSENT || saved === SENT) continue
      this.#saved.set(key, SENT)
      return [key, saved]
    }
    this.#rest = undefined
    this.#done = true
    return undefined
  }
}
