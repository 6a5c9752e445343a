import { EventEmitter } from 'node:events'
import { debuglog } from 'node:util'
import { GrenacheError, toGrenacheError } from '../errors.js'
import type { Discovery } from '../peer/discovery.js'
import type { Delta, StateCodec } from '../state/types.js'
import { type CallOptions, createDeadline, raceSignal } from '../util/deadline.js'
import { checkOption } from '../util/validate.js'
import type { DatagramAddress } from './endpoint.js'
import { Publisher, type PublisherOptions } from './publisher.js'
import { Replica, type ReplicaChange, type ReplicaOptions, type ResyncReason } from './replica.js'
import type { PublisherStats, ReplicaStats } from './stats.js'
import type { WsFeedState } from './ws-feed-frame.js'
import { WsFeedServer, type WsFeedServerOptions, type WsFeedServerStats } from './ws-feed-server.js'

const debug = debuglog('grenache')

/** The downstream publisher of a repeater: a `Publisher`'s options, less what the repeater decides. */
export interface RepeaterMulticastOptions extends Omit<PublisherOptions, 'link' | 'session' | 'validate'> {
  /**
   * Announce the downstream publisher as `<feed>/feed` through the repeater's `link`. Default
   * false: it has the upstream's feed name (and session), so replicas looking the feed up would
   * find both, and the repeater's own replica, if it looks the feed up on the same DHT, itself.
   */
  announce?: boolean
}

/** Options of a `Repeater`: the upstream, and at least one output. */
export interface RepeaterOptions {
  /** How the upstream replica finds and follows the feed (`link` or `publisher`, `transport`, …). */
  upstream: ReplicaOptions
  /** Re-publish the feed (same session, same seqs) on another group, transport or network. */
  multicast?: RepeaterMulticastOptions
  /** Serve the feed to WebSocket consumers (`WsFeedClient`), announced as `<feed>/ws`. */
  websocket?: WsFeedServerOptions
  /** Announces the outputs through this Link; default `upstream.link`. */
  link?: Discovery
}

export interface RepeaterEvents {
  /** The upstream replica installed a snapshot and the outputs now carry that state. */
  synced: [info: { seq: number; leaves: number; session: string }]
  /** The upstream replica resynced: the outputs are reset when it is in sync again. */
  resync: [info: { reason: ResyncReason; seq: number }]
  close: []
}

/** Where a started repeater serves. */
export interface RepeaterAddresses {
  /** The downstream publisher's control address (what its replicas give as `publisher`). */
  multicast?: DatagramAddress
  websocket?: { host: string; port: number; url: string }
}

export interface RepeaterStats {
  upstream: ReplicaStats
  multicast?: PublisherStats
  websocket?: WsFeedServerStats
  /** Deltas passed on to the outputs. */
  relayed: number
  /** Times the outputs were given a whole new state (first sync included). */
  resets: number
}

/**
 * A stream repeater: a replica of a feed on one side, the same stream re-published on the other,
 * to a downstream publisher (same session and seqs, so its replicas repair loss by NACKing the
 * repeater, which answers from its own ring) and to WebSocket consumers. See docs/replication.md.
 */
export class Repeater<K, L, P = Partial<L>> extends EventEmitter<RepeaterEvents> {
  readonly codec: StateCodec<K, L, P>
  readonly replica: Replica<K, L, P>
  readonly publisher: Publisher<K, L, P> | undefined
  readonly websocket: WsFeedServer<K, L, P> | undefined
  readonly #link: Discovery | undefined
  readonly #counts = { relayed: 0, resets: 0 }
  /** The upstream replica holds a whole state (synced, no resync since). */
  #valid = false
  /** The outputs carry the upstream's state: deltas are passed on. */
  #live = false
  #outputsStarted = false
  #announced: number | undefined
  #started: Promise<RepeaterAddresses> | undefined
  #closing: Promise<void> | undefined

  constructor(codec: StateCodec<K, L, P>, options: RepeaterOptions) {
    super()
    if (typeof options !== 'object' || options === null) checkOption.fail('', 'must be an object', options)
    if (typeof options.upstream !== 'object' || options.upstream === null)
      checkOption.fail('upstream', 'must be the options of the upstream replica', options.upstream)
    if (options.multicast === undefined && options.websocket === undefined)
      checkOption.fail(
        'multicast',
        'or options.websocket must be given (a repeater needs an output)',
        undefined,
      )
    this.codec = codec
    this.#link = options.link ?? options.upstream.link
    const { announce = false, ...multicast } = options.multicast ?? {}
    checkOption.boolean('multicast.announce', announce)
    if (announce && !this.#link) checkOption.fail('multicast.announce', 'needs options.link', announce)
    if (announce && this.#link === options.upstream.link && options.upstream.publisher === undefined) {
      checkOption.fail(
        'multicast.announce',
        'would announce the feed where the upstream replica looks it up: it would find itself (give upstream.publisher, or another link)',
        announce,
      )
    }
    this.replica = new Replica(codec, options.upstream)
    this.publisher =
      options.multicast === undefined
        ? undefined
        : new Publisher(codec, {
            ...multicast,
            ...(announce && this.#link ? { link: this.#link } : {}),
            validate: false,
          })
    this.websocket =
      options.websocket === undefined
        ? undefined
        : new WsFeedServer(codec, () => this.#state(), options.websocket)
    this.replica.on('synced', () => this.#onSynced())
    this.replica.on('resync', (info) => this.#onResync(info))
    this.replica.on('change', (change) => this.#onChange(change))
  }

  get wsFeedName(): string {
    return `${this.codec.feed}/ws`
  }

  get stats(): RepeaterStats {
    const stats: RepeaterStats = { upstream: this.replica.stats, ...this.#counts }
    if (this.publisher) stats.multicast = this.publisher.stats
    if (this.websocket) stats.websocket = this.websocket.stats
    return stats
  }

  /**
   * Starts the upstream replica and waits until it is in sync (default deadline 30 s), then starts
   * the outputs with its state and announces `<feed>/ws`. On failure everything is closed again.
   */
  start(options?: CallOptions): Promise<RepeaterAddresses> {
    if (this.#closing) return Promise.reject(new GrenacheError('ERR_CLOSED', 'the repeater is closed'))
    this.#started ??= this.#start(options).catch(async (err: unknown) => {
      await this.close()
      throw err
    })
    return this.#started
  }

  async #start(options: CallOptions | undefined): Promise<RepeaterAddresses> {
    const deadline = createDeadline(options, 30_000, `${this.codec.feed} repeater: start()`)
    try {
      const signal = deadline.signal
      await this.replica.start({ signal })
      await this.replica.synced({ signal })
      const addresses: RepeaterAddresses = {}
      if (this.publisher) {
        // Before start: the publisher's first heartbeat already carries the upstream's session.
        this.#resetPublisher(this.publisher)
        addresses.multicast = await raceSignal(this.publisher.start(), signal)
      }
      if (this.websocket) {
        const { host, port } = await raceSignal(this.websocket.start(), signal)
        addresses.websocket = { host, port, url: this.websocket.url }
      }
      if (this.#closing) throw new GrenacheError('ERR_CLOSED', 'the repeater closed while starting')
      this.#outputsStarted = true
      this.#install()
      if (this.websocket && this.#link) {
        const port = this.websocket.port
        await this.#link.startAnnouncing(this.wsFeedName, port, { signal })
        this.#announced = port
        if (this.#closing) this.#link.stopAnnouncing(this.wsFeedName, port)
      }
      return addresses
    } catch (err) {
      throw deadline.signal.aborted
        ? deadline.reason()
        : toGrenacheError(err, `${this.codec.feed} repeater: start()`)
    } finally {
      deadline.dispose()
    }
  }

  /** Stops announcing and closes the outputs, then the upstream replica. Idempotent. */
  close(): Promise<void> {
    this.#closing ??= this.#close()
    return this.#closing
  }

  async #close(): Promise<void> {
    this.#live = false
    if (this.#announced !== undefined) this.#link?.stopAnnouncing(this.wsFeedName, this.#announced)
    await Promise.all([this.websocket?.close(), this.publisher?.close()])
    await this.replica.close()
    this.emit('close')
  }

  #state(): WsFeedState<K, L> | undefined {
    const session = this.replica.session
    if (!this.#live || session === undefined) return undefined
    return { session, seq: this.replica.seq, digest: this.replica.stats.digest, leaves: this.replica.leaves }
  }

  #onSynced(): void {
    this.#valid = true
    if (this.#outputsStarted) this.#install()
  }

  #onResync(info: { reason: ResyncReason; seq: number }): void {
    this.#valid = false
    this.#live = false
    this.websocket?.reset(info.reason === 'restart' ? 'restart' : 'resync')
    this.emit('resync', info)
  }

  /** Gives the outputs the upstream replica's whole state. */
  #install(): void {
    if (!this.#valid || this.#closing) return
    try {
      if (this.publisher) this.#resetPublisher(this.publisher)
    } catch (err) {
      // Called from the replica's events: never throw into it.
      debug('%s repeater: reset of the downstream publisher failed (%s)', this.codec.feed, err)
      return
    }
    this.#counts.resets++
    this.#live = true
    this.websocket?.sync()
    const session = this.replica.session ?? ''
    this.emit('synced', { seq: this.replica.seq, leaves: this.replica.size, session })
  }

  #resetPublisher(publisher: Publisher<K, L, P>): void {
    const session = this.replica.session
    publisher.reset({
      seq: this.replica.seq,
      leaves: this.replica.leaves,
      ...(session === undefined ? {} : { session }),
    })
  }

  #onChange(change: ReplicaChange<K, L, P>): void {
    if (!this.#live) return
    // Deltas are absolute: the one that came goes on as it is, under the same seq.
    const delta: Delta<K, L, P> = change.delta
    try {
      this.websocket?.delta(change.seq, delta)
      this.publisher?.relay(change.seq, delta)
    } catch (err) {
      // Never throw into the replica. Mid-delta its seq lags its leaves: reinstall after it.
      debug(
        '%s repeater: relay of seq %d failed (%s); resetting the outputs',
        this.codec.feed,
        change.seq,
        err,
      )
      this.#live = false
      this.websocket?.reset('resync')
      queueMicrotask(() => this.#install())
      return
    }
    this.#counts.relayed++
  }
}
