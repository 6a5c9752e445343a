import { channel } from 'node:diagnostics_channel'
import type { SeqRange } from './packet.js'
import type { ReplicaStats } from './stats.js'

/** Each hole closed (repaired, or dropped by a resync): how long it was open and how many NACKs it took. */
export const repairChannel = channel('grenache:replica:repair')

/** Where a delta's key and leaf bytes are (after its op byte). */
export interface Encoded {
  bytes: Uint8Array
  start: number
  end: number
}

export interface SequencerOptions {
  maxBufferedDeltas: number
  nackDelayMs: number
  nackRetryMs: number
  nackAttempts: number
}

export interface SequencerHooks<D> {
  /**
   * Applies the delta of `seq` (called in seq order, once per seq); `encoded` is where it was just
   * decoded from, when it comes straight from a packet (not from the window).
   */
  apply(seq: number, delta: D, encoded?: Encoded): void
  /** Asks the publisher for these seqs. */
  nack(ranges: SeqRange[]): void
  /** The window overflowed, or a hole could not be repaired: the replica must resync. */
  giveUp(reason: 'overflow' | 'nack-attempts'): void
}

/**
 * Puts deltas in seq order: applies the next one at once, holds later ones in a bounded window,
 * and asks for holes by NACK after a random 0–`nackDelayMs` (a hole that fills meanwhile is not
 * asked for), again with back-off, until `nackAttempts` run out. `next` is 0 until a snapshot
 * tells where to start: until then every delta is held (the join buffer).
 */
export class Sequencer<D> {
  /** The next seq to apply; 0 while joining. */
  next = 0
  /** The highest seq known to exist (seen in a DATA packet or a heartbeat). */
  known = 0
  /** When the oldest hole appeared (ms, performance clock); 0 without one. */
  missingSinceMs = 0
  readonly #window = new Map<number, D>()
  readonly #hooks: SequencerHooks<D>
  readonly #o: SequencerOptions
  readonly #stats: ReplicaStats
  #timer: NodeJS.Timeout | undefined
  #tries = 0

  constructor(hooks: SequencerHooks<D>, options: SequencerOptions, stats: ReplicaStats) {
    this.#hooks = hooks
    this.#o = options
    this.#stats = stats
  }

  get live(): boolean {
    return this.next > 0
  }

  /** Deltas held. */
  get buffered(): number {
    return this.#window.size
  }

  /** Whether every seq of `[first, last]` is already applied (a retransmit nobody needed). */
  applied(last: number): boolean {
    return this.next > 0 && last < this.next
  }

  /** A seq seen to exist. */
  saw(last: number): void {
    if (last > this.known) this.known = last
  }

  /** Takes the delta of `seq`; false when the window overflowed (the replica resyncs). */
  offer(seq: number, delta: D, encoded?: Encoded): boolean {
    if (seq === this.next) {
      this.#hooks.apply(seq, delta, encoded)
      this.next++
      return true
    }
    if ((this.next > 0 && seq < this.next) || this.#window.has(seq)) {
      this.#stats.duplicates++
      return true
    }
    if (this.next > 0) this.#stats.outOfOrder++
    this.#window.set(seq, delta)
    if (this.#window.size > this.#o.maxBufferedDeltas) {
      this.#hooks.giveUp('overflow')
      return false
    }
    return true
  }

  /**
   * Starts from a snapshot cut at `cut`: drops what it holds up to it; `settle()` then replays what
   * is past it.
   */
  begin(cut: number): void {
    this.next = cut + 1
    for (const seq of this.#window.keys()) if (seq < this.next) this.#window.delete(seq)
  }

  /** After a packet: applies what the window holds in order, then looks for holes. */
  settle(): void {
    if (this.next === 0) return
    let delta = this.#window.get(this.next)
    while (delta !== undefined) {
      this.#window.delete(this.next)
      this.#hooks.apply(this.next, delta)
      this.next++
      delta = this.#window.get(this.next)
    }
    if (this.known < this.next) {
      this.#clearHole()
      return
    }
    if (this.missingSinceMs === 0) {
      this.missingSinceMs = performance.now()
      this.#stats.gaps++
    }
    if (this.known - this.next >= this.#o.maxBufferedDeltas) {
      this.#hooks.giveUp('overflow')
      return
    }
    this.#timer ??= setTimeout(() => this.#nack(), Math.random() * this.#o.nackDelayMs)
  }

  /** Forgets everything: joining again. */
  reset(): void {
    this.next = 0
    this.#window.clear()
    this.#clearHole()
  }

  /** Stops asking; keeps `next` (the seq reached stays readable after close). */
  close(): void {
    this.#window.clear()
    this.#clearHole()
  }

  #clearHole(): void {
    if (this.missingSinceMs !== 0 && repairChannel.hasSubscribers) {
      repairChannel.publish({ ms: performance.now() - this.missingSinceMs, nacks: this.#tries })
    }
    this.missingSinceMs = 0
    this.#tries = 0
    clearTimeout(this.#timer)
    this.#timer = undefined
  }

  #nack(): void {
    this.#timer = undefined
    if (this.next === 0 || this.known < this.next) {
      this.#clearHole()
      return
    }
    if (this.#tries >= this.#o.nackAttempts) {
      this.#hooks.giveUp('nack-attempts')
      return
    }
    const ranges: SeqRange[] = []
    let from = 0
    for (let seq = this.next; seq <= this.known + 1 && ranges.length < 64; seq++) {
      const missing = seq <= this.known && !this.#window.has(seq)
      if (missing && from === 0) from = seq
      if (!missing && from !== 0) {
        ranges.push({ from, count: seq - from })
        from = 0
      }
    }
    if (ranges.length > 0) {
      this.#tries++
      this.#stats.nacks++
      this.#hooks.nack(ranges)
    }
    this.#timer = setTimeout(() => this.#nack(), this.#o.nackRetryMs * 2 ** Math.min(this.#tries, 4))
  }
}
