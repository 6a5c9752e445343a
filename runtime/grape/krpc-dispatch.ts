import type { RemoteInfo } from 'node:dgram'
import type { EventEmitter } from 'node:events'
import type { BencodeDict } from './bencode.js'

/** The state of k-rpc-socket 1.11 that its message handler reads: pending queries by transaction id. */
export interface KrpcSocket extends EventEmitter {
  destroyed: boolean
  inflight: number
  _ids: number[]
  _reqs: (PendingQuery | null)[]
}

interface PendingQuery {
  /** Timeout checks left before the query fails with `ETIMEDOUT` (k-rpc-socket starts it at 4). */
  ttl: number
  peer: { host: string; port: number; id?: Buffer }
  message: unknown
  callback(err: Error | null, message: BencodeDict | null, from: RemoteInfo, query?: unknown): void
}

/** A node at a known address answered with another node id: it restarted. */
export type NodeReplaced = (oldId: Buffer, node: { id: Buffer; host: string; port: number }) => void

/**
 * What k-rpc-socket does with a datagram once it has decoded it, done here on the message the
 * guard already decoded and checked, so that each datagram is decoded once instead of twice.
 * Behaviour, events and errors are k-rpc-socket 1.11.1's, with one addition: an answer with a node
 * id other than the one the routing table holds for that address is reported (`onReplaced`), since
 * k-rpc never drops the old id (it only fails the query) and every later query to it fails too.
 */
export function createKrpcDispatch(krpc: KrpcSocket, onReplaced: NodeReplaced) {
  return (message: BencodeDict, from: RemoteInfo): void => {
    if (krpc.destroyed) return
    const type = (message.y as Buffer).toString()
    if (type === 'q') {
      krpc.emit('query', message, from)
      return
    }
    const t = message.t as Buffer
    if (t.length < 2) {
      krpc.emit('warning', new RangeError('a transaction id shorter than 2 bytes'))
      return
    }
    const tid = t.readUInt16BE(0)
    const index = krpc._ids.indexOf(tid)
    const pending = index === -1 || tid === 0 ? null : krpc._reqs[index]
    if (!pending) {
      krpc.emit('response', message, from)
      krpc.emit('warning', new Error(`Unexpected transaction id: ${tid}`))
      return
    }
    if (pending.peer.host !== from.address) {
      krpc.emit('response', message, from)
      krpc.emit('warning', new Error('Out of order response'))
      return
    }
    krpc._ids[index] = 0
    krpc._reqs[index] = null
    krpc.inflight--

    if (type === 'e') {
      const e = message.e as (Buffer | number)[]
      const err = new Error(e.join(' ')) as Error & { code: number }
      err.code = typeof e[0] === 'number' ? e[0] : 0
      settle(krpc, () => pending.callback(err, message, from, pending.message))
      return
    }
    const id = (message.r as BencodeDict).id as Buffer | undefined
    const expected = pending.peer.id
    if (expected && id && !expected.equals(id)) {
      onReplaced(expected, { id, host: from.address, port: from.port })
      settle(krpc, () => pending.callback(unexpectedNode(), null, from))
      return
    }
    settle(krpc, () => pending.callback(null, message, from, pending.message))
    krpc.emit('response', message, from)
  }
}

function settle(krpc: KrpcSocket, callback: () => void): void {
  callback()
  krpc.emit('update')
  krpc.emit('postupdate')
}

function unexpectedNode(): Error {
  return Object.assign(new Error('Unexpected node id'), { code: 'EUNEXPECTEDNODE' })
}
