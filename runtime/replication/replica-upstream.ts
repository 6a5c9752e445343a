import { GrenacheError } from '../errors.js'
import type { Discovery } from '../peer/discovery.js'
import type { ByteWriter } from '../state/byte-writer.js'
import type { DatagramAddress } from './endpoint.js'
import { type FeedSockets, parseAddress } from './feed-sockets.js'
import { FeedIds, type FeedInfo, PacketHeader } from './packet.js'
import { replicaHost } from './replica-bind.js'
import type { ReplicaLiveness } from './replica-liveness.js'
import type { ReplicaStats } from './stats.js'

export interface ReplicaUpstreamOptions {
  /** The discovery name of the feed (`<name>@<major>/feed`). */
  feedName: string
  /** The codec's fingerprint (hex): a publisher of another one is refused. */
  fingerprint: string
  /** The publisher's address when it was given (no lookup). */
  publisher: string | undefined
  link: Discovery | undefined
  /** The replica's own socket's address; undefined: the route's source towards the publisher. */
  host: string | undefined
}

export interface ReplicaUpstreamHooks {
  /** Whether the replica is stale: only then is an INFO of a new session a restarted publisher. */
  stale(): boolean
  /** Whether the replica closed (a restarted publisher found meanwhile is not followed). */
  closed(): boolean
  /** A restarted publisher's session was adopted from its INFO: join it afresh. */
  restarted(): void
}

/**
 * The publisher a replica follows: found at start (given or looked up, its fingerprint checked, its
 * groups joined), its address and session, HELLOs and requests to it; and, while it is gone, found
 * again: a restarted publisher's INFO makes the replica follow the new session.
 */
export class ReplicaUpstream {
  readonly #o: ReplicaUpstreamOptions
  readonly #sockets: FeedSockets
  readonly #liveness: ReplicaLiveness
  readonly #stats: ReplicaStats
  readonly #hooks: ReplicaUpstreamHooks
  #publisher: DatagramAddress | undefined
  #session: { session0: number; session1: number; hex: string } | undefined
  /** The fingerprint to compare packets with, and the session followed (zero before one is known). */
  #ids: FeedIds
  #switching = false
  #rediscoverAtMs = 0

  constructor(
    options: ReplicaUpstreamOptions,
    sockets: FeedSockets,
    liveness: ReplicaLiveness,
    stats: ReplicaStats,
    hooks: ReplicaUpstreamHooks,
  ) {
    this.#o = options
    this.#sockets = sockets
    this.#liveness = liveness
    this.#stats = stats
    this.#hooks = hooks
    this.#ids = new FeedIds(Buffer.alloc(8), options.fingerprint)
  }

  get ids(): FeedIds {
    return this.#ids
  }

  /** The session followed, once known. */
  get session(): { session0: number; session1: number; hex: string } | undefined {
    return this.#session
  }

  /** The publisher's control address, once known. */
  get address(): DatagramAddress | undefined {
    return this.#publisher
  }

  /**
   * Finds the publisher, checks its fingerprint (`ERR_FEED_INCOMPATIBLE`), joins its groups and
   * adopts its session.
   */
  async find(signal: AbortSignal): Promise<void> {
    const o = this.#o
    const candidates = o.publisher
      ? [o.publisher]
      : await (o.link as Discovery).lookup(o.feedName, { signal })
    await this.#sockets.openControl(o.host ?? (await replicaHost(candidates)))
    const { header, info, from } = await this.#sockets.askInfo(candidates, this.#ids, signal)
    const fingerprint = header.fingerprintHex()
    if (fingerprint !== o.fingerprint) {
      throw new GrenacheError(
        'ERR_FEED_INCOMPATIBLE',
        `${o.feedName} at ${from.host}:${from.port} publishes fingerprint ${fingerprint}, this replica reads ${o.fingerprint}: the state layouts differ`,
      )
    }
    this.#liveness.heartbeatMs = info.heartbeatMs
    await this.#sockets.subscribe(info)
    this.adopt(header, from)
    this.#liveness.heard()
  }

  /** Follows the session of `header`, published from `from`. */
  adopt(header: PacketHeader, from: DatagramAddress): void {
    const bytes = header.sessionBytes()
    this.#session = { session0: header.session0, session1: header.session1, hex: bytes.toString('hex') }
    this.#ids = new FeedIds(bytes, this.#o.fingerprint)
    this.#publisher = { ...from }
    this.#liveness.adopted()
  }

  /** An INFO packet (`header` is reused by the caller). */
  info(header: PacketHeader, info: FeedInfo, from: DatagramAddress): void {
    if (this.#sockets.offerInfo(header, info, from)) return
    // After start: an answer to a rediscovery. A new session of our state is a restarted publisher.
    if (!header.sameFingerprint(this.#ids)) {
      this.#stats.foreign++
      return
    }
    if (!this.#hooks.stale() || (this.#session && header.sameSession(this.#session))) return
    const copy = new PacketHeader()
    Object.assign(copy, header)
    void this.#switchTo(copy, info, from)
  }

  /** While stale, looks the feed up again and says HELLO: a restarted publisher answers INFO. */
  rediscover(): void {
    const now = performance.now()
    if (now < this.#rediscoverAtMs) return
    this.#rediscoverAtMs = now + Math.max(250, this.#liveness.heartbeatMs * 2)
    const hello = (candidates: readonly string[]) => {
      for (const candidate of candidates) this.#sockets.hello(parseAddress(candidate), 0, this.#ids)
    }
    const o = this.#o
    if (o.publisher) hello([o.publisher])
    else {
      o.link?.invalidate?.(o.feedName)
      o.link?.lookup(o.feedName, { timeoutMs: 2000 }).then(hello, () => undefined)
    }
  }

  /** Says HELLO to the publisher with `flags`. */
  hello(flags: number): void {
    if (this.#publisher) this.#sockets.hello(this.#publisher, flags, this.#ids)
  }

  /** Sends a packet built in `w` to the publisher. */
  send(w: ByteWriter): void {
    if (this.#publisher) this.#sockets.send(w, this.#publisher)
  }

  /** Follows a restarted publisher: new ports or group if it has them, then a fresh join. */
  async #switchTo(header: PacketHeader, info: FeedInfo, from: DatagramAddress): Promise<void> {
    if (this.#switching) return
    this.#switching = true
    try {
      this.#liveness.heartbeatMs = info.heartbeatMs
      await this.#sockets.subscribe(info)
      if (this.#hooks.closed()) return
      this.adopt(header, from)
      this.#liveness.heard()
      this.#hooks.restarted()
    } catch {
      // The next rediscovery tries again.
    } finally {
      this.#switching = false
    }
  }
}
