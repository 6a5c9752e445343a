import type { DatagramEndpoint } from './endpoint.js'
import type { ResolvedTransport } from './feed-transport.js'
import type { Subscribers } from './subscribers.js'

/**
 * Where a publisher's datagrams go from its control endpoint: DATA and heartbeats to the data
 * group, SNAPSHOT parts to the snapshot group; on a unicast feed, a copy to every subscriber (parts:
 * to those joining).
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

  snapshot(datagram: Buffer): void {
    const control = this.#control
    if (this.#transport.kind === 'unicast') {
      for (const address of this.#subscribers.joining()) control.send(datagram, address)
    } else control.send(datagram, this.#transport.snapshot)
  }
}
