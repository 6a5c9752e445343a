import { GrenacheError } from '../errors.js'

/**
 * Messages for one `for await` reader, bounded: while nobody reads, nothing is kept; when the
 * reader falls more than `max` behind, the oldest are dropped and counted.
 */
export class MessageQueue<T> {
  readonly #max: number
  #items: T[] = []
  #wake: (() => void) | undefined
  #reading = false
  #ended = false
  dropped = 0

  constructor(max: number) {
    this.#max = max
  }

  push(item: T): void {
    if (!this.#reading || this.#ended) return
    this.#items.push(item)
    if (this.#items.length > this.#max) {
      this.#items.shift()
      this.dropped++
    }
    this.#wake?.()
  }

  /** Ends the iteration once what is queued has been read. */
  end(): void {
    this.#ended = true
    this.#wake?.()
  }

  reader(): AsyncIterator<T> {
    if (this.#reading) throw new GrenacheError('ERR_INVALID_ARGUMENT', 'the subscriber already has a reader')
    this.#reading = true
    const next = async (): Promise<IteratorResult<T>> => {
      while (this.#items.length === 0 && !this.#ended) {
        await new Promise<void>((resolve) => {
          this.#wake = resolve
        })
        this.#wake = undefined
      }
      const item = this.#items.shift()
      if (item !== undefined) return { value: item, done: false }
      this.#reading = false
      return { value: undefined, done: true }
    }
    return {
      next,
      return: async () => {
        this.#reading = false
        this.#items = []
        return { value: undefined, done: true }
      },
    }
  }
}
