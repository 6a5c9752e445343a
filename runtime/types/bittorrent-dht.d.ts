// The part of bittorrent-dht v11 the Grape uses (the package ships no types).
declare module 'bittorrent-dht' {
  import { EventEmitter } from 'node:events'

  export interface DhtPeer {
    host: string
    port: number
  }

  export interface DhtOptions {
    bootstrap?: string[] | false
    host?: string | null
    concurrency?: number
    /** Nodes per routing-table bucket and per lookup (k-rpc's K; 20 when absent). */
    k?: number
    maxTables?: number
    maxValues?: number
    maxAge?: number
    timeBucketOutdated?: number
    verify?: (signature: Uint8Array, message: Uint8Array, publicKey: Uint8Array) => boolean
  }

  export interface DhtPutOptions {
    v: Buffer | string | number | unknown[] | Record<string, unknown>
    k?: Buffer
    sig?: Buffer
    seq?: number
    salt?: Buffer
    cas?: number
  }

  export interface DhtGetOptions {
    salt?: Buffer
    cache?: boolean
  }

  /** Raw get result: Buffers from the wire or the local store. */
  export type DhtItem = Record<string, unknown> & { id: Buffer; v: Buffer }

  export type DhtError = Error & { code?: number | string }

  export default class DHT extends EventEmitter {
    constructor(options?: DhtOptions)
    readonly nodeId: Buffer
    readonly listening: boolean
    readonly destroyed: boolean
    readonly nodes: { count(): number; toArray(): Array<{ id: Buffer; host: string; port: number }> }
    listen(port: number, address: string, callback?: () => void): void
    address(): { address: string; family: string; port: number }
    announce(infoHash: Buffer, port: number, callback: (err: DhtError | null, count?: number) => void): void
    lookup(infoHash: Buffer, callback: (err: DhtError | null, count?: number) => void): () => void
    put(options: DhtPutOptions, callback: (err: DhtError | null, key: Buffer, count?: number) => void): Buffer
    get(
      key: Buffer,
      options: DhtGetOptions,
      callback: (err: DhtError | null, item: DhtItem | null) => void,
    ): void
    addNode(node: { host: string; port: number }): void
    destroy(callback?: () => void): void
  }
}
