import type { OrderBookDelta } from '../../../generated/index.js'
import type { ReceiverCounters, SenderCounters } from '../protocol.js'

/** The publishing side of one stack: applies a delta to its own state and sends it. */
export interface FeedSender {
  /** What the receiver connects to. */
  readonly address: string
  /** The last seq assigned. */
  readonly seq: number
  /** Applies and sends (batched to the end of the turn, or until a packet is full); returns the seq. */
  send(delta: OrderBookDelta): number
  counters(): SenderCounters
  close(): Promise<void>
}

/** The receiving side: applies deltas in order to its own state. */
export interface FeedReceiver {
  /** The last seq applied. */
  readonly seq: number
  counters(): ReceiverCounters
  /** Calls `hook` after each delta applied (undefined: stop). */
  onApply(hook: ((seq: number) => void) | undefined): void
  close(): Promise<void>
}

export function emptyReceiverCounters(): ReceiverCounters {
  return {
    applied: 0,
    lost: 0,
    resyncs: 0,
    resyncsOverflow: 0,
    resyncsNack: 0,
    gaps: 0,
    nacks: 0,
    retransmits: 0,
    disconnects: 0,
    injectedDrops: 0,
  }
}
