/**
 * Baseline (a): JSON over UDP multicast. The sender multicasts `JSON.stringify` of each delta,
 * newline-separated, after a first line with the first seq, batched into datagrams of up to 1400
 * bytes (a turn's deltas share datagrams, as ours do); the receiver JSON.parses each line and
 * applies it to a Map. No repair: a lost datagram's deltas are gone (counted as `lost`).
 */
import dgram from 'node:dgram'
import type { OrderBookDelta, OrderBookLeaf } from '../../../generated/index.js'
import type { OpenReceiver, OpenSender, ReceiverCounters, SenderCounters } from '../protocol.js'
import { applyJson, parseBatch } from './json-apply.js'
import { emptyReceiverCounters, type FeedReceiver, type FeedSender } from './types.js'

const MAX_DATAGRAM_BYTES = 1400
const BUFFER_BYTES = 4 * 1024 * 1024
const INTERFACE = '127.0.0.1'

export class JsonUdpSender implements FeedSender {
  readonly address: string
  readonly #socket: dgram.Socket
  readonly #group: string
  readonly #port: number
  readonly #book = new Map<string, OrderBookLeaf>()
  readonly #counters: SenderCounters = { deltas: 0, bytes: 0, packets: 0 }
  #lines: string[] = []
  #pendingBytes = 0
  #first = 0
  #seq = 0
  #scheduled = false

  private constructor(socket: dgram.Socket, group: string, port: number) {
    this.#socket = socket
    this.#group = group
    this.#port = port
    this.address = `${group}:${port}`
  }

  static async open(params: OpenSender): Promise<JsonUdpSender> {
    // The data port: a free one (a socket bound to port 0 and closed), as ours picks its ports.
    const probe = dgram.createSocket('udp4')
    await new Promise<void>((resolve) => probe.bind(0, INTERFACE, resolve))
    const port = probe.address().port
    await new Promise<void>((resolve) => probe.close(() => resolve()))
    const socket = dgram.createSocket('udp4')
    await new Promise<void>((resolve) => socket.bind(0, INTERFACE, resolve))
    socket.setMulticastInterface(INTERFACE)
    socket.setMulticastTTL(1)
    socket.setMulticastLoopback(true)
    return new JsonUdpSender(socket, params.group, port)
  }

  get seq(): number {
    return this.#seq
  }

  send(delta: OrderBookDelta): number {
    const seq = ++this.#seq
    const line = JSON.stringify(delta)
    const size = Buffer.byteLength(line) + 1
    if (this.#lines.length > 0 && 16 + this.#pendingBytes + size > MAX_DATAGRAM_BYTES) this.flush()
    if (this.#lines.length === 0) this.#first = seq
    this.#lines.push(line)
    this.#pendingBytes += size
    applyJson(this.#book, delta)
    this.#counters.deltas++
    if (!this.#scheduled) {
      this.#scheduled = true
      queueMicrotask(this.#flushScheduled)
    }
    return seq
  }

  readonly #flushScheduled = (): void => {
    this.#scheduled = false
    this.flush()
  }

  flush(): void {
    if (this.#lines.length === 0) return
    const datagram = Buffer.from(`${this.#first}\n${this.#lines.join('\n')}`)
    this.#lines = []
    this.#pendingBytes = 0
    this.#counters.bytes += datagram.length
    this.#counters.packets++
    this.#socket.send(datagram, this.#port, this.#group)
  }

  counters(): SenderCounters {
    return { ...this.#counters }
  }

  close(): Promise<void> {
    this.flush()
    return new Promise((resolve) => this.#socket.close(() => resolve()))
  }
}

export class JsonUdpReceiver implements FeedReceiver {
  readonly #socket: dgram.Socket
  readonly #book = new Map<string, OrderBookLeaf>()
  readonly #counters = emptyReceiverCounters()
  #seq = 0
  #hook: ((seq: number) => void) | undefined

  private constructor(socket: dgram.Socket) {
    this.#socket = socket
    socket.on('message', (bytes) => this.#onDatagram(bytes))
  }

  /** Binds the group's address and port (only that group's datagrams, as ours does) and joins it. */
  static async open(params: OpenReceiver): Promise<JsonUdpReceiver> {
    const [group, port] = params.address.split(':') as [string, string]
    const socket = dgram.createSocket({ type: 'udp4', reuseAddr: true })
    await new Promise<void>((resolve) => socket.bind(Number(port), group, resolve))
    socket.addMembership(group, INTERFACE)
    socket.setRecvBufferSize(BUFFER_BYTES)
    return new JsonUdpReceiver(socket)
  }

  get seq(): number {
    return this.#seq
  }

  #onDatagram(bytes: Buffer): void {
    const { first, deltas } = parseBatch(bytes.toString())
    // The first datagram sets the start; later, a jump past the next seq is loss (no repair).
    if (this.#seq !== 0 && first > this.#seq + 1) this.#counters.lost += first - this.#seq - 1
    if (first <= this.#seq) return
    for (let i = 0; i < deltas.length; i++) {
      applyJson(this.#book, deltas[i] as OrderBookDelta)
      this.#seq = first + i
      this.#counters.applied++
      if (this.#hook) this.#hook(this.#seq)
    }
  }

  counters(): ReceiverCounters {
    return { ...this.#counters }
  }

  onApply(hook: ((seq: number) => void) | undefined): void {
    this.#hook = hook
  }

  close(): Promise<void> {
    return new Promise((resolve) => this.#socket.close(() => resolve()))
  }
}
