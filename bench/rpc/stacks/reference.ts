/**
 * The reference stack: grenache-nodejs-http 0.7.13 and grenache-nodejs-ws 0.7.10 (CommonJS), their
 * own PeerRPCClient and PeerRPCServer, unmodified.
 *
 * No Grape in the loop: `PeerRPCClient` only calls `link.lookup(key, opts, cb)` (request, map), so
 * it gets a stub link that answers at once, synchronously, with the static worker list, as
 * grenache-nodejs-link does on a hit in its lookup LRU (perf-baseline: 1.4 µs per hit). Everything
 * after the lookup (dest choice, transport pool, request@2.88 / ws@7, envelope, uuid) is the
 * reference's own code. The server's `listen(port)` binds every interface; `loopback.ts` makes a
 * bare `listen(port)` bind 127.0.0.1 in the server process.
 */

import { once } from 'node:events'
import { createRequire } from 'node:module'
import type { Server } from 'node:net'
import { ECHO_KEY, type Proto } from '../protocol.js'
import { bindBareListenToLoopback } from './loopback.js'
import { type BenchClient, type EchoServer, UnavailableError } from './types.js'

const require = createRequire(import.meta.url)

type Callback<T> = (err: Error | null, value?: T) => void

/** What PeerRPCClient and PeerRPCServer use of a Link. */
interface StubLink {
  lookup(key: string, opts: object, cb: Callback<string[]>): void
}

interface ReferencePeerClient {
  init(): void
  request(key: string, payload: unknown, opts: { timeout: number }, cb: Callback<unknown>): void
  map(key: string, payload: unknown, opts: { timeout: number }, cb: Callback<unknown[]>): void
  stop(): void
}

interface ReferenceService {
  listen(port: number): ReferenceService
  on(
    event: 'request',
    listener: (
      rid: unknown,
      key: string,
      payload: unknown,
      handler: { reply(err: Error | null, result: unknown): void },
    ) => void,
  ): void
  /** http: the `http.Server`; ws: the `WebSocketServer` (ws@7), which holds one in `_server`. */
  socket: (Server & { _server?: Server }) | null
}

interface ReferencePeerServer {
  init(): void
  transport(kind: 'server'): ReferenceService
  stop(): void
}

interface ReferenceModule {
  PeerRPCClient: new (link: StubLink, conf: object) => ReferencePeerClient
  PeerRPCServer: new (link: StubLink, conf: object) => ReferencePeerServer
}

function referenceModule(proto: Proto): ReferenceModule {
  if (proto === 'zmq') throw new UnavailableError('there is no reference ZeroMQ RPC peer (wire §7)')
  return require(proto === 'http' ? 'grenache-nodejs-http' : 'grenache-nodejs-ws') as ReferenceModule
}

function stubLink(addresses: string[]): StubLink {
  return {
    lookup(key, _opts, cb) {
      if (key === ECHO_KEY) cb(null, addresses)
      else cb(new Error('ERR_GRAPE_LOOKUP_EMPTY'))
    },
  }
}

/** The per-call options: the same 10 s deadline as our client's. */
const CALL_OPTIONS = { timeout: 10_000 }

export async function startReferenceServer(proto: Proto, port: number): Promise<EchoServer> {
  const { PeerRPCServer } = referenceModule(proto)
  bindBareListenToLoopback()
  const peer = new PeerRPCServer(stubLink([]), {})
  peer.init()
  const service = peer.transport('server')
  service.on('request', (_rid, _key, payload, handler) => handler.reply(null, payload))
  service.listen(port)
  const socket = service.socket
  const server = socket?._server ?? socket
  if (!server) throw new Error('the reference service has no socket after listen()')
  if (!server.listening) await once(server, 'listening')
  const address = server.address()
  if (address === null || typeof address === 'string') throw new Error(`unexpected address ${address}`)
  return {
    host: address.address,
    port: address.port,
    close: async () => peer.stop(),
  }
}

export function createReferenceClient(proto: Proto, addresses: string[]): BenchClient {
  const { PeerRPCClient } = referenceModule(proto)
  const peer = new PeerRPCClient(stubLink(addresses), {})
  peer.init()
  const workers = addresses.length
  return {
    request: (payload) =>
      new Promise((resolve, reject) =>
        peer.request(ECHO_KEY, payload, CALL_OPTIONS, (err, result) => (err ? reject(err) : resolve(result))),
      ),
    map: (payload) =>
      new Promise((resolve, reject) =>
        peer.map(ECHO_KEY, payload, CALL_OPTIONS, (err, results) => {
          if (err) return reject(err)
          if (results?.length !== workers) {
            return reject(new Error(`map: ${results?.length} results for ${workers} workers`))
          }
          resolve(results)
        }),
      ),
    close: async () => peer.stop(),
  }
}
