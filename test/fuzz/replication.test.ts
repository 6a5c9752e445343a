import fc from 'fast-check'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import type {
  DatagramAddress,
  DatagramEndpoint,
  DatagramNetwork,
} from '../../runtime/replication/endpoint.js'
import { fragment } from '../../runtime/replication/fragments.js'
import { lossyNetwork } from '../../runtime/replication/lossy-network.js'
import { MemoryNetwork } from '../../runtime/replication/memory-network.js'
import {
  FeedIds,
  HEADER_BYTES,
  HELLO_LAYOUT,
  Kind,
  seal,
  writeHeader,
} from '../../runtime/replication/packet.js'
import { Publisher } from '../../runtime/replication/publisher.js'
import { Replica } from '../../runtime/replication/replica.js'
import { ByteWriter } from '../../runtime/state/byte-writer.js'
import {
  type Book,
  type BookReplica,
  converged,
  OrderBookCodec,
  orderBookWorkload,
  plain,
  publish,
  until,
} from '../helpers/replication.js'
import {
  applyEdits,
  type ByteEdit,
  budget,
  cases,
  type ProcessWatch,
  runBatches,
  showBytes,
  timeoutFor,
  watchProcess,
} from './harness.js'

/**
 * Anyone on the LAN can send to a feed's group and ports, and every packet carries the session and
 * fingerprint in the clear: so the cases are real packets of every kind (sniffed from a replica's
 * sockets while it joins and repairs), edited, and sealed again with a valid CRC so that they reach
 * the body parsers. Each goes to the publisher's control port, the data and snapshot groups, or one
 * of the replica's sockets. Nothing may escape either of them, and after each batch the replica must
 * again reach the publisher's seq with its digest and leaves, however many resyncs that took.
 */

/** A network whose endpoints copy every datagram they send or receive into `corpus`. */
function sniffing(network: DatagramNetwork, corpus: Buffer[], bound: DatagramAddress[]): DatagramNetwork {
  return {
    async bind(options) {
      const endpoint = await network.bind(options)
      bound.push(endpoint.address)
      const tapped: DatagramEndpoint = {
        get address() {
          return endpoint.address
        },
        send(bytes, to) {
          corpus.push(Buffer.from(bytes))
          endpoint.send(bytes, to)
        },
        onMessage(listener) {
          endpoint.onMessage((bytes, from) => {
            corpus.push(Buffer.from(bytes))
            listener(bytes, from)
          })
        },
        onError: (listener) => endpoint.onError(listener),
        joinGroup: (group) => endpoint.joinGroup(group),
        leaveGroup: (group) => endpoint.leaveGroup(group),
        close: () => endpoint.close(),
      }
      return tapped
    },
  }
}

/** One case: which sniffed packet, its edits, where it goes, and whether its CRC is made valid again. */
interface Case {
  packet: number
  edits: ByteEdit[]
  bodyOnly: boolean
  target: number
  reseal: boolean
}

const arbitraryCase = fc.record({
  packet: fc.nat(),
  edits: fc.array(fc.tuple(fc.nat(), fc.nat(255), fc.nat(3)), { minLength: 1, maxLength: 4 }),
  bodyOnly: fc.boolean(),
  target: fc.nat(),
  reseal: fc.double({ min: 0, max: 1, noNaN: true }).map((roll) => roll < 0.9),
})

describe('fuzz: replication packets', () => {
  const memory = new MemoryNetwork()
  const corpus: Buffer[] = []
  const replicaPorts: DatagramAddress[] = []
  let pub: Book
  let rep: BookReplica
  let noise: DatagramEndpoint
  let watch: ProcessWatch
  const workload = orderBookWorkload(77, 300)

  beforeAll(async () => {
    watch = watchProcess()
    pub = new Publisher(OrderBookCodec, {
      transport: { kind: 'memory', network: memory },
      retransmitBufferBytes: 64 * 1024,
      heartbeatMs: 50,
    })
    await pub.start()
    await publish(pub, workload, 3000, 200)
    const address = pub.address as DatagramAddress
    // 5% loss on what the replica receives: NACKs, retransmits and (ring too small) UNRECOVERABLE.
    const lossy = lossyNetwork(sniffing(memory, corpus, replicaPorts), { on: 'receive', seed: 7, drop: 0.05 })
    rep = new Replica(OrderBookCodec, {
      publisher: `${address.host}:${address.port}`,
      transport: { kind: 'memory', network: lossy },
      join: 'carousel',
    })
    await rep.start()
    await rep.synced({ timeoutMs: 10_000 })
    await publish(pub, workload, 3000, 200)
    await converged(pub, rep)
    await until(() => corpus.some((packet) => packet[3] === Kind.HEARTBEAT), 'a heartbeat')
    noise = await memory.bind({ port: 0 })
    // The packets no replica makes here: a HELLO that asks for the layout (its answer is sniffed
    // too when it comes back through a replica socket), and a DATA packet cut into FRAGMENTs.
    const ids = new FeedIds(Buffer.from(pub.session, 'hex'), OrderBookCodec.fingerprint)
    const hello = new ByteWriter(Buffer.alloc(HEADER_BYTES + 1))
    writeHeader(hello, Kind.HELLO, ids, 0)
    hello.u8(HELLO_LAYOUT)
    seal(hello.buf, 0, hello.pos)
    corpus.push(Buffer.from(hello.bytes()))
    const data = corpus.find((packet) => packet[3] === Kind.DATA && packet.length > 200)
    if (data) corpus.push(...fragment(data, ids, 96))
  }, 60_000)

  afterAll(async () => {
    watch?.stop()
    await noise?.close()
    await rep?.close()
    await pub?.close()
  })

  it(
    'drops or survives every edited packet on every port, and converges after each batch',
    async () => {
      const kinds = new Set(corpus.map((packet) => packet[3]))
      // Every kind a feed uses reached the corpus (the INFO and LAYOUT answers, SNAPSHOT parts,
      // NACKs, retransmits, UNRECOVERABLE from the small ring under loss...).
      for (const kind of [
        Kind.DATA,
        Kind.HEARTBEAT,
        Kind.SNAPSHOT,
        Kind.NACK,
        Kind.HELLO,
        Kind.INFO,
        Kind.FRAGMENT,
      ]) {
        expect(kinds, `kind ${kind} in the corpus`).toContain(kind)
      }
      const info = pub.info
      if (!info) throw new Error('publisher not started')
      const targets: DatagramAddress[] = [
        pub.address as DatagramAddress,
        { host: info.group, port: info.dataPort },
        { host: info.group, port: info.snapshotPort },
        ...replicaPorts.map((port) => ({ host: 'memory', port: port.port })),
      ]
      const inputs = cases(
        'replication packets',
        fc.array(arbitraryCase, { minLength: 1, maxLength: 1 }),
        budget(1200),
      )
      await runBatches(
        inputs.map(([c]) => c as Case),
        {
          target: 'replication packets',
          concurrency: 1,
          batch: 150,
          watch,
          show: (c) => `to #${c.target % targets.length}: ${showBytes(edited(c))}`,
          probe: async (c) => {
            noise.send(edited(c), targets[c.target % targets.length] as DatagramAddress)
            return undefined
          },
          checkpoint: async () => {
            await publish(pub, workload, 300, 100)
            await until(
              () => rep.status === 'live' && rep.seq === pub.seq && rep.stats.digest === pub.stats.digest,
              `the replica to converge (seq ${rep.seq} of ${pub.seq}, ${rep.status})`,
              20_000,
            )
            expect(plain(rep.leaves)).toEqual(plain(pub.leaves))
          },
        },
      )
      // The cases reached the parsers: some were counted as malformed or dropped on each side.
      expect(pub.stats.dropped).toBeGreaterThan(0)
      expect(rep.stats.malformed).toBeGreaterThan(0)
    },
    timeoutFor(20_000),
  )

  it(
    'does the same to replicas that are joining from the carousel',
    async () => {
      // A state of ~100 KB at 64 KiB/s (after a first slice of 64 KiB): each join takes about half
      // a second, and the cases of a batch land during it.
      const big: Book = new Publisher(OrderBookCodec, {
        transport: { kind: 'memory', network: memory },
        heartbeatMs: 50,
        snapshotBytesPerSecond: 64 * 1024,
      })
      await big.start()
      const bigWorkload = orderBookWorkload(78, 8000)
      for (let i = 0; i < 8000; i++) big.upsert(`o-${i}`, { side: 'bid', price: 9000 + i, size: 1 })
      const info = big.info
      if (!info) throw new Error('publisher not started')
      const address = big.address as DatagramAddress
      const inputs = cases('replication packets while joining', arbitraryCase, budget(400))
      let joiner: BookReplica | undefined
      let ports: DatagramAddress[] = []
      let joinedDuring = 0
      const fresh = async (): Promise<void> => {
        await joiner?.close()
        ports = []
        joiner = new Replica(OrderBookCodec, {
          publisher: `${address.host}:${address.port}`,
          transport: { kind: 'memory', network: sniffing(memory, [], ports) },
          join: 'carousel',
        })
        await joiner.start()
      }
      const targets = (): DatagramAddress[] => [
        address,
        { host: info.group, port: info.dataPort },
        { host: info.group, port: info.snapshotPort },
        ...ports.map((port) => ({ host: 'memory', port: port.port })),
      ]
      await fresh()
      try {
        await runBatches(inputs, {
          target: 'replication packets while joining',
          concurrency: 1,
          batch: 40,
          watch,
          show: (c) => `to #${c.target}: ${showBytes(edited(c))}`,
          probe: async (c) => {
            const to = targets()
            noise.send(edited(c), to[c.target % to.length] as DatagramAddress)
            // Spread over the join (a batch takes about as long as one).
            await new Promise((resolve) => setTimeout(resolve, 10))
            joinedDuring += joiner?.status === 'joining' ? 1 : 0
            return undefined
          },
          checkpoint: async () => {
            const replica = joiner as BookReplica
            await publish(big, bigWorkload, 100, 100)
            await until(
              () =>
                replica.status === 'live' &&
                replica.seq === big.seq &&
                replica.stats.digest === big.stats.digest,
              `the joiner to converge (seq ${replica.seq} of ${big.seq}, ${replica.status})`,
              20_000,
            )
            expect(plain(replica.leaves)).toEqual(plain(big.leaves))
            await fresh()
          },
        })
      } finally {
        await joiner?.close()
        await big.close()
      }
      // Most cases found their replica still joining.
      expect(joinedDuring).toBeGreaterThan(inputs.length / 2)
    },
    timeoutFor(20_000),
  )

  function edited(c: Case): Buffer {
    const packet = corpus[c.packet % corpus.length] as Buffer
    const head = packet.subarray(0, HEADER_BYTES)
    const out = c.bodyOnly
      ? Buffer.concat([head, applyEdits(packet.subarray(HEADER_BYTES), c.edits)])
      : applyEdits(packet, c.edits)
    if (c.reseal && out.length >= 8) seal(out, 0, out.length)
    return out
  }
})
