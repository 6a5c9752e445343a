import { createSocket, type RemoteInfo, type Socket } from 'node:dgram'
import { once } from 'node:events'
import { createRequire } from 'node:module'
import fc from 'fast-check'
import {
  type BencodeDict,
  type BencodeInput,
  type BencodeValue,
  decodeBencode,
  encodeBencode,
} from '../../runtime/grape/bencode.js'

/**
 * The bencode decoder and encoder k-rpc-socket uses on the DHT's wire (bencode 2, a CommonJS
 * package nested under k-rpc-socket): what the Grape's DHT actually sees of a datagram.
 */
export const wireBencode = createRequire(createRequire(import.meta.url).resolve('k-rpc-socket'))(
  'bencode',
) as { decode(bytes: Uint8Array): unknown; encode(value: unknown): Buffer }

/** A random byte string, now and then one of the names KRPC uses. */
const bytes: fc.Arbitrary<Buffer> = fc.oneof(
  fc.uint8Array({ maxLength: 24 }).map((b) => Buffer.from(b)),
  fc.constantFrom('q', 'r', 'e', 'id', 'target', 'v', 'k', 'sig', 'toString').map((s) => Buffer.from(s)),
)

const key: fc.Arbitrary<string> = fc.oneof(
  fc.constantFrom('a', 't', 'y', 'q', 'id', 'target', 'info_hash', 'v', 'k', 'sig', 'seq', 'toString'),
  fc.string({ maxLength: 6 }),
)

/** Any bencode value, a few levels deep. */
export const bencodeValue: fc.Arbitrary<BencodeValue> = fc.letrec<{ value: BencodeValue }>((tie) => ({
  value: fc.oneof(
    { depthSize: 'small', withCrossShrink: true },
    bytes,
    fc.maxSafeInteger(),
    fc.integer({ min: -5, max: 70_000 }),
    fc.array(tie('value'), { maxLength: 4 }),
    fc.dictionary(key, tie('value'), { maxKeys: 4 }).map((entries) => toDict(entries)),
  ),
})).value

export function toDict(entries: Record<string, BencodeValue>): BencodeDict {
  return Object.assign(Object.create(null) as BencodeDict, entries)
}

/** What a probe sends back to a query it receives: datagrams, in order. */
export type QueryAnswerer = (query: BencodeDict, id: Buffer) => Uint8Array[]

/** Answers every query as a DHT node that knows nothing: `{ id }`. */
export const plainAnswer: QueryAnswerer = (query, id) => [
  encodeBencode({ t: query.t as Buffer, y: 'r', r: { id } }),
]

/**
 * A UDP socket on 127.0.0.1 that sends raw datagrams to a DHT node and reads its answers. It also
 * answers the node's queries (through `answerer`), so that a node that added it to its routing
 * table is not left waiting for it.
 */
export class KrpcProbe {
  readonly socket: Socket
  /** This probe's node id. */
  readonly id = Buffer.alloc(20, 0x5a)
  answerer: QueryAnswerer = plainAnswer
  readonly #answers = new Map<string, (answer: BencodeDict) => void>()
  #tid = 0

  private constructor(socket: Socket) {
    this.socket = socket
    socket.on('message', (message: Buffer, from: RemoteInfo) => {
      let decoded: BencodeValue
      try {
        decoded = decodeBencode(message)
      } catch {
        return
      }
      const { t, y } = decoded as BencodeDict
      if (!Buffer.isBuffer(t)) return
      if (y?.toString() === 'q') {
        for (const datagram of this.answerer(decoded as BencodeDict, this.id)) {
          this.socket.send(datagram, from.port, from.address)
        }
      } else this.#answers.get(t.toString('hex'))?.(decoded as BencodeDict)
    })
  }

  static async open(): Promise<KrpcProbe> {
    const socket = createSocket('udp4')
    socket.bind(0, '127.0.0.1')
    await once(socket, 'listening')
    return new KrpcProbe(socket)
  }

  /** A transaction id this probe has not used. */
  nextTid(): Buffer {
    const t = Buffer.alloc(4)
    t.writeUInt32BE(++this.#tid)
    return t
  }

  send(port: number, datagram: Uint8Array): Promise<void> {
    return new Promise((resolve, reject) =>
      this.socket.send(datagram, port, '127.0.0.1', (err) => (err ? reject(err) : resolve())),
    )
  }

  /**
   * Sends `message` (its `t` is set when missing) and resolves with the answer carrying its `t`,
   * or undefined after `timeoutMs`.
   */
  async ask(
    port: number,
    message: Record<string, unknown>,
    timeoutMs = 2000,
  ): Promise<BencodeDict | undefined> {
    const t = Buffer.isBuffer(message.t) ? message.t : this.nextTid()
    const id = t.toString('hex')
    const answer = new Promise<BencodeDict | undefined>((resolve) => {
      const timer = setTimeout(() => {
        this.#answers.delete(id)
        resolve(undefined)
      }, timeoutMs)
      this.#answers.set(id, (value) => {
        clearTimeout(timer)
        this.#answers.delete(id)
        resolve(value)
      })
    })
    await this.send(port, encodeBencode({ ...message, t } as BencodeInput))
    return answer
  }

  /** Resolves true when the node at `port` answers a ping. */
  async ping(port: number, timeoutMs = 2000): Promise<boolean> {
    const answer = await this.ask(port, query('ping', {}), timeoutMs)
    return answer?.y?.toString() === 'r'
  }

  async close(): Promise<void> {
    const closed = once(this.socket, 'close')
    this.socket.close()
    await closed
  }
}

/** A well-formed query of `method`, from the node id `args.id` or the probe's own. */
export function query(method: string, args: Record<string, unknown>): Record<string, unknown> {
  return { y: 'q', q: method, a: { id: Buffer.alloc(20, 0x5a), ...args } }
}

/** `[code, message]` of a KRPC error answer, or undefined when `answer` is not one. */
export function krpcError(answer: BencodeDict | undefined): [number, string] | undefined {
  if (answer?.y?.toString() !== 'e' || !Array.isArray(answer.e)) return undefined
  const [code, message] = answer.e
  return [code as number, String(message)]
}
