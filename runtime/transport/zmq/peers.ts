import type { ConnectionBounds } from '../shared/in-flight.js'
import type { ServerLimits } from '../shared/server-limits.js'

interface Peer {
  inFlight: number
  lastSeen: number
}

/**
 * The callers of a ZeroMQ worker, by routing id. libzmq reads every peer and cannot close one, so
 * the bounds are kept per peer here instead: a peer with `maxInFlight` requests unanswered, or a
 * new peer while `maxConnections` others are active (seen within `idleTimeoutMs`, or with requests
 * in flight), is refused `ERR_BUSY` before the handler runs.
 */
export class ZmqPeers {
  readonly #peers = new Map<number | string, Peer>()
  readonly #limits: ServerLimits
  readonly #bounds: ConnectionBounds
  #sweptAt = 0

  constructor(limits: ServerLimits, bounds: ConnectionBounds) {
    this.#limits = limits
    this.#bounds = bounds
  }

  get size(): number {
    return this.#peers.size
  }

  /** Takes one request of `identity`: its peer, or the reason to refuse it. */
  admit(identity: Buffer, now: number): Peer | string {
    const key = peerKey(identity)
    let peer = this.#peers.get(key)
    if (peer === undefined) {
      if (this.#peers.size >= this.#limits.maxConnections) this.#sweep(now)
      if (this.#peers.size >= this.#limits.maxConnections) {
        return `ERR_BUSY: this worker has ${this.#limits.maxConnections} callers active, its limit (maxConnections)`
      }
      peer = { inFlight: 0, lastSeen: now }
      this.#peers.set(key, peer)
    }
    peer.lastSeen = now
    if (peer.inFlight >= this.#bounds.maxInFlight) {
      return `ERR_BUSY: ${peer.inFlight} requests of this caller are in flight, the limit (maxInFlightPerConnection)`
    }
    peer.inFlight++
    return peer
  }

  /** Forgets peers silent for `idleTimeoutMs` with nothing in flight; at most once a second. */
  #sweep(now: number): void {
    if (now - this.#sweptAt < 1000) return
    this.#sweptAt = now
    const idle = this.#limits.idleTimeoutMs
    for (const [key, peer] of this.#peers) {
      if (peer.inFlight === 0 && now - peer.lastSeen >= idle) this.#peers.delete(key)
    }
  }
}

/** libzmq's own routing ids are a zero byte and a 32-bit counter: keyed as a number, no string made. */
function peerKey(identity: Buffer): number | string {
  return identity.length === 5 && identity[0] === 0 ? identity.readUInt32BE(1) : identity.toString('latin1')
}
