import type { DatagramAddress, DatagramEndpoint } from './endpoint.js'
import type { ResolvedTransport } from './feed-transport.js'
import type { Subscribers } from './subscribers.js'

/**
 * Where a publisher's datagrams go from its control endpoint: DATA and heartbeats to the data
 * group, SNAPSHOT parts to the snapshot group; on a unicast feed, a copy to every subscriber (parts:
 * to those joining). A retransmit also goes to the replica that asked for it (see `retransmit`).
 */
export class PublisherFanout {
  readonly #control: DatagramEndpoint
  readonly #transport: ResolvedTransport
  readonly #subscribers: Subscribers

  constructor(control: DatagramEndpoint, transport: ResolvedTransport, subscribers: Subscribers) {
    this.#control = control
    this.#transport = transport
    this.#subscribers = subscribers
  }

  data(datagram: Buffer): void {
    const control = this.#control
    if (this.#transport.kind === 'unicast') {
      for (const address of this.#subscribers.all()) control.send(datagram, address)
    } else control.send(datagram, this.#transport.data)
  }

  /**
   * A DATA datagram sent again for `requester`: to it alone, or (`toGroup`) to the group and a copy
   * to it. The group's copy reaches the requester behind everything its data socket holds, and a
   * replica that lost a datagram while flooded would fill its window (and resync) before reading
   * it; on a unicast feed the group's copy is the requester's.
   */
  retransmit(datagram: Buffer, requester: DatagramAddress, toGroup: boolean): void {
    if (toGroup) {
      this.data(datagram)
      if (this.#transport.kind === 'unicast') return
    }
    this.#control.send(datagram, requester)
  }

  snapshot(datagram: Buffer): void {
    const control = this.#control
    if (this.#transport.kind === 'unicast') {
      for (const address of this.#subscribers.joining()) control.send(datagram, address)
    } else control.send(datagram, this.#transport.snapshot)
  }
}
