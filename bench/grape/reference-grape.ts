import { createRequire } from 'node:module'

/**
 * The reference Grape (grenache-grape 1.0.0, CommonJS). Its DHT (bittorrent-dht 10) binds every
 * interface; `DHT.prototype.listen` is patched here so that it binds 127.0.0.1 only.
 */
const require = createRequire(import.meta.url)

interface ReferenceDhtClass {
  prototype: { listen(...args: unknown[]): void }
}
const dht = require(
  require.resolve('bittorrent-dht', { paths: [require.resolve('grenache-grape')] }),
) as ReferenceDhtClass
const originalListen = dht.prototype.listen
dht.prototype.listen = function listen(this: unknown, ...args: unknown[]) {
  const [port, callback] = args
  if (typeof callback === 'function' || callback === undefined) {
    return originalListen.call(this, port, '127.0.0.1', callback)
  }
  return originalListen.apply(this, args)
}

/** The reference Grape's callback API, as far as the bench uses it. */
export interface ReferenceGrape {
  start(cb: (err?: Error | null) => void): void
  stop(cb: (err?: Error | null) => void): void
  node: { nodes: { count(): number } }
}

export interface ReferenceGrapeConf {
  dht_port: number
  api_port: number
  host: string
  dht_bootstrap: string[]
  dht_peer_maxAge?: number
}

const { Grape } = require('grenache-grape') as { Grape: new (conf: ReferenceGrapeConf) => ReferenceGrape }

/** Starts a reference Grape; resolves once its DHT is bound and its API listens. */
export async function startReferenceGrape(conf: ReferenceGrapeConf): Promise<ReferenceGrape> {
  const grape = new Grape(conf)
  await new Promise<void>((resolve, reject) => grape.start((err) => (err ? reject(err) : resolve())))
  return grape
}
