/** Where a datagram comes from or goes to. */
export interface DatagramAddress {
  host: string
  port: number
}

/** Called with each datagram an endpoint receives; `bytes` is the endpoint's to keep. */
export type DatagramListener = (bytes: Buffer, from: DatagramAddress) => void

/**
 * One datagram socket, real (UDP) or simulated (memory network): what publishers, replicas and
 * repeaters send and receive through. Sending never throws for a network problem: datagrams may
 * be lost, and a send error is reported to `onError` (counted by the owner), never fatal.
 */
export interface DatagramEndpoint {
  /** The address others send to (after `bind`). */
  readonly address: DatagramAddress
  /** Sends one datagram. The endpoint may keep `bytes` until sent: do not change them after. */
  send(bytes: Uint8Array, to: DatagramAddress): void
  /** Receives datagrams sent to the address or to a group it joined. */
  onMessage(listener: DatagramListener): void
  /** Reports send and socket errors that lost a datagram (never fatal). */
  onError(listener: (error: Error) => void): void
  /** Starts receiving what is sent to `group` (a multicast group, or a memory group name). */
  joinGroup(group: string): void
  leaveGroup(group: string): void
  /** Closes the socket; idempotent. */
  close(): Promise<void>
}

/** Makes endpoints for one kind of network: bound to a port, or to a group's port. */
export interface DatagramNetwork {
  /** An endpoint bound to `host:port` (port 0: a free one). */
  bind(options: { host?: string; port?: number; reuseAddr?: boolean }): Promise<DatagramEndpoint>
}
