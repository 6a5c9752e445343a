import type { OrderBookDelta } from '../../generated/index.js'
import type { DriveParams, DriveResult } from './protocol.js'
import type { FeedSender } from './stacks/types.js'
import { nowUs } from './workload.js'

/** Where the sender is in the cycled stream. */
export interface Cursor {
  index: number
}

/** A running load: `done` resolves when its duration is over or `stop()` was called. */
export interface Drive {
  done: Promise<DriveResult>
  stop(): void
}

/**
 * Sends the stream through `sender`. `flat`: `perTick` deltas per event-loop turn, a new turn at
 * once (`setImmediate`). `paced`: the deltas due at `rateDps` so far, at most `perTick` per turn;
 * a turn follows at once while behind, else after a 1 ms timer (the process sleeps). A turn's
 * deltas share packets: each sender flushes at the end of the turn.
 */
export function drive(
  sender: FeedSender,
  stream: readonly OrderBookDelta[],
  cursor: Cursor,
  p: DriveParams,
): Drive {
  const sendUs: number[] = []
  const before = sender.counters()
  const firstSeq = sender.seq + 1
  let stopped = false
  let sent = 0
  let startUs = 0
  let resolve!: (result: DriveResult) => void
  const done = new Promise<DriveResult>((r) => {
    resolve = r
  })
  const finish = () => {
    const after = sender.counters()
    resolve({
      firstSeq,
      lastSeq: sender.seq,
      sent,
      startUs,
      endUs: nowUs(),
      counters: {
        deltas: after.deltas - before.deltas,
        bytes: after.bytes - before.bytes,
        packets: after.packets - before.packets,
      },
      ...(p.record ? { sendUs } : {}),
    })
  }
  const sendOne = () => {
    const delta = stream[cursor.index] as OrderBookDelta
    cursor.index = cursor.index + 1 === stream.length ? 0 : cursor.index + 1
    if (p.record) sendUs.push(nowUs())
    sender.send(delta)
    sent++
  }
  const turn = () => {
    const now = nowUs()
    if (startUs === 0) startUs = now
    const elapsedUs = now - startUs
    if (stopped || elapsedUs >= p.durationMs * 1000) {
      // One more turn, so that the last one's packets are flushed (a microtask) before the end.
      setImmediate(finish)
      return
    }
    if (p.mode === 'flat') {
      for (let i = 0; i < p.perTick; i++) sendOne()
      setImmediate(turn)
      return
    }
    const due = Math.floor((elapsedUs * p.rateDps) / 1e6) + 1
    const n = Math.min(due - sent, p.perTick)
    for (let i = 0; i < n; i++) sendOne()
    if (due - sent > 0) setImmediate(turn)
    else setTimeout(turn, 1)
  }
  setImmediate(turn)
  return {
    done,
    stop: () => {
      stopped = true
    },
  }
}
