import { ByteWriter } from '../state/byte-writer.js'
import { type FeedIds, HEADER_BYTES, Kind, seal, writeHeader, writeHeartbeat } from './packet.js'
import { type PublisherStats, publisherStatsChannel } from './stats.js'

export interface PublisherHeartbeatOptions {
  /** Interval of heartbeats (ms). */
  intervalMs: number
  ids(): FeedIds
  /** The last seq assigned. */
  seq(): number
  /** The publisher's copy of the state: a heartbeat says its digest and leaf count. */
  store: { readonly digest: number; readonly size: number }
  /** The carousel's current cycle (0: none running). */
  cycle(): number
  /** Runs before each heartbeat: sends the open datagram and forgets subscribers that went silent. */
  flush(): void
  /** Sends a heartbeat datagram where DATA goes (not counted as data). */
  send(datagram: Buffer): void
  /** The stats published on `grenache:publisher:stats` after each regular heartbeat. */
  stats(): PublisherStats
}

/**
 * A publisher's heartbeats: every `intervalMs`, and when asked (with flags such as
 * HEARTBEAT_CLOSING), one HEARTBEAT saying the last seq, the state's digest and leaf count and the
 * carousel's cycle; the stats go to their diagnostics channel after each regular one.
 */
export class PublisherHeartbeat {
  readonly #o: PublisherHeartbeatOptions
  readonly #stats: PublisherStats
  #timer: NodeJS.Timeout | undefined

  constructor(options: PublisherHeartbeatOptions, stats: PublisherStats) {
    this.#o = options
    this.#stats = stats
  }

  /** Sends one now and then every interval, until `stop()`. */
  start(): void {
    this.#timer = setInterval(() => this.send(0), this.#o.intervalMs)
    this.send(0)
  }

  stop(): void {
    clearInterval(this.#timer)
  }

  /** Sends one heartbeat with `flags`. */
  send(flags: number): void {
    this.#o.flush()
    const w = new ByteWriter(Buffer.allocUnsafe(HEADER_BYTES + 32))
    writeHeader(w, Kind.HEARTBEAT, this.#o.ids(), this.#o.seq())
    writeHeartbeat(w, {
      timeMs: performance.timeOrigin + performance.now(),
      digest: this.#o.store.digest,
      leaves: this.#o.store.size,
      cycle: this.#o.cycle(),
      flags,
      intervalMs: this.#o.intervalMs,
    })
    seal(w.buf, 0, w.pos)
    this.#stats.heartbeats++
    this.#o.send(w.buf.subarray(0, w.pos))
    if (flags === 0 && publisherStatsChannel.hasSubscribers) publisherStatsChannel.publish(this.#o.stats())
  }
}
