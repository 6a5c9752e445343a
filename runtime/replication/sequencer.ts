import { channel } from 'node:diagnostics_channel'
import type { SeqRange } from './packet.js'
import { SeqWindow } from './seq-window.js'
import type { ReplicaStats } from './stats.js'

/** Each hole repaired: how long it was open (ms), how many seqs it held, NACK rounds so far. */
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
 * and asks for holes by NACK. A new hole is asked for after a random 0–`nackDelayMs` (one that
 * fills meanwhile, from a retransmit another replica asked for, is not), whatever older holes are
 * doing; holes still open are asked again every `nackRetryMs` (doubling after the third time).
 * Each packet checks what is due (sub-millisecond while packets flow); timers cover quiet times;
 * `nackAttempts` retries without any progress mean the replica resyncs. `next` is 0 until a
 * snapshot tells where to start: until then every delta is held (the join buffer).
 */
export class Sequencer<D> {
  /** The next seq to apply; 0 while joining. */
  next = 0
  /** The highest seq known to exist (seen in a DATA packet or a heartbeat). */
  known = 0
  readonly #window: SeqWindow<D>
  readonly #hooks: SequencerHooks<D>
  readonly #o: SequencerOptions
  readonly #stats: ReplicaStats
  /** Holes in the order they were seen. */
  readonly #holes: Hole[] = []
  #freshTimer: NodeJS.Timeout | undefined
  /** When the holes not asked for yet are due (ms, performance clock); 0: none waiting. */
  #freshAt = 0
  #retryTimer: NodeJS.Timeout | undefined
  #retryAt = 0
  /** Seqs up to here were looked at for holes. */
  #scanned = 0

  constructor(hooks: SequencerHooks<D>, options: SequencerOptions, stats: ReplicaStats) {
    this.#hooks = hooks
    this.#o = options
    // Twice the bound on deltas held: only a stray seq far from the others is refused by span.
    this.#window = new SeqWindow(2 * options.maxBufferedDeltas)
    this.#stats = stats
  }

  get live(): boolean {
    return this.next > 0
  }

  /** When the oldest open hole was seen (ms, performance clock); 0 without one. */
  get missingSinceMs(): number {
    return this.#holes[0]?.seenAt ?? 0
  }

  /** Deltas held. */
  get buffered(): number {
    return this.#window.size
  }

  /** Whether every seq up to `last` is already applied (a retransmit nobody needed). */
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
    if (!this.#window.set(seq, delta) || this.#window.size > this.#o.maxBufferedDeltas) {
      if (this.next === 0) return this.#dropJoinBuffer(seq, delta)
      this.#hooks.giveUp('overflow')
      return false
    }
    return true
  }

  /**
   * Joining, the buffer filled before the snapshot came: its deltas go, not the join (starting the
   * join again would fill the buffer again under the same load, a resync every few milliseconds).
   * Once the cut is installed, what it does not cover up to the first delta kept is a hole like any
   * other, asked for from the publisher's ring, or found gone (then the replica resyncs).
   */
  #dropJoinBuffer(seq: number, delta: D): boolean {
    this.#window.clear()
    this.#stats.joinBufferDrops++
    this.#window.set(seq, delta)
    return true
  }

  /**
   * Starts from a snapshot cut at `cut`: drops what it holds up to it; `settle()` then replays what
   * is past it.
   */
  begin(cut: number): void {
    this.next = cut + 1
    this.#scanned = cut
    this.#window.deleteBelow(this.next)
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
    this.#closeRepaired()
    if (this.known < this.next) {
      this.#stopAsking()
      return
    }
    if (this.known - this.next >= this.#o.maxBufferedDeltas) {
      this.#hooks.giveUp('overflow')
      return
    }
    this.#recordHoles()
    if (this.#holes.length === 0) return
    const now = performance.now()
    const last = this.#holes[this.#holes.length - 1] as Hole
    if (last.askedAt === 0 && this.#freshAt === 0) {
      const delayMs = Math.random() * this.#o.nackDelayMs
      this.#freshAt = now + delayMs
      this.#freshTimer = setTimeout(() => this.#askFresh(), delayMs)
    }
    // Timers fire a millisecond late at best: while packets come, each one checks what is due, so
    // a NACK goes out within a packet's interval of its time (the timers are the fallback).
    if (this.#freshAt !== 0 && now >= this.#freshAt) this.#askFresh()
    else if (this.#retryAt !== 0 && now >= this.#retryAt) this.#retry()
  }

  /** Forgets everything: joining again. */
  reset(): void {
    this.next = 0
    // What was seen before is forgotten with the rest: a forged seq far ahead would otherwise
    // outlive every join and make each one give up again (a resync loop from one datagram).
    this.known = 0
    this.#window.clear()
    this.#holes.length = 0
    this.#stopAsking()
  }

  /** Stops asking; keeps `next` (the seq reached stays readable after close). */
  close(): void {
    this.#window.clear()
    this.#holes.length = 0
    this.#stopAsking()
  }

  #stopAsking(): void {
    clearTimeout(this.#freshTimer)
    clearTimeout(this.#retryTimer)
    this.#freshTimer = undefined
    this.#retryTimer = undefined
    this.#freshAt = 0
    this.#retryAt = 0
  }

  /** The holes among the seqs seen since the last look (runs of missing seqs), each with its time. */
  #recordHoles(): void {
    const holes = this.#holes
    const seen = holes[holes.length - 1]?.to ?? 0
    const from = Math.max(this.next, seen + 1, this.#scanned + 1)
    if (from > this.known) return
    const now = performance.now()
    for (const range of this.#missing(from, this.known)) {
      holes.push({
        from: range.from,
        to: range.from + range.count - 1,
        seenAt: now,
        askedAt: 0,
        tries: 0,
        nacks: 0,
        left: range.count,
      })
      this.#stats.gaps++
    }
    this.#scanned = this.known
  }

  /** Holes the applied seqs have passed: repaired. */
  #closeRepaired(): void {
    const holes = this.#holes
    if (holes.length === 0 || (holes[0] as Hole).from >= this.next) return
    const now = performance.now()
    let closed = 0
    while (closed < holes.length && (holes[closed] as Hole).to < this.next) closed++
    if (repairChannel.hasSubscribers) {
      for (let i = 0; i < closed; i++) {
        const hole = holes[i] as Hole
        repairChannel.publish({ ms: now - hole.seenAt, seqs: hole.to - hole.from + 1, nacks: hole.nacks })
      }
    }
    holes.splice(0, closed)
  }

  /** The missing seqs of `[from, to]`, as ranges. */
  #missing(from: number, to: number): SeqRange[] {
    const ranges: SeqRange[] = []
    let start = 0
    for (let seq = from; seq <= to + 1 && ranges.length < 64; seq++) {
      const missing = seq <= to && !this.#window.has(seq)
      if (missing && start === 0) start = seq
      if (!missing && start !== 0) {
        ranges.push({ from: start, count: seq - start })
        start = 0
      }
    }
    return ranges
  }

  /** Asks for the holes not asked for yet (those still open). */
  #askFresh(): void {
    clearTimeout(this.#freshTimer)
    this.#freshTimer = undefined
    this.#freshAt = 0
    if (this.next === 0) return
    const now = performance.now()
    const ranges: SeqRange[] = []
    for (const hole of this.#holes) {
      if (hole.askedAt !== 0) continue
      const missing = this.#missing(Math.max(hole.from, this.next), hole.to)
      hole.askedAt = now
      hole.tries = 1
      hole.nacks = 1
      hole.left = count(missing)
      ranges.push(...missing)
    }
    this.#send(ranges)
    this.#scheduleRetry()
  }

  /** Asks again for each hole whose last NACK went unanswered for `nackRetryMs` (doubling later). */
  #retry(): void {
    clearTimeout(this.#retryTimer)
    this.#retryTimer = undefined
    this.#retryAt = 0
    if (this.next === 0) return
    const now = performance.now()
    const ranges: SeqRange[] = []
    for (const hole of this.#holes) {
      if (hole.askedAt === 0 || now < this.#due(hole)) continue
      const missing = this.#missing(Math.max(hole.from, this.next), hole.to)
      const left = count(missing)
      // Part of it came (a publisher answers a NACK with at most 256 datagrams): that is progress,
      // and the attempts count from here.
      if (left < hole.left) hole.tries = 0
      if (hole.tries >= this.#o.nackAttempts) {
        this.#hooks.giveUp('nack-attempts')
        return
      }
      hole.askedAt = now
      hole.tries++
      hole.nacks++
      hole.left = left
      ranges.push(...missing)
    }
    this.#send(ranges)
    this.#scheduleRetry()
  }

  #send(ranges: SeqRange[]): void {
    if (ranges.length === 0) return
    this.#stats.nacks++
    this.#hooks.nack(ranges.length > 64 ? ranges.slice(0, 64) : ranges)
  }

  /** When a hole is due to be asked again. */
  #due(hole: Hole): number {
    return hole.askedAt + this.#o.nackRetryMs * Math.min(16, 2 ** Math.max(0, hole.tries - 2))
  }

  #scheduleRetry(): void {
    let at = Number.POSITIVE_INFINITY
    for (const hole of this.#holes) if (hole.askedAt !== 0) at = Math.min(at, this.#due(hole))
    if (!Number.isFinite(at)) return
    if (this.#retryTimer && this.#retryAt <= at) return
    clearTimeout(this.#retryTimer)
    this.#retryAt = at
    this.#retryTimer = setTimeout(() => this.#retry(), Math.max(0, at - performance.now()))
  }
}

/** The seqs `ranges` cover. */
function count(ranges: readonly SeqRange[]): number {
  let total = 0
  for (const range of ranges) total += range.count
  return total
}

/** A run of missing seqs: when it was seen, when it was last asked for, how many times. */
interface Hole {
  from: number
  to: number
  seenAt: number
  askedAt: number
  /** Asks since the hole last shrank (what `nackAttempts` bounds). */
  tries: number
  /** Asks in all. */
  nacks: number
  /** Seqs still missing at the last ask. */
  left: number
}
