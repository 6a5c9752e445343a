import type { ReplicaChange } from '../replication/replica.js'
import type { ReplicaStats } from '../replication/stats.js'

/**
 * What `grenache feed` prints: one JSON document per line (bigints as strings, dates as ISO
 * strings), or a one-line status of the replica.
 */

/** `value` as one line of JSON: bigints become strings (dates already are, through `toJSON`). */
export function jsonLine(value: unknown): string {
  return `${JSON.stringify(value, (_key, v: unknown) => (typeof v === 'bigint' ? v.toString() : v))}\n`
}

/** The line for a snapshot installed: the replica is in sync at `seq` with `leaves` leaves. */
export function syncedLine(seq: number, leaves: number): string {
  return jsonLine({ synced: true, seq, leaves })
}

/** One leaf of a snapshot (`--snapshot`). */
export function leafLine(key: unknown, leaf: unknown): string {
  return jsonLine({ key, leaf })
}

/**
 * One applied delta: `seq`, `op`, the `key` (not for `clear`) and, for `upsert` and `patch`, the
 * leaf after it (`null` when a patch met no leaf).
 */
export function deltaLine(
  change: Pick<ReplicaChange<unknown, unknown>, 'seq' | 'op' | 'key' | 'leaf' | 'previous'>,
): string {
  switch (change.op) {
    case 'clear':
      return jsonLine({ seq: change.seq, op: 'clear' })
    case 'delete':
      return jsonLine({ seq: change.seq, op: 'delete', key: change.key })
    default:
      return jsonLine({ seq: change.seq, op: change.op, key: change.key, leaf: change.leaf ?? null })
  }
}

/**
 * The status line of `--stats`, from successive samples of the replica's stats:
 * `seq 1234 | 2400 deltas/s | lag 0 seqs, 0 ms | gaps 2 (3 nacks, 2 retransmits) | resyncs 0 | live`.
 */
export class StatsLine {
  #deltas = 0
  #atMs: number

  constructor(nowMs: number) {
    this.#atMs = nowMs
  }

  /** The line for `stats` sampled at `nowMs`; the rate is over the time since the last sample. */
  render(stats: ReplicaStats, nowMs: number): string {
    const elapsedMs = nowMs - this.#atMs
    const rate = elapsedMs > 0 ? Math.round(((stats.deltas - this.#deltas) * 1000) / elapsedMs) : 0
    this.#deltas = stats.deltas
    this.#atMs = nowMs
    return [
      `seq ${stats.seq}`,
      `${Math.max(0, rate)} deltas/s`,
      `lag ${stats.lagSeqs} seqs, ${Math.round(stats.lagMs)} ms`,
      `gaps ${stats.gaps} (${stats.nacks} nacks, ${stats.retransmits} retransmits)`,
      `resyncs ${stats.resyncs}`,
      stats.status,
    ].join(' | ')
  }
}

/** Redraws a line in place on a terminal: back to its start, clear it, write. */
export function redraw(line: string): string {
  return `\r\x1b[2K${line}`
}
