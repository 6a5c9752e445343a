import { createRequire } from 'node:module'
import { Server } from 'node:net'
import { dirname } from 'node:path'

/**
 * The reference peers (grenache-nodejs-http 0.7.13, grenache-nodejs-ws 0.7.10), CommonJS
 * devDependencies. Their servers bind every interface; `onLoopback` points a bare `listen(port)` at
 * 127.0.0.1 for one synchronous call, and the ws 7 server they use is made to bind 127.0.0.1.
 */
const require = createRequire(import.meta.url)

export interface ReferenceHandler {
  reply(err: Error | null, data?: unknown): void
}
export interface ReferenceServerTransport {
  port: number
  listen(port: number): ReferenceServerTransport
  on(
    event: 'request',
    listener: (rid: string, key: string, payload: unknown, handler: ReferenceHandler) => void,
  ): void
  pub?(message: string): void
}
export interface ReferencePeer {
  init(): void
  stop(): void
  transport(kind: 'server'): ReferenceServerTransport
  request(key: string, payload: unknown, opts: object, cb: (err: Error | null, data?: unknown) => void): void
  map(key: string, payload: unknown, opts: object, cb: (err: Error | null, data?: unknown[]) => void): void
  sub(name: string, opts: object): void
  on(event: string, listener: (...args: unknown[]) => void): void
}
type PeerClass = new (link: unknown, conf: object) => ReferencePeer

export const referenceHttp = require('grenache-nodejs-http') as {
  PeerRPCClient: PeerClass
  PeerRPCServer: PeerClass
}
export const referenceWs = require('grenache-nodejs-ws') as {
  PeerRPCClient: PeerClass
  PeerRPCServer: PeerClass
  PeerPub: PeerClass
  PeerSub: PeerClass
}

const ws7 = require(require.resolve('ws', { paths: [dirname(require.resolve('grenache-nodejs-ws'))] })) as {
  Server: new (options: Record<string, unknown>, cb?: () => void) => object
}
const OriginalWs7Server = ws7.Server
ws7.Server = class LoopbackServer extends OriginalWs7Server {
  constructor(options: Record<string, unknown>, cb?: () => void) {
    super(
      options.port !== undefined && options.host === undefined ? { ...options, host: '127.0.0.1' } : options,
      cb,
    )
  }
}

/** Runs `start` with a bare `server.listen(port)` bound to 127.0.0.1. */
export function onLoopback<T>(start: () => T): T {
  const original = Server.prototype.listen
  const listenAll = original as (this: Server, ...args: unknown[]) => Server
  Server.prototype.listen = function listen(this: Server, ...args: unknown[]) {
    if (typeof args[0] === 'number' && args.length === 1) return listenAll.call(this, args[0], '127.0.0.1')
    return listenAll.apply(this, args)
  } as typeof Server.prototype.listen
  try {
    return start()
  } finally {
    Server.prototype.listen = original
  }
}

/** The callback API of a reference peer as a promise. */
export function promised<T>(call: (cb: (err: Error | null, data?: unknown) => void) => void): Promise<T> {
  return new Promise((resolve, reject) => call((err, data) => (err ? reject(err) : resolve(data as T))))
}
