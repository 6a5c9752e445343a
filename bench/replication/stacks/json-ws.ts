/**
 * Baseline (b): this project's WebSocket pub/sub (`PubServer` / `SubClient` of runtime/peer, the
 * reference `PeerPub` protocol: raw frames, no envelope). The sender publishes one text message per
 * turn (the API takes any size, so the whole turn's deltas: the first seq on a line, then one
 * `JSON.stringify(delta)` per line); the subscriber JSON.parses each line and applies it to a Map.
 * TCP loses nothing; a subscriber too slow for too long is dropped by the publisher (`disconnects`).
 */
import type { OrderBookDelta, OrderBookLeaf } from '../../../generated/index.js'
import { type Discovery, PubServer, SubClient } from '../../../runtime/index.js'
import type { OpenReceiver, OpenSender, ReceiverCounters, SenderCounters } from '../protocol.js'
import { applyJson, parseBatch } from './json-apply.js'
import { emptyReceiverCounters, type FeedReceiver, type FeedSender } from './types.js'

const NAME = 'bench:replication:json'

/** Server-to-client WebSocket frame header bytes (unmasked) for a payload of `length` bytes. */
function frameHeaderBytes(length: number): number {
  return length < 126 ? 2 : length < 65_536 ? 4 : 10
}

export class JsonWsSender implements FeedSender {
  readonly address: string
  readonly #server: PubServer
  readonly #book = new Map<string, OrderBookLeaf>()
  readonly #counters: SenderCounters = { deltas: 0, bytes: 0, packets: 0 }
  #lines: string[] = []
  #first = 0
  #seq = 0
  #scheduled = false

  private constructor(server: PubServer, port: number) {
    this.#server = server
    this.address = `127.0.0.1:${port}`
  }

  static async open(_params: OpenSender): Promise<JsonWsSender> {
    const server = new PubServer({ name: NAME, transport: 'ws', host: '127.0.0.1', port: 0 })
    const port = await server.start()
    return new JsonWsSender(server, port)
  }

  get seq(): number {
    return this.#seq
  }

  send(delta: OrderBookDelta): number {
    const seq = ++this.#seq
    if (this.#lines.length === 0) this.#first = seq
    this.#lines.push(JSON.stringify(delta))
    applyJson(this.#book, delta)
    this.#counters.deltas++
    if (!this.#scheduled) {
      this.#scheduled = true
      queueMicrotask(this.#flush)
    }
    return seq
  }

  readonly #flush = (): void => {
    this.#scheduled = false
    if (this.#lines.length === 0) return
    const message = `${this.#first}\n${this.#lines.join('\n')}`
    this.#lines = []
    const bytes = Buffer.byteLength(message)
    this.#counters.bytes += bytes + frameHeaderBytes(bytes)
    this.#counters.packets++
    this.#server.publish(message)
  }

  counters(): SenderCounters {
    return { ...this.#counters }
  }

  close(): Promise<void> {
    return this.#server.close()
  }
}

/** Discovery that knows one address: the subscriber needs no Grape. */
function staticDiscovery(address: string): Discovery {
  return {
    lookup: async () => [address],
    startAnnouncing: async () => undefined,
    stopAnnouncing: () => false,
  }
}

export class JsonWsReceiver implements FeedReceiver {
  readonly #client: SubClient
  readonly #book = new Map<string, OrderBookLeaf>()
  readonly #counters = emptyReceiverCounters()
  #seq = 0
  #hook: ((seq: number) => void) | undefined

  private constructor(client: SubClient) {
    this.#client = client
    client.on('sub:message', (message) => this.#onMessage(message.data))
    client.on('sub:disconnected', () => {
      this.#counters.disconnects++
    })
  }

  static async open(params: OpenReceiver): Promise<JsonWsReceiver> {
    const client = new SubClient({
      link: staticDiscovery(params.address),
      name: NAME,
      transport: 'ws',
      // No `for await` reader: keep the unread queue small.
      maxQueuedMessages: 1,
    })
    const receiver = new JsonWsReceiver(client)
    await client.start({ timeoutMs: 10_000 })
    return receiver
  }

  get seq(): number {
    return this.#seq
  }

  #onMessage(data: string | Buffer): void {
    const { first, deltas } = parseBatch(typeof data === 'string' ? data : data.toString())
    if (this.#seq !== 0 && first > this.#seq + 1) this.#counters.lost += first - this.#seq - 1
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
    return this.#client.close()
  }
}
