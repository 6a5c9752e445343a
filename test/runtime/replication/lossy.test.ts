import { setTimeout as delay, setImmediate as tick } from 'node:timers/promises'
import v8 from 'node:v8'
import vm from 'node:vm'
import { afterEach, describe, expect, it } from 'vitest'
import type { DatagramEndpoint } from '../../../runtime/replication/endpoint.js'
import { type LossyEndpoint, type LossyOptions, lossy } from '../../../runtime/replication/lossy.js'
import { lossyNetwork } from '../../../runtime/replication/lossy-network.js'
import { MemoryNetwork } from '../../../runtime/replication/memory-network.js'

const DATA = 1
const HEARTBEAT = 2

/** A 12-byte stand-in for a packet: the header's magic, version and kind, then `n`. */
function packet(kind: number, n: number): Buffer {
  const bytes = Buffer.alloc(12)
  bytes.set([0x47, 0x56, 1, kind], 0)
  bytes.writeUInt32LE(n, 4)
  bytes.writeUInt32LE(0xa5a5a5a5, 8)
  return bytes
}

/** Lets every batch already scheduled on the memory network be delivered. */
async function settle(): Promise<void> {
  for (let i = 0; i < 3; i++) await tick()
}

/** Waits (bounded, polling) until `condition()` holds. */
async function eventually(condition: () => boolean, timeoutMs = 10_000): Promise<void> {
  const deadline = Date.now() + timeoutMs
  while (!condition()) {
    if (Date.now() > deadline) throw new Error('condition not met in time')
    await delay(2)
  }
}

function timers(): number {
  return process.getActiveResourcesInfo().filter((type) => type === 'Timeout').length
}

describe('lossy()', () => {
  const open: DatagramEndpoint[] = []
  afterEach(async () => {
    await Promise.all(open.splice(0).map((endpoint) => endpoint.close()))
  })

  /** A lossy sender and a plain receiver on one memory network. */
  async function link(options: LossyOptions, network = new MemoryNetwork()) {
    const sender = lossy(await network.bind({}), options)
    const receiver = await network.bind({})
    open.push(sender, receiver)
    const received: Buffer[] = []
    receiver.onMessage((bytes) => received.push(bytes))
    const send = (bytes: Buffer) => sender.send(bytes, receiver.address)
    /** Waits until everything the wrapper passed on has arrived. */
    const drained = () => eventually(() => sender.held === 0 && received.length === sender.stats.passed)
    return { network, sender, receiver, received, send, drained }
  }

  const numbers = (received: Buffer[]) => received.map((bytes) => bytes.readUInt32LE(4))
  const range = (count: number) => Array.from({ length: count }, (_, i) => i)

  async function scenario(seed: number) {
    const { sender, received, send, drained } = await link({
      seed,
      drop: 0.1,
      duplicate: 0.05,
      reorder: 0.05,
      truncate: 0.02,
      corrupt: 0.02,
    })
    for (let i = 0; i < 2000; i++) send(packet(i % 3 === 0 ? HEARTBEAT : DATA, i))
    await drained()
    return { received: received.map((bytes) => bytes.toString('hex')), stats: { ...sender.stats } }
  }

  it('makes the same decisions for the same seed and traffic', async () => {
    const first = await scenario(42)
    const second = await scenario(42)
    expect(second).toEqual(first)
    expect(first.stats.dropped).toBeGreaterThan(0)
  })

  it('makes other decisions for another seed', async () => {
    const first = await scenario(42)
    const other = await scenario(43)
    expect(other.received).not.toEqual(first.received)
  })

  it('passes everything on unchanged and in order with no impairment', async () => {
    const { received, send, drained } = await link({})
    for (let i = 0; i < 100; i++) send(packet(DATA, i))
    await drained()
    expect(numbers(received)).toEqual(range(100))
  })

  it('drops packets with the given probability', async () => {
    const { sender, received, send, drained } = await link({ seed: 5, drop: 0.3 })
    for (let i = 0; i < 1000; i++) send(packet(DATA, i))
    await drained()
    expect(sender.stats.dropped).toBeGreaterThan(200)
    expect(sender.stats.dropped).toBeLessThan(400)
    expect(received).toHaveLength(1000 - sender.stats.dropped)
    const got = numbers(received)
    expect(got).toEqual([...got].sort((a, b) => a - b))
  })

  it('drops every packet with drop: 1', async () => {
    const { network, sender, send } = await link({ drop: 1 })
    for (let i = 0; i < 10; i++) send(packet(DATA, i))
    await settle()
    expect(sender.stats.dropped).toBe(10)
    expect(network.sent).toBe(0)
  })

  it('duplicates a packet right after the original', async () => {
    const { sender, received, send, drained } = await link({ duplicate: 1 })
    for (let i = 0; i < 3; i++) send(packet(DATA, i))
    await drained()
    expect(numbers(received)).toEqual([0, 0, 1, 1, 2, 2])
    expect(sender.stats.duplicated).toBe(3)
  })

  it('reorders packets, each released after a few later ones, losing none', async () => {
    const { sender, received, send, drained } = await link({ seed: 9, reorder: 0.3, reorderDepth: 3 })
    for (let i = 0; i < 500; i++) send(packet(DATA, i))
    await drained()
    const got = numbers(received)
    expect([...got].sort((a, b) => a - b)).toEqual(range(500))
    expect(got).not.toEqual(range(500))
    expect(sender.stats.reordered).toBeGreaterThan(0)
  })

  it('releases a held packet after reorderMaxMs when no later packet comes', async () => {
    const { sender, received, send, drained } = await link({ reorder: 1, reorderMaxMs: 5 })
    send(packet(DATA, 7))
    await settle()
    expect(sender.held).toBe(1)
    await drained()
    expect(numbers(received)).toEqual([7])
  })

  it('delays packets by delayMs, keeping their order when the delay is fixed', async () => {
    const { sender, received, send, drained } = await link({ delayMs: 30 })
    for (let i = 0; i < 20; i++) send(packet(DATA, i))
    await settle()
    expect(received).toHaveLength(0)
    expect(sender.held).toBe(20)
    await drained()
    expect(numbers(received)).toEqual(range(20))
    expect(sender.stats.delayed).toBe(20)
  })

  it('delays packets by a random delay within [min, max]', async () => {
    const { sender, received, send, drained } = await link({ seed: 3, delayMs: [0, 4] })
    for (let i = 0; i < 200; i++) send(packet(DATA, i))
    await drained()
    expect([...numbers(received)].sort((a, b) => a - b)).toEqual(range(200))
    expect(sender.stats.delayed).toBeGreaterThan(100)
    expect(sender.stats.delayed).toBeLessThan(200)
  })

  it('truncates packets to a shorter prefix', async () => {
    const { sender, received, send, drained } = await link({ truncate: 1 })
    const sent = range(50).map((i) => packet(DATA, i))
    for (const bytes of sent) send(bytes)
    await drained()
    expect(received).toHaveLength(50)
    received.forEach((bytes, i) => {
      expect(bytes.length).toBeLessThan(12)
      expect(bytes.equals((sent[i] as Buffer).subarray(0, bytes.length))).toBe(true)
    })
    expect(sender.stats.truncated).toBe(50)
  })

  it("corrupts packets by flipping 1 to 3 bits of a copy, never of the sender's bytes", async () => {
    const { sender, received, send, drained } = await link({ corrupt: 1 })
    const sent = range(50).map((i) => packet(DATA, i))
    const before = sent.map((bytes) => Buffer.from(bytes))
    for (const bytes of sent) send(bytes)
    await drained()
    expect(sent).toEqual(before)
    received.forEach((bytes, i) => {
      const original = sent[i] as Buffer
      expect(bytes.length).toBe(original.length)
      let flipped = 0
      for (let j = 0; j < bytes.length; j++) {
        for (let x = (bytes[j] as number) ^ (original[j] as number); x > 0; x >>= 1) flipped += x & 1
      }
      expect(flipped).toBeGreaterThanOrEqual(1)
      expect(flipped).toBeLessThanOrEqual(3)
    })
    expect(sender.stats.corrupted).toBe(50)
  })

  it('applies the settings of a kind over the top-level ones', async () => {
    const { received, send, drained } = await link({
      drop: 1,
      kinds: { [HEARTBEAT]: { drop: 0, duplicate: 1 } },
    })
    for (let i = 0; i < 10; i++) send(packet(i % 2 === 0 ? DATA : HEARTBEAT, i))
    await drained()
    expect(numbers(received)).toEqual([1, 1, 3, 3, 5, 5, 7, 7, 9, 9])
  })

  it('reads the kind with kindOf when given', async () => {
    const { received, send, drained } = await link({
      kindOf: (bytes) => bytes[8] ?? 0,
      kinds: { 165: { drop: 1 } },
    })
    const plain = packet(DATA, 1)
    plain[8] = 0
    send(packet(DATA, 0))
    send(plain)
    await drained()
    expect(numbers(received)).toEqual([1])
  })

  it('drops a scripted burst with dropIf, counting packets per kind', async () => {
    const calls: Array<[number, number]> = []
    const { sender, received, send, drained } = await link({
      dropIf: (_bytes, index, kind) => {
        calls.push([kind, index])
        return kind === DATA && index >= 10 && index < 20
      },
    })
    let n = 0
    for (let i = 0; i < 30; i++) {
      send(packet(DATA, n++))
      if (i % 10 === 0) send(packet(HEARTBEAT, n++))
    }
    await drained()
    const dataIndexes = calls.filter(([kind]) => kind === DATA).map(([, index]) => index)
    expect(dataIndexes).toEqual(range(30))
    expect(calls.filter(([kind]) => kind === HEARTBEAT).map(([, index]) => index)).toEqual([0, 1, 2])
    const dataReceived = received.filter((bytes) => bytes[3] === DATA)
    expect(dataReceived).toHaveLength(20)
    expect(received.filter((bytes) => bytes[3] === HEARTBEAT)).toHaveLength(3)
    expect(sender.stats.scripted).toBe(10)
  })

  it('holds everything while paused and passes it on in order at resume()', async () => {
    const { sender, received, send, drained } = await link({})
    send(packet(DATA, 0))
    sender.pause()
    expect(sender.paused).toBe(true)
    for (let i = 1; i < 6; i++) send(packet(DATA, i))
    await settle()
    expect(numbers(received)).toEqual([0])
    expect(sender.held).toBe(5)
    sender.resume()
    expect(sender.paused).toBe(false)
    send(packet(DATA, 6))
    await drained()
    expect(numbers(received)).toEqual(range(7))
  })

  it('impairs what each receiver gets on its own with on: "receive"', async () => {
    const network = new MemoryNetwork()
    const sender = await network.bind({ port: 50 })
    const a = lossy(await network.bind({ port: 60, reuseAddr: true }), { on: 'receive', seed: 1, drop: 0.5 })
    const b = lossy(await network.bind({ port: 60, reuseAddr: true }), { on: 'receive', seed: 2, drop: 0.5 })
    open.push(sender, a, b)
    a.joinGroup('feed')
    b.joinGroup('feed')
    const got: [number[], number[]] = [[], []]
    a.onMessage((bytes, from) => {
      expect(from).toEqual(sender.address)
      got[0].push(bytes.readUInt32LE(4))
    })
    b.onMessage((bytes) => got[1].push(bytes.readUInt32LE(4)))
    for (let i = 0; i < 200; i++) sender.send(packet(DATA, i), { host: 'feed', port: 60 })
    await eventually(() => a.stats.packets === 200 && b.stats.packets === 200)
    expect(got[0]).toHaveLength(200 - a.stats.dropped)
    expect(got[1]).toHaveLength(200 - b.stats.dropped)
    expect(got[0]).not.toEqual(got[1])
    expect(a.stats.dropped).toBeGreaterThan(50)
  })

  it('sends straight through when impairing on receive', async () => {
    const network = new MemoryNetwork()
    const a = lossy(await network.bind({}), { on: 'receive', drop: 1 })
    const b = await network.bind({})
    open.push(a, b)
    const got: Buffer[] = []
    b.onMessage((bytes) => got.push(bytes))
    a.send(packet(DATA, 1), b.address)
    await eventually(() => got.length === 1)
    expect(a.stats.packets).toBe(0)
  })

  it('reports an error of a delayed send to onError instead of throwing from a timer', async () => {
    const network = new MemoryNetwork({ maxDatagramBytes: 8 })
    const { sender, send } = await link({ delayMs: 5 }, network)
    const errors: Error[] = []
    sender.onError((error) => errors.push(error))
    send(packet(DATA, 1))
    await eventually(() => errors.length === 1)
    expect(errors[0]).toMatchObject({ code: 'ERR_PAYLOAD_TOO_LARGE' })
  })

  describe('close()', () => {
    it('clears every timer, discards what is held, closes the wrapped endpoint and returns the same promise', async () => {
      const network = new MemoryNetwork()
      const inner = await network.bind({})
      const sender: LossyEndpoint = lossy(inner, { delayMs: 10_000, kinds: { [HEARTBEAT]: { reorder: 1 } } })
      const idle = timers()
      sender.send(packet(DATA, 1), inner.address)
      sender.send(packet(HEARTBEAT, 2), inner.address)
      sender.pause()
      expect(timers()).toBe(idle + 2)
      const closing = sender.close()
      expect(sender.close()).toBe(closing)
      await closing
      expect(timers()).toBe(idle)
      expect(sender.stats.discarded).toBe(2)
      expect(() => inner.send(packet(DATA, 3), inner.address)).toThrow(
        expect.objectContaining({ code: 'ERR_CLOSED' }),
      )
      expect(() => sender.send(packet(DATA, 3), inner.address)).toThrow(
        expect.objectContaining({ code: 'ERR_CLOSED' }),
      )
    })
  })

  it.each([
    [{ drop: 2 }, 'options.drop'],
    [{ duplicate: -0.1 }, 'options.duplicate'],
    [{ reorder: Number.NaN }, 'options.reorder'],
    [{ delayMs: -1 }, 'options.delayMs'],
    [{ delayMs: [5, 1] as const }, 'options.delayMs'],
    [{ kinds: { 2: { drop: 1.5 } } }, 'options.kinds.2.drop'],
    [{ kinds: { 300: { drop: 0 } } }, 'options.kinds'],
    [{ on: 'both' as 'send' }, 'options.on'],
    [{ reorderDepth: 0 }, 'options.reorderDepth'],
    [{ seed: 0.5 }, 'options.seed'],
  ] as Array<[LossyOptions, string]>)(
    'rejects %o with ERR_INVALID_OPTION naming %s',
    async (options, name) => {
      const network = new MemoryNetwork()
      const inner = await network.bind({})
      open.push(inner)
      expect(() => lossy(inner, options)).toThrow(
        expect.objectContaining({ code: 'ERR_INVALID_OPTION', message: expect.stringContaining(name) }),
      )
    },
  )
})

describe('lossyNetwork()', () => {
  it('keeps its endpoints for their stats, but a closed one lets go of its listeners (and their owner)', async () => {
    v8.setFlagsFromString('--expose-gc')
    const gc = vm.runInNewContext('gc') as () => void
    const network = lossyNetwork(new MemoryNetwork(), { on: 'receive', drop: 0.1 })
    const owner = await (async () => {
      // Stands for a replica: what its listeners close over.
      const replica = { leaves: new Map([['o-1', { size: 1 }]]) }
      const endpoint = await network.bind({ port: 0 })
      endpoint.onMessage(() => replica.leaves.clear())
      endpoint.onError(() => replica.leaves.clear())
      await endpoint.close()
      return new WeakRef(replica)
    })()
    for (let i = 0; i < 3 && owner.deref() !== undefined; i++) {
      await tick()
      gc()
    }
    expect(network.endpoints).toHaveLength(1)
    expect(owner.deref()).toBeUndefined()
  })
})
