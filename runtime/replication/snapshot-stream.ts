/**
 * The snapshot over a stream: for fast joins of large states, a publisher can serve its whole state
 * on one of our RPC transports (`snapshotStream: 'http' | 'ws' | 'zmq'`), and a joining replica
 * fetches it in one request instead of waiting for the carousel (which stays the fallback). The
 * reply is consistent by construction: it is encoded in one turn of the event loop, as the state
 * after the publisher's last seq.
 */
import { GrenacheError } from '../errors.js'
import type { Discovery } from '../peer/discovery.js'
import { RpcClient } from '../peer/rpc-client.js'
import { RpcServer } from '../peer/rpc-server.js'
import { ByteReader } from '../state/byte-reader.js'
import { ByteWriter } from '../state/byte-writer.js'
import type { StateCodec } from '../state/types.js'
import type { TransportKind } from '../transport/types.js'
import type { SnapshotTarget } from './leaf-store.js'
import { fillSnapshot } from './snapshot-entries.js'

/** Transports a snapshot stream can use, with their codes in INFO. */
export const STREAM_TRANSPORTS: Record<number, TransportKind> = { 1: 'http', 2: 'ws', 3: 'zmq' }
export type StreamTransport = 'http' | 'ws' | 'zmq'
export function streamCode(kind: StreamTransport): number {
  return kind === 'http' ? 1 : kind === 'ws' ? 2 : 3
}

/** What the stream answers. */
interface StreamReply {
  session: string
  fingerprint: string
  seq: number
  leaves: number
  digest: number
  /** The codec snapshot, base64. */
  data: string
}

/** The key a publisher serves its snapshot under: `<name>@<major>/snapshot`. */
export function snapshotKey(feed: string): string {
  return `${feed}/snapshot`
}

/** Serves the publisher's state: `state()` gives what to send, at the time of the request. */
export function serveSnapshots<K, L, P>(options: {
  codec: StateCodec<K, L, P>
  transport: StreamTransport
  host: string
  state(): { session: string; seq: number; leaves: ReadonlyMap<K, L>; digest: number }
}): RpcServer {
  const server = new RpcServer({
    listen: [{ transport: options.transport, host: options.host, port: 0, maxPayloadBytes: 64 * 1024 }],
  })
  server.handle(
    snapshotKey(options.codec.feed),
    (_request, reply) => {
      try {
        const state = options.state()
        const w = new ByteWriter(64 * 1024, { grow: true })
        options.codec.encodeSnapshot(state.seq, state.leaves, w)
        const answer: StreamReply = {
          session: state.session,
          fingerprint: options.codec.fingerprint,
          seq: state.seq,
          leaves: state.leaves.size,
          digest: state.digest,
          data: Buffer.from(w.bytes()).toString('base64'),
        }
        reply(null, answer)
      } catch (err) {
        reply(err instanceof Error ? err : new Error(String(err)))
      }
    },
    { discovery: 'plain' },
  )
  return server
}

/**
 * Fetches a snapshot from `host:port` over `transport`; checks it belongs to `session` and the
 * codec's fingerprint, and decodes it. Rejects with a `GrenacheError` on any problem.
 */
export async function fetchSnapshot<K, L, P>(options: {
  codec: StateCodec<K, L, P>
  transport: TransportKind
  address: string
  session: string
  timeoutMs: number
  /** Where the leaves go (each with its hash). */
  into: SnapshotTarget<K, L>
}): Promise<{ seq: number; leaves: number; digest: number; bytes: number }> {
  const discovery: Discovery = {
    lookup: async () => [options.address],
    startAnnouncing: async () => undefined,
    stopAnnouncing: () => false,
  }
  const client = new RpcClient({ link: discovery, transport: options.transport, retry: 0 })
  try {
    const answer = (await client.request(
      snapshotKey(options.codec.feed),
      {},
      { discovery: 'plain', timeoutMs: options.timeoutMs, idempotent: true },
    )) as Partial<StreamReply> | null
    if (
      typeof answer !== 'object' ||
      answer === null ||
      typeof answer.data !== 'string' ||
      typeof answer.seq !== 'number' ||
      typeof answer.leaves !== 'number' ||
      typeof answer.digest !== 'number'
    ) {
      throw new GrenacheError('ERR_BAD_REPLY', `snapshot from ${options.address}: not a snapshot`)
    }
    if (answer.fingerprint !== options.codec.fingerprint) {
      throw new GrenacheError(
        'ERR_FEED_INCOMPATIBLE',
        `snapshot from ${options.address}: fingerprint ${answer.fingerprint}, expected ${options.codec.fingerprint}`,
      )
    }
    if (answer.session !== options.session) {
      throw new GrenacheError('ERR_BAD_REPLY', `snapshot from ${options.address}: another session`)
    }
    const bytes = Buffer.from(answer.data, 'base64')
    const reader = new ByteReader(bytes)
    const into = options.into
    into.reserve?.(answer.leaves)
    // A key twice leaves the count and digest short of what was announced: refused at install.
    const snapshot = fillSnapshot(options.codec as StateCodec<K, L, unknown>, reader, into)
    reader.done()
    if (snapshot.seq !== answer.seq) {
      throw new GrenacheError(
        'ERR_DECODE',
        `snapshot from ${options.address}: seq ${snapshot.seq}, said ${answer.seq}`,
      )
    }
    return { seq: snapshot.seq, leaves: answer.leaves, digest: answer.digest, bytes: bytes.length }
  } finally {
    await client.close()
  }
}
