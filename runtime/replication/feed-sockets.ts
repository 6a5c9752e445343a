import { ByteWriter } from '../state/byte-writer.js'
import type { DatagramAddress, DatagramEndpoint, DatagramListener, DatagramNetwork } from './endpoint.js'
import {
  type FeedIds,
  type FeedInfo,
  HEADER_BYTES,
  HELLO_LEAVE,
  HELLO_SUBSCRIBE,
  Kind,
  PacketHeader,
  seal,
  writeHeader,
} from './packet.js'

/**
 * A replica's sockets: its own (control: HELLO, NACK, unicast replies), the data group's and the
 * snapshot group's (multicast and memory), bound and joined as the publisher's INFO says.
 */
export class FeedSockets {
  readonly #network: DatagramNetwork
  readonly #listener: DatagramListener
  #control: DatagramEndpoint | undefined
  #data: DatagramEndpoint | undefined
  #snapshot: DatagramEndpoint | undefined
  #info: FeedInfo | undefined
  #snapshotsJoined = false

  constructor(network: DatagramNetwork, listener: DatagramListener) {
    this.#network = network
    this.#listener = listener
  }

  get info(): FeedInfo | undefined {
    return this.#info
  }

  #waitingForInfo: ((header: PacketHeader, info: FeedInfo, from: DatagramAddress) => void) | undefined

  /** Says HELLO to each candidate (again every 50 ms, then up to 250) until one answers INFO. */
  askInfo(
    candidates: readonly string[],
    ids: FeedIds,
    signal: AbortSignal,
  ): Promise<{ header: PacketHeader; info: FeedInfo; from: DatagramAddress }> {
    return new Promise((resolve, reject) => {
      let timer: NodeJS.Timeout | undefined
      let delayMs = 50
      const ask = () => {
        for (const candidate of candidates) this.hello(parseAddress(candidate), 0, ids)
        timer = setTimeout(ask, delayMs)
        delayMs = Math.min(250, delayMs * 2)
      }
      const finish = () => {
        clearTimeout(timer)
        this.#waitingForInfo = undefined
        signal.removeEventListener('abort', onAbort)
      }
      const onAbort = () => {
        finish()
        reject(signal.reason)
      }
      signal.addEventListener('abort', onAbort, { once: true })
      this.#waitingForInfo = (header, info, from) => {
        const copy = new PacketHeader()
        Object.assign(copy, header)
        finish()
        resolve({ header: copy, info, from })
      }
      ask()
    })
  }

  /** An INFO came in: true when `askInfo` was waiting for it. */
  offerInfo(header: PacketHeader, info: FeedInfo, from: DatagramAddress): boolean {
    if (!this.#waitingForInfo) return false
    this.#waitingForInfo(header, info, from)
    return true
  }

  async openControl(host: string): Promise<void> {
    const control = await this.#network.bind({ host, port: 0 })
    this.#control = control
    control.onMessage(this.#listener)
    control.onError(() => undefined)
  }

  /** Binds the group sockets of `info` (again, when the publisher moved to other ports or a group). */
  async subscribe(info: FeedInfo): Promise<void> {
    const old = this.#info
    this.#info = info
    if (info.transport === 'unicast') return
    const same =
      old !== undefined &&
      old.transport === info.transport &&
      old.group === info.group &&
      old.dataPort === info.dataPort &&
      old.snapshotPort === info.snapshotPort
    if (same && this.#data) return
    await Promise.all([this.#data?.close(), this.#snapshot?.close()])
    this.#snapshotsJoined = false
    this.#data = await this.#bindGroup(info, info.dataPort)
    this.#data.joinGroup(info.group)
    this.#snapshot = await this.#bindGroup(info, info.snapshotPort)
  }

  /** Starts (or stops) hearing the snapshot carousel's group. */
  snapshots(on: boolean): void {
    const info = this.#info
    if (!info || info.transport === 'unicast' || !this.#snapshot || on === this.#snapshotsJoined) return
    if (on) this.#snapshot.joinGroup(info.group)
    else this.#snapshot.leaveGroup(info.group)
    this.#snapshotsJoined = on
  }

  /** Sends a packet built in `w` (sealed here) from the control socket. */
  send(w: ByteWriter, to: DatagramAddress): void {
    seal(w.buf, 0, w.pos)
    this.#control?.send(w.buf.subarray(0, w.pos), to)
  }

  /** Sends HELLO with `flags` (plus "subscribe" on a unicast feed, unless leaving). */
  hello(to: DatagramAddress, flags: number, ids: FeedIds): void {
    const unicast = this.#info?.transport === 'unicast'
    const w = new ByteWriter(Buffer.allocUnsafe(HEADER_BYTES + 1))
    writeHeader(w, Kind.HELLO, ids, 0)
    w.u8(flags | (unicast && !(flags & HELLO_LEAVE) ? HELLO_SUBSCRIBE : 0))
    this.send(w, to)
  }

  async close(): Promise<void> {
    this.#waitingForInfo = undefined
    await Promise.all([this.#snapshot?.close(), this.#data?.close(), this.#control?.close()])
  }

  /** A multicast receiver binds the group address: only that group's datagrams reach it. */
  #bindGroup(info: FeedInfo, port: number): Promise<DatagramEndpoint> {
    const options =
      info.transport === 'multicast' ? { host: info.group, port, reuseAddr: true } : { port, reuseAddr: true }
    return this.#network.bind(options).then((endpoint) => {
      endpoint.onMessage(this.#listener)
      endpoint.onError(() => undefined)
      return endpoint
    })
  }
}

/** `host:port` → an address. */
export function parseAddress(text: string): DatagramAddress {
  const at = text.lastIndexOf(':')
  return { host: text.slice(0, at), port: Number(text.slice(at + 1)) }
}
