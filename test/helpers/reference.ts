import { createRequire } from 'node:module'
import { createServer } from 'node:net'
import { verifySignature } from '../../runtime/bep44/ed25519.js'

/**
 * The reference packages (CommonJS devDependencies), loaded for interop tests. The reference
 * Grape's DHT binds every interface; its DHT class is patched here to bind 127.0.0.1 only.
 */
const require = createRequire(import.meta.url)

interface ReferenceDht {
  prototype: { listen(...args: unknown[]): void }
}
const referenceDht = require(
  require.resolve('bittorrent-dht', { paths: [require.resolve('grenache-grape')] }),
) as ReferenceDht
const originalListen = referenceDht.prototype.listen
referenceDht.prototype.listen = function listen(this: unknown, ...args: unknown[]) {
  const [port, maybeCallback] = args
  if (typeof maybeCallback === 'function' || maybeCallback === undefined) {
    return originalListen.call(this, port, '127.0.0.1', maybeCallback)
  }
  return originalListen.apply(this, args)
}

/** The reference Grape (grenache-grape 1.0.0): callback API. */
export interface ReferenceGrape {
  start(cb: (err?: Error | null) => void): void
  stop(cb: (err?: Error | null) => void): void
  on(event: string, listener: (...args: unknown[]) => void): void
  node: { address(): { port: number }; nodes: { count(): number } }
  conf: Record<string, unknown>
}

const { Grape: ReferenceGrapeClass } = require('grenache-grape') as {
  Grape: new (conf: Record<string, unknown>) => ReferenceGrape
}

/**
 * A TCP port on 127.0.0.1 where nothing listens, for a connection that must be refused: the
 * discard port, which no test binds. A port freed by `freePort()` could be handed to another test
 * file's server before the connection is tried (the suite runs files in parallel).
 */
export const REFUSED_PORT = 9

/** A free TCP port on 127.0.0.1 (the reference Grape refuses api_port 0). */
export async function freePort(): Promise<number> {
  const server = createServer()
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve))
  const { port } = server.address() as { port: number }
  await new Promise<void>((resolve) => server.close(() => resolve()))
  return port
}

export interface StartedReferenceGrape {
  grape: ReferenceGrape
  url: string
  dhtPort: number
  stop(): Promise<void>
}

/**
 * Starts a reference Grape on 127.0.0.1 with a loopback bootstrap list. `verify` (ed25519, as a
 * program embedding it would pass) is on unless `verify: false`, so mutable items work.
 */
export async function startReferenceGrape(
  bootstrap: string[] = [],
  conf: Record<string, unknown> = {},
): Promise<StartedReferenceGrape> {
  const apiPort = await freePort()
  const verify = conf.verify === false ? undefined : verifySignature
  const grape = new ReferenceGrapeClass({
    dht_port: 0,
    api_port: apiPort,
    host: '127.0.0.1',
    dht_bootstrap: bootstrap,
    ...conf,
    verify,
  })
  await new Promise<void>((resolve, reject) => grape.start((err) => (err ? reject(err) : resolve())))
  return {
    grape,
    url: `http://127.0.0.1:${apiPort}`,
    dhtPort: grape.node.address().port,
    stop: () => new Promise<void>((resolve) => grape.stop(() => resolve())),
  }
}

/** The reference Link (grenache-nodejs-link 1.0.2). */
export interface ReferenceLink {
  start(): ReferenceLink
  stop(): ReferenceLink
  announce(name: string, port: number, opts: object, cb: (err: Error | null, res?: unknown) => void): void
  lookup(name: string, opts: object, cb: (err: Error | null, res?: string[]) => void): void
  put(data: object, cb: (err: Error | null, res?: string) => void): void
  get(hash: string | object, cb: (err: Error | null, res?: unknown) => void): void
}

export function referenceLink(grape: string): ReferenceLink {
  const Link = require('grenache-nodejs-link') as new (conf: object) => ReferenceLink
  return new Link({ grape }).start()
}
