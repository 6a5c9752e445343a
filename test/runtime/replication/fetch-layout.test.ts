import { afterEach, describe, expect, it } from 'vitest'
import { OrderBookCodec, OrderBookPublisher } from '../../../generated/order-book.gen.js'
import type { DatagramAddress } from '../../../runtime/replication/endpoint.js'
import { fetchLayout, readLayout } from '../../../runtime/replication/fetch-layout.js'
import { MemoryNetwork } from '../../../runtime/replication/memory-network.js'
import { FeedIds, HEADER_BYTES, Kind, seal, writeHeader } from '../../../runtime/replication/packet.js'
import { UdpNetwork } from '../../../runtime/replication/udp-endpoint.js'
import { ByteWriter } from '../../../runtime/state/byte-writer.js'
import { stateFingerprint } from '../../../runtime/state/fingerprint.js'
import { settledHandles, socketHandles } from '../../helpers/handles.js'

const closing: Array<{ close(): Promise<void> }> = []
afterEach(async () => {
  for (const each of closing.splice(0).reverse()) await each.close()
})

async function publisher(
  network: MemoryNetwork | UdpNetwork,
  options: { maxDatagramBytes?: number } = {},
): Promise<string> {
  const transport =
    network instanceof MemoryNetwork
      ? { kind: 'memory' as const, network }
      : {
          kind: 'multicast' as const,
          group: `239.77.${1 + Math.floor(Math.random() * 250)}.${1 + Math.floor(Math.random() * 250)}`,
          interface: '127.0.0.1',
        }
  const pub = new OrderBookPublisher({ transport, ...options })
  closing.push(pub)
  const at = await pub.start()
  return `${at.host}:${at.port}`
}

/** A control port that answers every HELLO with `answer(from)` (packets it builds). */
async function fake(network: MemoryNetwork, answer: () => Buffer[]): Promise<string> {
  const endpoint = await network.bind({ port: 0 })
  closing.push(endpoint)
  endpoint.onMessage((bytes: Buffer, from: DatagramAddress) => {
    if (bytes[3] === Kind.HELLO) for (const packet of answer()) endpoint.send(packet, from)
  })
  return `${endpoint.address.host}:${endpoint.address.port}`
}

function packet(kind: number, fingerprint: string, body: Buffer): Buffer {
  const w = new ByteWriter(HEADER_BYTES + body.length)
  writeHeader(w, kind, FeedIds.random(fingerprint), 0)
  body.copy(w.buf, w.pos)
  w.pos += body.length
  seal(w.buf, 0, w.pos)
  return Buffer.from(w.bytes())
}

const layoutJson = Buffer.from(JSON.stringify(OrderBookCodec.layout))

describe('fetchLayout()', () => {
  it("resolves with the publisher's layout, whose fingerprint is the publisher's", async () => {
    const network = new MemoryNetwork()
    const layout = await fetchLayout(await publisher(network), { network })
    expect(layout).toEqual(OrderBookCodec.layout)
    expect(stateFingerprint(layout)).toBe(OrderBookCodec.fingerprint)
  })

  it('puts a layout sent in fragments back together', async () => {
    const network = new MemoryNetwork()
    expect(layoutJson.length + HEADER_BYTES).toBeGreaterThan(256)
    const layout = await fetchLayout(await publisher(network, { maxDatagramBytes: 256 }), { network })
    expect(layout).toEqual(OrderBookCodec.layout)
  })

  it('asks over UDP by default and closes its socket', async () => {
    const address = await publisher(new UdpNetwork({ interface: '127.0.0.1' }))
    const before = socketHandles()
    expect(await fetchLayout(address)).toEqual(OrderBookCodec.layout)
    expect(await settledHandles(before)).toEqual(before)
  })

  it('rejects with ERR_DECODE naming both fingerprints when the layout does not hash to its packet’s', async () => {
    const network = new MemoryNetwork()
    const address = await fake(network, () => [packet(Kind.LAYOUT, 'deadbeefdeadbeef', layoutJson)])
    await expect(fetchLayout(address, { network })).rejects.toMatchObject({
      code: 'ERR_DECODE',
      message: `the LAYOUT from ${address} hashes to fingerprint ${OrderBookCodec.fingerprint}, its packet says deadbeefdeadbeef`,
    })
  })

  it('rejects with ERR_DECODE when the LAYOUT is not a state layout', async () => {
    const network = new MemoryNetwork()
    const address = await fake(network, () => [
      packet(Kind.LAYOUT, 'deadbeefdeadbeef', Buffer.from('{"name":')),
    ])
    await expect(fetchLayout(address, { network })).rejects.toMatchObject({
      code: 'ERR_DECODE',
      message: expect.stringMatching(new RegExp(`^the LAYOUT from ${address} is not a state layout: `)),
    })
    expect(() => readLayout(Buffer.from('{"name":"x"}'), '0000000000000000', 'here')).toThrow(
      'the LAYOUT from here is not a state layout: layout.version: must be a positive integer, got undefined',
    )
  })

  it('rejects with ERR_TIMEOUT naming the address when nothing answers', async () => {
    const network = new MemoryNetwork()
    await expect(fetchLayout('memory:999', { network, timeoutMs: 150 })).rejects.toMatchObject({
      code: 'ERR_TIMEOUT',
      message:
        'no layout from the publisher at memory:999 within 150 ms: nothing answered (is a publisher there?)',
    })
  })

  it('says so when the publisher answers INFO but sends no layout', async () => {
    const network = new MemoryNetwork()
    const info = Buffer.from([1, 0, 1, 0, 2, 0, 100, 0, 0xc0, 5, 1, 0x41])
    const address = await fake(network, () => [packet(Kind.INFO, 'deadbeefdeadbeef', info)])
    await expect(fetchLayout(address, { network, timeoutMs: 150 })).rejects.toMatchObject({
      code: 'ERR_TIMEOUT',
      message: expect.stringContaining('it answered INFO but sent no LAYOUT'),
    })
  })

  it('rejects with ERR_ABORTED when its signal aborts, and with ERR_INVALID_ARGUMENT for a bad address', async () => {
    const network = new MemoryNetwork()
    await expect(fetchLayout('memory:999', { network, signal: AbortSignal.abort() })).rejects.toMatchObject({
      code: 'ERR_ABORTED',
    })
    await expect(fetchLayout('nowhere', { network })).rejects.toMatchObject({ code: 'ERR_INVALID_ARGUMENT' })
    await expect(fetchLayout('localhost:5', { timeoutMs: 500 })).rejects.toMatchObject({
      code: 'ERR_INVALID_ARGUMENT',
      message: expect.stringContaining('to.host must be an IPv4 address'),
    })
    expect(network.ports.size).toBe(0)
  })
})
