import { Kind, type PacketHeader } from './packet.js'

/**
 * Whether a replica's publisher is alive: when it was last heard, its heartbeat interval and
 * whether its session said it is closing; and the replica's tick, once per heartbeat interval.
 */
export class ReplicaLiveness {
  /** The publisher's heartbeat interval (ms), from its INFO. */
  heartbeatMs = 100
  /** Heartbeats missed before the publisher is gone. */
  readonly #deadAfterHeartbeats: number
  #lastHeardMs = 0
  #closedSession = false
  #tickTimer: NodeJS.Timeout | undefined

  constructor(deadAfterHeartbeats: number) {
    this.#deadAfterHeartbeats = deadAfterHeartbeats
  }

  /** Runs `tick` every heartbeat interval until `stop()`. */
  start(tick: () => void): void {
    this.#tickTimer = setInterval(tick, this.heartbeatMs)
  }

  stop(): void {
    clearInterval(this.#tickTimer)
    this.#tickTimer = undefined
  }

  /** The publisher was heard now. */
  heard(): void {
    this.#lastHeardMs = performance.now()
  }

  /** How long the publisher has been silent (ms). */
  get silentMs(): number {
    return performance.now() - this.#lastHeardMs
  }

  /** Whether that long a silence means the publisher is gone (`deadAfterHeartbeats` intervals). */
  dead(silentMs: number): boolean {
    return silentMs > this.heartbeatMs * this.#deadAfterHeartbeats
  }

  /** The publisher's session said it is closing. */
  closing(): void {
    this.#closedSession = true
  }

  /** A session was adopted: it has not said it is closing. */
  adopted(): void {
    this.#closedSession = false
  }

  /** A packet of another session: a restart when ours closed or went quiet. */
  mayAdopt(header: PacketHeader): boolean {
    if (header.kind !== Kind.DATA && header.kind !== Kind.HEARTBEAT) return false
    return this.#closedSession || this.dead(this.silentMs)
  }
}
