/**
 * Replication under injected trouble, on the in-process memory network with seeded loss: the
 * replica always ends with the publisher's digest and leaves at the publisher's seq.
 */
import { afterEach, describe, expect, it } from 'vitest'
import { GrenacheError } from '../../../runtime/errors.js'
import type { DatagramNetwork } from '../../../runtime/replication/endpoint.js'
import type { LossyOptions } from '../../../runtime/replication/lossy.js'
import { lossyNetwork } from '../../../runtime/replication/lossy-network.js'
import { MemoryNetwork } from '../../../runtime/replication/memory-network.js'
import {
  DATA_FLAGS_OFFSET,
  DATA_RETRANSMIT,
  FeedIds,
  Kind,
  seal,
  writeHeader,
  writeHeartbeat,
} from '../../../runtime/replication/packet.js'
import { PacketHeader, parseHeader } from '../../../runtime/replication/packet-header.js'
import { Publisher, type PublisherOptions } from '../../../runtime/replication/publisher.js'
import { Replica, type ReplicaOptions } from '../../../runtime/replication/replica.js'
import { ByteWriter } from '../../../runtime/state/byte-writer.js'
import {
  type Book,
  type BookReplica,
  converged,
  OrderBookCodec,
  orderBookWorkload,
  plain,
  publish,
  until,
} from '../../helpers/replication.js'

const open: Array<{ close(): Promise<void> }> = []
afterEach(async () => {
  for (const thing of open.splice(0).reverse()) await thing.close()
})

async function publisher(network: DatagramNetwork, options: PublisherOptions = {}): Promise<Book> {
  const pub = new Publisher(OrderBookCodec, { transport: { kind: 'memory', network }, ...options })
  open.push(pub)
  await pub.start()
  return pub
}

async function replica(
  pub: Book,
  network: DatagramNetwork,
  options: Partial<ReplicaOptions> = {},
): Promise<BookReplica> {
  const address = pub.address
  if (!address) throw new Error('publisher not started')
  const rep = new Replica(OrderBookCodec, {
    publisher: `${address.host}:${address.port}`,
    transport: { kind: 'memory', network: network },
    ...options,
  })
  open.push(rep)
  await rep.start()
  return rep
}

/** A replica's network that loses what it receives (each replica its own loss). */
function receiving(memory: MemoryNetwork, options: LossyOptions): DatagramNetwork {
  return lossyNetwork(memory, (index) => ({
    ...options,
    on: 'receive',
    seed: (options.seed ?? 1) * 31 + index,
  }))
}

/** A replica live at the seq of a publisher that sent 500 deltas, and the reasons of its resyncs from then on. */
async function liveBook(
  memory: MemoryNetwork,
  seed: number,
): Promise<{ pub: Book; rep: BookReplica; resyncs: string[] }> {
  const pub = await publisher(memory)
  const rep = await replica(pub, memory)
  await rep.synced({ timeoutMs: 5000 })
  await publish(pub, orderBookWorkload(seed), 500)
  await converged(pub, rep)
  const resyncs: string[] = []
  rep.on('resync', ({ reason }) => resyncs.push(reason))
  return { pub, rep, resyncs }
}

/** Sends the data group a packet of `kind` at `seq` with the publisher's own session, its body by `body`. */
async function forge(
  pub: Book,
  memory: MemoryNetwork,
  kind: number,
  seq: number,
  body: (w: ByteWriter) => void,
): Promise<void> {
  const forger = await memory.bind({ port: 0 })
  open.push(forger)
  const info = pub.info
  if (!info) throw new Error('publisher not started')
  const w = new ByteWriter(Buffer.alloc(256))
  writeHeader(w, kind, new FeedIds(Buffer.from(pub.session, 'hex'), OrderBookCodec.fingerprint), seq)
  body(w)
  seal(w.buf, 0, w.pos)
  forger.send(w.bytes(), { host: info.group, port: info.dataPort })
}

function expectSame(pub: Book, rep: BookReplica): void {
  expect(rep.seq).toBe(pub.seq)
  expect(rep.stats.digest).toBe(pub.stats.digest)
  expect(rep.size).toBe(pub.size)
  expect(plain(rep.leaves)).toEqual(plain(pub.leaves))
}

describe('Replica and Publisher on a memory network', () => {
  it('joins an empty feed and follows every delta', async () => {
    const memory = new MemoryNetwork()
    const pub = await publisher(memory)
    const rep = await replica(pub, memory)
    await rep.synced({ timeoutMs: 5000 })
    expect(rep.seq).toBe(0)
    await publish(pub, orderBookWorkload(1), 2000)
    await converged(pub, rep)
    expectSame(pub, rep)
    expect(rep.stats.gaps).toBe(0)
    expect(rep.stats.resyncs).toBe(0)
  })

  it('joins in the middle of the stream without stopping the publisher (snapshot, then buffered deltas)', async () => {
    const memory = new MemoryNetwork()
    const pub = await publisher(memory, { snapshotBytesPerSecond: 64 * 1024 })
    const workload = orderBookWorkload(2, 2000)
    await publish(pub, workload, 5000, 500)
    const running = publish(pub, workload, 3000, 20)
    const rep = await replica(pub, memory)
    await rep.synced({ timeoutMs: 10_000 })
    await running
    await converged(pub, rep)
    expectSame(pub, rep)
  })

  it.each(['http', 'ws'] as const)(
    'joins a large state in one request over a %s snapshot stream, under load',
    async (stream) => {
      const memory = new MemoryNetwork()
      const pub = await publisher(memory, { snapshotStream: stream })
      const workload = orderBookWorkload(20, 20_000)
      await publish(pub, workload, 40_000, 2000)
      const running = publish(pub, workload, 5000, 50)
      const rep = await replica(pub, memory)
      const joins: number[] = []
      rep.on('synced', ({ joinMs }) => joins.push(joinMs))
      await rep.synced({ timeoutMs: 10_000 })
      await running
      await converged(pub, rep)
      expectSame(pub, rep)
      expect(joins).toHaveLength(1)
      expect(pub.stats.snapshotCycles).toBe(0)
      expect(rep.stats.snapshotBytes).toBeGreaterThan(pub.size * 8)
    },
  )

  it('uses the carousel when told to, even when the publisher offers a stream', async () => {
    const memory = new MemoryNetwork()
    const pub = await publisher(memory, { snapshotStream: 'http' })
    await publish(pub, orderBookWorkload(21), 2000, 500)
    const rep = await replica(pub, memory, { join: 'carousel' })
    await rep.synced({ timeoutMs: 10_000 })
    await converged(pub, rep)
    expectSame(pub, rep)
    expect(pub.stats.snapshotCycles).toBeGreaterThan(0)
  })

  it.each([0.01, 0.05, 0.1])('converges under %s random loss of every kind of packet', async (drop) => {
    const memory = new MemoryNetwork()
    const pub = await publisher(memory)
    const rep = await replica(pub, receiving(memory, { seed: 7, drop }))
    await rep.synced({ timeoutMs: 10_000 })
    await publish(pub, orderBookWorkload(3), 5000)
    await converged(pub, rep)
    expectSame(pub, rep)
    expect(rep.stats.nacks).toBeGreaterThan(0)
  })

  it('converges when a burst of DATA packets is lost, and when the tail of the stream is lost', async () => {
    const memory = new MemoryNetwork()
    const pub = await publisher(memory)
    const lossy = receiving(memory, {
      seed: 3,
      dropIf: (_bytes, index, kind) => kind === Kind.DATA && ((index >= 10 && index < 30) || index >= 95),
    })
    const rep = await replica(pub, lossy)
    await rep.synced({ timeoutMs: 5000 })
    await publish(pub, orderBookWorkload(4), 5000, 50)
    await converged(pub, rep)
    expectSame(pub, rep)
    expect(rep.stats.gaps).toBeGreaterThan(0)
  })

  it('repairs a hole of 600 datagrams without a resync: each NACK brings 256, and the rest is asked again', async () => {
    const memory = new MemoryNetwork()
    // Small datagrams, all sent in one turn: the replica sees one hole of 600 datagrams at once.
    const pub = await publisher(memory, { maxDatagramBytes: 256 })
    const lossy = receiving(memory, {
      dropIf: (bytes, index, kind) =>
        kind === Kind.DATA &&
        index >= 20 &&
        index < 620 &&
        ((bytes[DATA_FLAGS_OFFSET] as number) & DATA_RETRANSMIT) === 0,
    })
    const rep = await replica(pub, lossy)
    await rep.synced({ timeoutMs: 5000 })
    await publish(pub, orderBookWorkload(41), 8000, 8000)
    await converged(pub, rep)
    expectSame(pub, rep)
    expect(pub.stats.nacksCapped).toBeGreaterThan(0)
    expect(rep.stats.resyncs).toBe(0)
  })

  it('answers every replica that lost a datagram when retransmits go to the requester (no hold)', async () => {
    const memory = new MemoryNetwork()
    // A hold long enough to starve the second replica if it applied to unicast retransmits.
    const pub = await publisher(memory, { repairTo: 'requester', repairHoldMs: 60_000 })
    const header = new PacketHeader()
    // Both replicas lose the first sending of the DATA packet that starts at seq 201 (turns of 10).
    const lost = lossyNetwork(memory, () => ({
      on: 'receive',
      dropIf: (bytes, _index, kind) =>
        kind === Kind.DATA &&
        parseHeader(bytes, header) === undefined &&
        header.seq === 201 &&
        ((bytes[DATA_FLAGS_OFFSET] as number) & DATA_RETRANSMIT) === 0,
    }))
    const a = await replica(pub, lost)
    const b = await replica(pub, lost)
    await Promise.all([a.synced({ timeoutMs: 5000 }), b.synced({ timeoutMs: 5000 })])
    await publish(pub, orderBookWorkload(31), 600, 10)
    await converged(pub, a)
    await converged(pub, b)
    expect(a.stats.gaps + b.stats.gaps).toBe(2)
    expect(pub.stats.retransmitsHeld).toBe(0)
    expect(a.stats.resyncs + b.stats.resyncs).toBe(0)
  })

  it('repairs from the copy sent to the requester when the group retransmit does not come (a flooded data socket)', async () => {
    const memory = new MemoryNetwork()
    const pub = await publisher(memory)
    const header = new PacketHeader()
    const isRetransmit = (bytes: Uint8Array) => ((bytes[DATA_FLAGS_OFFSET] as number) & DATA_RETRANSMIT) !== 0
    // Endpoint 0 is the replica's control socket, 1 its data socket: the data socket loses the
    // DATA packet that starts at seq 201 and every retransmit.
    const lossy = lossyNetwork(memory, (index) => ({
      on: 'receive',
      dropIf: (bytes, _index, kind) =>
        index === 1 &&
        kind === Kind.DATA &&
        parseHeader(bytes, header) === undefined &&
        (isRetransmit(bytes) || header.seq === 201),
    }))
    const rep = await replica(pub, lossy)
    await rep.synced({ timeoutMs: 5000 })
    await publish(pub, orderBookWorkload(32), 600, 10)
    await converged(pub, rep)
    expect(rep.stats.gaps).toBe(1)
    expect(rep.stats.resyncs).toBe(0)
    expect(pub.stats.retransmits).toBeGreaterThan(0)
  })

  it('converges with packets reordered, duplicated and delayed', async () => {
    const memory = new MemoryNetwork()
    const pub = await publisher(memory)
    const rep = await replica(
      pub,
      receiving(memory, { seed: 11, reorder: 0.1, duplicate: 0.1, delayMs: [0, 3] }),
    )
    await rep.synced({ timeoutMs: 5000 })
    await publish(pub, orderBookWorkload(5), 5000)
    await converged(pub, rep)
    expectSame(pub, rep)
    expect(rep.stats.duplicates).toBeGreaterThan(0)
    expect(rep.stats.outOfOrder).toBeGreaterThan(0)
  })

  it('drops truncated and corrupted packets (CRC) and still converges', async () => {
    const memory = new MemoryNetwork()
    const pub = await publisher(memory)
    const rep = await replica(pub, receiving(memory, { seed: 13, truncate: 0.02, corrupt: 0.02 }))
    await rep.synced({ timeoutMs: 5000 })
    await publish(pub, orderBookWorkload(6), 5000)
    await converged(pub, rep)
    expectSame(pub, rep)
    expect(rep.stats.malformed).toBeGreaterThan(0)
  })

  it('resyncs from the carousel when the retransmit ring no longer holds what was lost', async () => {
    const memory = new MemoryNetwork()
    const pub = await publisher(memory, { retransmitBufferBytes: 4096 })
    const lossy = receiving(memory, {
      seed: 5,
      dropIf: (_bytes, index, kind) => kind === Kind.DATA && index >= 20 && index < 60,
    })
    const rep = await replica(pub, lossy)
    const resyncs: string[] = []
    rep.on('resync', ({ reason }) => resyncs.push(reason))
    await rep.synced({ timeoutMs: 5000 })
    await publish(pub, orderBookWorkload(7), 8000, 100)
    await converged(pub, rep)
    expectSame(pub, rep)
    expect(resyncs).toContain('unrecoverable')
    expect(pub.stats.unrecoverable).toBeGreaterThan(0)
  })

  it('counts and drops foreign and random datagrams on its ports, and keeps going', async () => {
    const memory = new MemoryNetwork()
    const pub = await publisher(memory)
    const rep = await replica(pub, memory)
    await rep.synced({ timeoutMs: 5000 })
    const info = pub.info
    const address = pub.address
    if (!info || !address) throw new Error('publisher not started')
    // Another state published on the same group and ports: another fingerprint.
    const foreign = new Publisher(
      { ...OrderBookCodec, fingerprint: '0123456789abcdef' },
      {
        transport: {
          kind: 'memory',
          network: memory,
          group: info.group,
          dataPort: info.dataPort,
          snapshotPort: info.snapshotPort,
        },
      },
    )
    open.push(foreign)
    await foreign.start()
    const noise = await memory.bind({ port: 0 })
    open.push(noise)
    for (let i = 0; i < 200; i++) {
      const junk = Buffer.alloc(1 + (i % 100), i)
      for (const to of [address, { host: info.group, port: info.dataPort }]) {
        noise.send(junk, to)
        noise.send(Buffer.concat([Buffer.from([0x47, 0x56, 1, 1]), junk]), to)
      }
    }
    await publish(foreign, orderBookWorkload(15), 300)
    await publish(pub, orderBookWorkload(8), 1000)
    await converged(pub, rep)
    expectSame(pub, rep)
    expect(pub.stats.dropped).toBeGreaterThan(0)
    expect(rep.stats.malformed).toBeGreaterThan(0)
    expect(rep.stats.foreign).toBeGreaterThan(0)
  })

  it('resets to a restarted publisher (new session) and converges to its state', async () => {
    const memory = new MemoryNetwork()
    const first = await publisher(memory)
    const address = first.address
    if (!address) throw new Error('publisher not started')
    const rep = await replica(first, memory)
    await rep.synced({ timeoutMs: 5000 })
    await publish(first, orderBookWorkload(9), 1000)
    await converged(first, rep)
    const resyncs: string[] = []
    rep.on('resync', ({ reason }) => resyncs.push(reason))
    await first.close()
    const second = await publisher(memory, { port: address.port })
    await publish(second, orderBookWorkload(10), 500)
    await until(() => rep.session === second.session, 'the replica to follow the new session')
    await converged(second, rep)
    expectSame(second, rep)
    expect(resyncs).toContain('restart')
  })

  it('does not flip between two publishers on one group: it keeps the first, counts the other as stray', async () => {
    const memory = new MemoryNetwork()
    const a = await publisher(memory)
    const rep = await replica(a, memory)
    await rep.synced({ timeoutMs: 5000 })
    const info = a.info
    if (!info) throw new Error('publisher not started')
    const b = await publisher(memory, {
      transport: {
        kind: 'memory',
        network: memory,
        group: info.group,
        dataPort: info.dataPort,
        snapshotPort: info.snapshotPort,
      },
    })
    await Promise.all([publish(a, orderBookWorkload(11), 1000), publish(b, orderBookWorkload(12), 1000)])
    await converged(a, rep)
    expectSame(a, rep)
    expect(rep.session).toBe(a.session)
    expect(rep.stats.stray).toBeGreaterThan(0)
  })

  it('resyncs when its digest differs from the publisher’s at the same seq (a forged packet got in)', async () => {
    const memory = new MemoryNetwork()
    const { pub, rep, resyncs } = await liveBook(memory, 13)
    // A forger on the group sends the next seq, with the publisher's own session, before it does.
    await forge(pub, memory, Kind.DATA, pub.seq + 1, (w) => {
      w.u8(1)
      w.u8(0)
      w.u8(0)
      w.u8(0)
      OrderBookCodec.encodeDelta({ op: 'upsert', key: 'forged', leaf: { side: 'bid', price: 1, size: 1 } }, w)
    })
    await until(() => rep.has('forged'), 'the forged delta to be applied')
    pub.upsert('o-2', { side: 'ask', price: 9000, size: 1 })
    await until(() => resyncs.includes('digest'), 'a resync for the digest')
    await converged(pub, rep)
    expectSame(pub, rep)
    expect(rep.has('forged')).toBe(false)
  })

  it('resyncs once, not forever, after a forged heartbeat says the publisher is far ahead', async () => {
    const memory = new MemoryNetwork()
    const { pub, rep, resyncs } = await liveBook(memory, 14)
    await forge(pub, memory, Kind.HEARTBEAT, pub.seq + 10_000_000, (w) =>
      writeHeartbeat(w, { timeMs: 0, digest: 0, leaves: 0, cycle: 0, flags: 0, intervalMs: 100 }),
    )
    await until(() => resyncs.length > 0, 'a resync for the forged seq')
    await publish(pub, orderBookWorkload(15), 500)
    await converged(pub, rep)
    expectSame(pub, rep)
    // The forged seq was forgotten with the join: the replica stays live instead of resyncing again
    // after every join, as it did while the seq outlived the join.
    await publish(pub, orderBookWorkload(16), 200)
    await converged(pub, rep)
    expect(resyncs).toEqual(['overflow'])
  })

  it('keeps its buffers bounded: a replica that misses more than its window resyncs instead of growing', async () => {
    const memory = new MemoryNetwork()
    const pub = await publisher(memory)
    // A stalled consumer: the kernel drops what it cannot take, here 60 datagrams in a row.
    const network = receiving(memory, {
      seed: 17,
      dropIf: (_bytes, index, kind) => kind === Kind.DATA && index >= 5 && index < 65,
    })
    const rep = await replica(pub, network, { maxBufferedDeltas: 2000 })
    const resyncs: string[] = []
    rep.on('resync', ({ reason }) => resyncs.push(reason))
    await rep.synced({ timeoutMs: 5000 })
    await publish(pub, orderBookWorkload(14), 20_000, 500)
    await converged(pub, rep)
    expectSame(pub, rep)
    expect(resyncs).toContain('overflow')
  })

  it('joins under a load its join buffer cannot hold without a resync storm: the buffer goes, not the join', async () => {
    const memory = new MemoryNetwork()
    // A slow carousel over ~150 KB of state (the first 64 KiB at once): a join takes over a second.
    const pub = await publisher(memory, { snapshotBytesPerSecond: 64 * 1024 })
    await publish(pub, orderBookWorkload(18, 20_000), 30_000, 3000)
    const running = publish(pub, orderBookWorkload(19, 20_000), 20_000, 20)
    const rep = await replica(pub, memory, { join: 'carousel', maxBufferedDeltas: 200 })
    const resyncs: string[] = []
    rep.on('resync', ({ reason }) => resyncs.push(reason))
    await rep.synced({ timeoutMs: 10_000 })
    await running
    await converged(pub, rep)
    expectSame(pub, rep)
    expect(rep.stats.joinBufferDrops).toBeGreaterThan(10)
    // A join that ends further behind than the window still resyncs (one per join while the load
    // lasts); before, every 200 deltas started the join again: 91 resyncs in this test.
    expect(resyncs.length).toBeLessThan(6)
    expect(new Set(resyncs)).toEqual(new Set(resyncs.length > 0 ? ['overflow'] : []))
  })

  it('closes without leaving a timer or socket: close() twice resolves, start() after close rejects', async () => {
    const timers = () => process.getActiveResourcesInfo().filter((type) => type === 'Timeout').length
    const before = timers()
    const memory = new MemoryNetwork()
    const pub = await publisher(memory)
    const rep = await replica(pub, memory)
    await rep.synced({ timeoutMs: 5000 })
    expect(timers()).toBeGreaterThan(before)
    const closing = rep.close()
    expect(rep.close()).toBe(closing)
    await closing
    await pub.close()
    expect(rep.status).toBe('closed')
    await expect(rep.start()).rejects.toMatchObject({ code: 'ERR_CLOSED' })
    await expect(pub.start()).rejects.toMatchObject({ code: 'ERR_CLOSED' })
    // At most as many as before: a timer of an earlier test (undici's keep-alive) may end meanwhile.
    await until(() => timers() <= before, 'every timer of the publisher and the replica to be gone', 2000)
    expect(() => pub.upsert('x', { side: 'bid', price: 1, size: 1 })).toThrow(/closed/)
  })

  it('refuses a publisher of another layout with ERR_FEED_INCOMPATIBLE', async () => {
    const memory = new MemoryNetwork()
    const pub = await publisher(memory)
    const address = pub.address
    if (!address) throw new Error('publisher not started')
    const rep = new Replica(
      { ...OrderBookCodec, fingerprint: 'fedcba9876543210' },
      { publisher: `${address.host}:${address.port}`, transport: { kind: 'memory', network: memory } },
    )
    open.push(rep)
    const error = await rep.start().catch((err: unknown) => err)
    expect(error).toBeInstanceOf(GrenacheError)
    expect((error as GrenacheError).code).toBe('ERR_FEED_INCOMPATIBLE')
    expect((error as GrenacheError).message).toContain(OrderBookCodec.fingerprint)
  })
})
