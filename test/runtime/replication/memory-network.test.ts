import { setImmediate as tick } from 'node:timers/promises'
import { afterEach, describe, expect, it } from 'vitest'
import type { DatagramAddress, DatagramEndpoint } from '../../../runtime/replication/endpoint.js'
import { MemoryNetwork } from '../../../runtime/replication/memory-network.js'

interface Received {
  bytes: Buffer
  from: DatagramAddress
}

/** Records what an endpoint receives; `until(n)` waits for the n-th datagram. */
function inbox(endpoint: DatagramEndpoint) {
  const received: Received[] = []
  const waiters: Array<{ count: number; resolve: () => void }> = []
  endpoint.onMessage((bytes, from) => {
    received.push({ bytes, from })
    for (const waiter of waiters.filter((w) => received.length >= w.count)) {
      waiters.splice(waiters.indexOf(waiter), 1)
      waiter.resolve()
    }
  })
  return {
    received,
    texts: () => received.map((r) => r.bytes.toString()),
    until: (count: number): Promise<void> =>
      received.length >= count
        ? Promise.resolve()
        : new Promise((resolve) => waiters.push({ count, resolve })),
  }
}

/** Lets every batch already scheduled be delivered. */
async function settle(): Promise<void> {
  for (let i = 0; i < 3; i++) await tick()
}

describe('MemoryNetwork', () => {
  const open: DatagramEndpoint[] = []
  afterEach(async () => {
    await Promise.all(open.splice(0).map((endpoint) => endpoint.close()))
  })

  async function bind(
    network: MemoryNetwork,
    options: { port?: number; reuseAddr?: boolean; host?: string } = {},
  ) {
    const endpoint = await network.bind(options)
    open.push(endpoint)
    return endpoint
  }

  describe('bind()', () => {
    it('gives each endpoint the next free port of the host "memory" for port 0', async () => {
      const network = new MemoryNetwork()
      const a = await bind(network)
      const b = await bind(network)
      const c = await bind(network, { port: 5000 })
      expect(a.address).toEqual({ host: 'memory', port: 1 })
      expect(b.address).toEqual({ host: 'memory', port: 2 })
      expect(c.address).toEqual({ host: 'memory', port: 5000 })
    })

    it('skips ports already bound explicitly when picking one', async () => {
      const network = new MemoryNetwork()
      await bind(network, { port: 1 })
      await bind(network, { port: 2 })
      expect((await bind(network)).address.port).toBe(3)
    })

    it('rejects with ERR_ADDRESS_IN_USE for a taken port unless both endpoints set reuseAddr', async () => {
      const network = new MemoryNetwork()
      await bind(network, { port: 7 })
      await expect(network.bind({ port: 7 })).rejects.toMatchObject({ code: 'ERR_ADDRESS_IN_USE' })
      await expect(network.bind({ port: 7, reuseAddr: true })).rejects.toMatchObject({
        code: 'ERR_ADDRESS_IN_USE',
      })
      await bind(network, { port: 8, reuseAddr: true })
      await expect(bind(network, { port: 8, reuseAddr: true })).resolves.toBeDefined()
    })

    it('ignores the host, so a UDP-style bind to a group address works', async () => {
      const network = new MemoryNetwork()
      const endpoint = await bind(network, { host: '239.1.2.3', port: 9, reuseAddr: true })
      expect(endpoint.address).toEqual({ host: 'memory', port: 9 })
    })

    it('rejects an invalid port with ERR_INVALID_ARGUMENT naming it', async () => {
      const network = new MemoryNetwork()
      await expect(network.bind({ port: 70000 })).rejects.toMatchObject({
        code: 'ERR_INVALID_ARGUMENT',
        message: expect.stringContaining('port'),
      })
    })

    it('frees the port on close', async () => {
      const network = new MemoryNetwork()
      const a = await network.bind({ port: 11 })
      await a.close()
      await expect(bind(network, { port: 11 })).resolves.toBeDefined()
    })
  })

  describe('send()', () => {
    it('delivers a datagram to the endpoint bound to the port, with the sender as from', async () => {
      const network = new MemoryNetwork()
      const a = await bind(network)
      const b = await bind(network)
      const box = inbox(b)
      a.send(Buffer.from('hello'), b.address)
      await box.until(1)
      expect(box.texts()).toEqual(['hello'])
      expect(box.received[0]?.from).toEqual(a.address)
      expect(network.sent).toBe(1)
      expect(network.delivered).toBe(1)
    })

    it('delivers asynchronously, never inside send()', async () => {
      const network = new MemoryNetwork()
      const a = await bind(network)
      const box = inbox(a)
      a.send(Buffer.from('x'), a.address)
      expect(box.received).toHaveLength(0)
      await Promise.resolve()
      expect(box.received).toHaveLength(0)
      await box.until(1)
      expect(box.texts()).toEqual(['x'])
    })

    it('keeps the order of what one sender sends to one receiver', async () => {
      const network = new MemoryNetwork()
      const a = await bind(network)
      const b = await bind(network)
      const box = inbox(b)
      for (let i = 0; i < 1000; i++) {
        a.send(Buffer.from(String(i)), b.address)
        if (i % 100 === 0) await tick()
      }
      await box.until(1000)
      expect(box.texts()).toEqual(Array.from({ length: 1000 }, (_, i) => String(i)))
    })

    it('copies the bytes: changing them after send() changes nothing delivered', async () => {
      const network = new MemoryNetwork()
      const a = await bind(network)
      const box = inbox(a)
      const bytes = new Uint8Array([1, 2, 3])
      a.send(bytes, a.address)
      bytes[0] = 9
      await box.until(1)
      expect([...(box.received[0]?.bytes ?? [])]).toEqual([1, 2, 3])
    })

    it('drops a datagram to a port nobody is bound to, counting it', async () => {
      const network = new MemoryNetwork()
      const a = await bind(network)
      a.send(Buffer.from('lost'), { host: 'memory', port: 4242 })
      await settle()
      expect(network.dropped).toBe(1)
      expect(network.delivered).toBe(0)
    })

    it('drops what was on its way to an endpoint closed meanwhile', async () => {
      const network = new MemoryNetwork()
      const a = await bind(network)
      const b = await network.bind({})
      const box = inbox(b)
      a.send(Buffer.from('late'), b.address)
      await b.close()
      await settle()
      expect(box.received).toHaveLength(0)
      expect(network.dropped).toBe(1)
    })

    it('reports a datagram above maxDatagramBytes to onError as ERR_PAYLOAD_TOO_LARGE and sends nothing', async () => {
      const network = new MemoryNetwork({ maxDatagramBytes: 100 })
      const a = await bind(network)
      const errors: Error[] = []
      a.onError((error) => errors.push(error))
      const box = inbox(a)
      a.send(new Uint8Array(101), a.address)
      a.send(new Uint8Array(100), a.address)
      await box.until(1)
      expect(errors).toEqual([expect.objectContaining({ code: 'ERR_PAYLOAD_TOO_LARGE' })])
      expect(box.received).toHaveLength(1)
    })

    it('throws ERR_INVALID_ARGUMENT for an address without a valid port', async () => {
      const network = new MemoryNetwork()
      const a = await bind(network)
      expect(() => a.send(Buffer.from('x'), { host: 'memory', port: 0 })).toThrow(
        expect.objectContaining({
          code: 'ERR_INVALID_ARGUMENT',
          message: expect.stringContaining('to.port'),
        }),
      )
    })

    it('carries 100 000 datagrams between two endpoints, every one in order', async () => {
      const network = new MemoryNetwork()
      const a = await bind(network)
      const b = await bind(network)
      let next = 0
      let outOfOrder = 0
      const done = new Promise<void>((resolve) => {
        b.onMessage((bytes) => {
          if (bytes.readUInt32LE(0) !== next) outOfOrder++
          if (++next === 100_000) resolve()
        })
      })
      const bytes = Buffer.alloc(64)
      for (let i = 0; i < 100_000; i++) {
        bytes.writeUInt32LE(i, 0)
        a.send(bytes, b.address)
        if (i % 1000 === 999) await tick()
      }
      await done
      expect(outOfOrder).toBe(0)
    })
  })

  describe('groups', () => {
    it('delivers a datagram sent to group:port to every member bound to that port, the sender included', async () => {
      const network = new MemoryNetwork()
      const a = await bind(network, { port: 100, reuseAddr: true })
      const b = await bind(network, { port: 100, reuseAddr: true })
      const otherPort = await bind(network, { port: 101 })
      const notJoined = await bind(network, { port: 100, reuseAddr: true })
      for (const endpoint of [a, b, otherPort]) endpoint.joinGroup('feed')
      const boxes = [a, b, otherPort, notJoined].map(inbox)
      a.send(Buffer.from('delta'), { host: 'feed', port: 100 })
      await boxes[0]?.until(1)
      await boxes[1]?.until(1)
      await settle()
      expect(boxes.map((box) => box.texts())).toEqual([['delta'], ['delta'], [], []])
      expect(network.delivered).toBe(2)
    })

    it('gives each member its own copy of the bytes', async () => {
      const network = new MemoryNetwork()
      const a = await bind(network, { port: 100, reuseAddr: true })
      const b = await bind(network, { port: 100, reuseAddr: true })
      a.joinGroup('g')
      b.joinGroup('g')
      const [boxA, boxB] = [inbox(a), inbox(b)]
      a.send(Buffer.from('abc'), { host: 'g', port: 100 })
      await boxB.until(1)
      expect(boxA.received[0]?.bytes).not.toBe(boxB.received[0]?.bytes)
    })

    it('stops delivering to an endpoint that left the group', async () => {
      const network = new MemoryNetwork()
      const a = await bind(network, { port: 100, reuseAddr: true })
      const b = await bind(network, { port: 100, reuseAddr: true })
      a.joinGroup('g')
      b.joinGroup('g')
      const [boxA, boxB] = [inbox(a), inbox(b)]
      b.leaveGroup('g')
      a.send(Buffer.from('one'), { host: 'g', port: 100 })
      await boxA.until(1)
      await settle()
      expect(boxB.received).toHaveLength(0)
    })

    it('drops a datagram to a group without members, counting it', async () => {
      const network = new MemoryNetwork()
      const a = await bind(network, { port: 100 })
      a.send(Buffer.from('x'), { host: 'nobody', port: 100 })
      await settle()
      expect(network.dropped).toBe(1)
    })

    it('joins a group once however often joinGroup is called', async () => {
      const network = new MemoryNetwork()
      const a = await bind(network, { port: 100 })
      a.joinGroup('g')
      a.joinGroup('g')
      const box = inbox(a)
      a.send(Buffer.from('x'), { host: 'g', port: 100 })
      await box.until(1)
      await settle()
      expect(box.received).toHaveLength(1)
    })

    it('rejects the unicast host "memory" as a group name', async () => {
      const network = new MemoryNetwork()
      const a = await bind(network)
      expect(() => a.joinGroup('memory')).toThrow(expect.objectContaining({ code: 'ERR_INVALID_ARGUMENT' }))
    })
  })

  describe('close()', () => {
    it('returns the same promise every time, detaches the endpoint and rejects later sends with ERR_CLOSED', async () => {
      const network = new MemoryNetwork()
      const a = await network.bind({ port: 100 })
      a.joinGroup('g')
      const closing = a.close()
      expect(a.close()).toBe(closing)
      await closing
      expect(network.ports.size).toBe(0)
      expect(network.groups.size).toBe(0)
      expect(() => a.send(Buffer.from('x'), { host: 'memory', port: 1 })).toThrow(
        expect.objectContaining({ code: 'ERR_CLOSED' }),
      )
    })
  })

  it('rejects an invalid maxDatagramBytes with ERR_INVALID_OPTION naming it', () => {
    expect(() => new MemoryNetwork({ maxDatagramBytes: 0 })).toThrow(
      expect.objectContaining({
        code: 'ERR_INVALID_OPTION',
        message: expect.stringContaining('options.maxDatagramBytes'),
      }),
    )
  })
})
