import { describe, expect, it } from 'vitest'
import type { OrderBookLeaf } from '../../../generated/index.js'
import { LeafStore } from '../../../runtime/replication/leaf-store.js'
import { ReplicaStore } from '../../../runtime/replication/replica-store.js'
import { fetchSnapshot, serveSnapshots } from '../../../runtime/replication/snapshot-stream.js'
import { ByteWriter } from '../../../runtime/state/byte-writer.js'
import { OrderBookCodec, orderBookWorkload } from '../../helpers/replication.js'

type Patch = Partial<OrderBookLeaf>
const scratch = () => new ByteWriter(OrderBookCodec.maxKeyBytes + OrderBookCodec.maxLeafBytes + 16)

describe('snapshot stream', () => {
  it('tells the store how many leaves are coming before the first, and fills it to the digest', async () => {
    const source = new LeafStore<string, OrderBookLeaf, Patch>(OrderBookCodec, scratch())
    const next = orderBookWorkload(31, 500)
    for (let i = 0; i < 3000; i++) source.apply(next())
    const server = serveSnapshots({
      codec: OrderBookCodec,
      transport: 'http',
      host: '127.0.0.1',
      state: () => ({ session: 'ab'.repeat(8), seq: 3000, leaves: source.leaves, digest: source.digest }),
    })
    const [listening] = await server.start()
    try {
      const store = new ReplicaStore<string, OrderBookLeaf, Patch>(OrderBookCodec, scratch())
      const told: number[] = []
      const into = {
        reserve: (leaves: number) => {
          told.push(leaves, store.size)
          store.reserve(leaves)
        },
        fill: (key: string, leaf: OrderBookLeaf, hash: number) => store.fill(key, leaf, hash),
        get size() {
          return store.size
        },
        get digest() {
          return store.digest
        },
      }
      const got = await fetchSnapshot({
        codec: OrderBookCodec,
        transport: 'http',
        address: `127.0.0.1:${listening?.port}`,
        session: 'ab'.repeat(8),
        timeoutMs: 5000,
        into,
      })
      // Told once, with the publisher's count, while the store was still empty.
      expect(told).toEqual([source.size, 0])
      expect([got.seq, got.leaves, store.size, store.digest]).toEqual([
        3000,
        source.size,
        source.size,
        source.digest,
      ])
      expect(new Map(store.leaves)).toEqual(new Map(source.leaves))
    } finally {
      await server.close()
    }
  })
})
