import type { RemoteInfo, Socket } from 'node:dgram'
import { GrenacheError } from '../errors.js'
import { type BencodeDict, encodeBencode } from './bencode.js'
import { checkKrpcMessage, KRPC_ERROR, type KrpcErrorReply } from './krpc-check.js'

/** What the guard kept from bittorrent-dht, since the Grape was built. */
export interface DhtGuardStats {
  /** Malformed queries, answered with a KRPC error (203, or 205 for a value too large). */
  queriesRefused: number
  /** Datagrams dropped unanswered: not bencode, not KRPC, no transaction id, a malformed response. */
  messagesDropped: number
  /** Messages that passed the checks and still made the DHT throw (a query is answered 202). */
  handlerErrors: number
}

/** Takes a datagram the guard decoded and found well formed. */
export type KrpcDispatch = (message: BencodeDict, from: RemoteInfo) => void

/**
 * Stands between the DHT's UDP socket and k-rpc-socket, which decodes every datagram and hands it
 * to bittorrent-dht's handlers without checking a field: one packet with an integer `target` would
 * throw out of the socket's `message` event and end the process. The guard replaces the listener
 * k-rpc-socket put on the socket, decodes and checks each datagram (`checkKrpcMessage`), and hands
 * only what is well formed, already decoded, to `dispatch` (k-rpc-socket's own handling, see
 * krpc-dispatch.ts); it answers a malformed query with a KRPC error, counts what it refuses, and
 * reports each refusal as a warning. A throw that still gets through is caught, counted and
 * reported: nothing that arrives on the socket can end the process.
 */
export class DhtGuard {
  readonly stats: DhtGuardStats = { queriesRefused: 0, messagesDropped: 0, handlerErrors: 0 }
  readonly #socket: Socket
  readonly #dispatch: KrpcDispatch
  readonly #onWarning: (error: GrenacheError) => void

  /** Call once the DHT is built on `socket`, before it binds. */
  constructor(socket: Socket, onWarning: (error: GrenacheError) => void, dispatch: KrpcDispatch) {
    this.#socket = socket
    this.#onWarning = onWarning
    this.#dispatch = dispatch
    if (socket.listenerCount('message') === 0) {
      throw new GrenacheError('ERR_INTERNAL', 'the DHT socket has no message listener to guard')
    }
    // k-rpc-socket's listener would decode every datagram a second time: `dispatch` replaces it.
    socket.removeAllListeners('message')
    socket.on('message', (message: Buffer, from: RemoteInfo) => this.#receive(message, from))
  }

  #receive(datagram: Buffer, from: RemoteInfo): void {
    // k-rpc-socket drops these too: there is nowhere to answer.
    if (!from.port) return
    const verdict = checkKrpcMessage(datagram)
    if (!verdict.ok) {
      const { reply } = verdict
      if (reply) {
        this.stats.queriesRefused++
        this.#answer(from, reply)
      } else this.stats.messagesDropped++
      const outcome = reply ? `answered ${reply.code}` : 'dropped'
      this.#onWarning(
        new GrenacheError(
          'ERR_DECODE',
          `malformed DHT message from ${from.address}:${from.port}: ${verdict.reason} (${outcome})`,
        ),
      )
      return
    }
    try {
      this.#dispatch(verdict.message, from)
    } catch (err) {
      this.stats.handlerErrors++
      if (verdict.query && verdict.t) {
        this.#answer(from, { t: verdict.t, code: KRPC_ERROR.server, message: 'Server Error' })
      }
      const text = err instanceof Error ? err.message : String(err)
      this.#onWarning(
        new GrenacheError(
          'ERR_INTERNAL',
          `the DHT failed on a message from ${from.address}:${from.port}: ${text}`,
          {
            cause: err,
          },
        ),
      )
    }
  }

  #answer(to: RemoteInfo, { t, code, message }: KrpcErrorReply): void {
    const packet = encodeBencode({ t, y: 'e', e: [code, message] })
    try {
      this.#socket.send(packet, to.port, to.address, () => undefined)
    } catch {
      // The socket closed under us: nobody is left to answer.
    }
  }
}
