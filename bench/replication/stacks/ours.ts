/**
 * Our stack: the generated `OrderBookPublisher` and `OrderBookReplica` over UDP multicast on
 * 127.0.0.1 (runtime/replication), the replica given the publisher's control address (no Grape).
 */
import {
  OrderBookCodec,
  type OrderBookDelta,
  OrderBookPublisher,
  OrderBookReplica,
} from '../../../generated/index.js'
import { ByteWriter, type LossyNetwork, lossyNetwork, UdpNetwork } from '../../../runtime/index.js'
import type { OpenReceiver, OpenSender, ReceiverCounters, SenderCounters } from '../protocol.js'
import type { FeedReceiver, FeedSender } from './types.js'

export class OursSender implements FeedSender {
  readonly address: string
  readonly publisher: OrderBookPublisher

  private constructor(publisher: OrderBookPublisher, address: string) {
    this.publisher = publisher
    this.address = address
  }

  static async open(params: OpenSender, snapshotBytesPerSecond: number): Promise<OursSender> {
    const publisher = new OrderBookPublisher({
      transport: { kind: 'multicast', group: params.group, interface: '127.0.0.1' },
      validate: params.validate,
      snapshotBytesPerSecond,
      ...(params.snapshotStream ? { snapshotStream: 'http' as const } : {}),
    })
    const control = await publisher.start()
    return new OursSender(publisher, `${control.host}:${control.port}`)
  }

  get seq(): number {
    return this.publisher.seq
  }

  send(delta: OrderBookDelta): number {
    return this.publisher.apply(delta)
  }

  counters(): SenderCounters {
    const stats = this.publisher.stats
    return { deltas: stats.deltas, bytes: stats.bytes, packets: stats.datagrams }
  }

  /** The codec snapshot of the state now, bytes (what one carousel cycle carries, less headers). */
  stateBytes(): number {
    const w = new ByteWriter(1 << 20, { grow: true })
    OrderBookCodec.encodeSnapshot(this.publisher.seq, this.publisher.leaves, w)
    return w.pos
  }

  close(): Promise<void> {
    return this.publisher.close()
  }
}

export class OursReceiver implements FeedReceiver {
  readonly replica: OrderBookReplica
  readonly #lossy: LossyNetwork | undefined
  #hook: ((change: { seq: number }) => void) | undefined
  readonly #resyncs = { overflow: 0, nack: 0 }

  private constructor(replica: OrderBookReplica, lossy: LossyNetwork | undefined) {
    this.replica = replica
    this.#lossy = lossy
    replica.on('resync', ({ reason }) => {
      if (reason === 'overflow') this.#resyncs.overflow++
      if (reason === 'nack-attempts') this.#resyncs.nack++
    })
  }

  static async open(params: OpenReceiver): Promise<OursReceiver> {
    const lossy = params.lossy
      ? lossyNetwork(new UdpNetwork({ interface: '127.0.0.1' }), {
          on: 'receive',
          seed: params.lossy.seed,
          drop: params.lossy.drop,
        })
      : undefined
    const replica = new OrderBookReplica({
      publisher: params.address,
      transport: { kind: 'multicast', interface: '127.0.0.1', ...(lossy ? { network: lossy } : {}) },
      ...(params.nackRetryMs === undefined ? {} : { nackRetryMs: params.nackRetryMs }),
    })
    await replica.start({ timeoutMs: 10_000 })
    await replica.synced({ timeoutMs: 20_000 })
    return new OursReceiver(replica, lossy)
  }

  get seq(): number {
    return this.replica.seq
  }

  counters(): ReceiverCounters {
    const stats = this.replica.stats
    return {
      applied: stats.deltas,
      lost: 0,
      resyncs: stats.resyncs,
      resyncsOverflow: this.#resyncs.overflow,
      resyncsNack: this.#resyncs.nack,
      gaps: stats.gaps,
      nacks: stats.nacks,
      retransmits: stats.retransmits,
      disconnects: 0,
      injectedDrops: this.#lossy?.endpoints.reduce((sum, endpoint) => sum + endpoint.stats.dropped, 0) ?? 0,
    }
  }

  onApply(hook: ((seq: number) => void) | undefined): void {
    if (this.#hook) this.replica.off('change', this.#hook)
    this.#hook = hook ? (change) => hook(change.seq) : undefined
    if (this.#hook) this.replica.on('change', this.#hook)
  }

  close(): Promise<void> {
    return this.replica.close()
  }
}
