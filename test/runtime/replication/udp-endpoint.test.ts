import { networkInterfaces } from 'node:os'
import { setTimeout as delay } from 'node:timers/promises'
import { afterAll, afterEach, describe, expect, it } from 'vitest'
import type { DatagramAddress, DatagramEndpoint } from '../../../runtime/replication/endpoint.js'
import {
  isMulticastAddress,
  UdpNetwork,
  type UdpNetworkOptions,
} from '../../../runtime/replication/udp-endpoint.js'
import { settledHandles, socketHandles } from '../../helpers/handles.js'

interface Received {
  bytes: Buffer
  from: DatagramAddress
}

/** Records what an endpoint receives; `until(n)` waits (bounded) for the n-th datagram. */
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
    until: (count: number, timeoutMs = 10_000): Promise<void> => {
      if (received.length >= count) return Promise.resolve()
      return new Promise((resolve, reject) => {
        const timer = setTimeout(
          () => reject(new Error(`${received.length} of ${count} datagrams in ${timeoutMs} ms`)),
          timeoutMs,
        )
        waiters.push({
          count,
          resolve: () => {
            clearTimeout(timer)
            resolve()
          },
        })
      })
    },
  }
}

/** A random group in 239.0.0.0/8 (administratively scoped), away from 239.255 used by feeds. */
function randomGroup(): string {
  const byte = () => 1 + Math.floor(Math.random() * 254)
  return `239.${byte() % 200}.${byte()}.${byte()}`
}

/** An address from the documentation ranges that no interface of this machine has. */
function foreignAddress(): string {
  const local = new Set(
    Object.values(networkInterfaces())
      .flat()
      .map((info) => info?.address),
  )
  const address = ['192.0.2.1', '198.51.100.1', '203.0.113.1'].find((candidate) => !local.has(candidate))
  if (!address) throw new Error('every candidate address is local')
  return address
}

describe('UdpNetwork', () => {
  const before = socketHandles()
  const open: DatagramEndpoint[] = []
  const network = new UdpNetwork({ interface: '127.0.0.1' })

  afterEach(async () => {
    await Promise.all(open.splice(0).map((endpoint) => endpoint.close()))
  })
  afterAll(async () => {
    expect(await settledHandles(before)).toEqual(before)
  })

  async function bind(options: { host?: string; port?: number; reuseAddr?: boolean }, net = network) {
    const endpoint = await net.bind(options)
    open.push(endpoint)
    return endpoint
  }

  /** Two receivers bound to a fresh group's port (the group address as host), both joined. */
  async function groupReceivers() {
    const group = randomGroup()
    const a = await bind({ host: group, port: 0, reuseAddr: true })
    const b = await bind({ host: group, port: a.address.port, reuseAddr: true })
    a.joinGroup(group)
    b.joinGroup(group)
    const sender = await bind({ host: '127.0.0.1' })
    return { group, to: { host: group, port: a.address.port }, a, b, sender }
  }

  describe('unicast', () => {
    it('sends a datagram to another endpoint, which sees where it came from', async () => {
      const a = await bind({ host: '127.0.0.1' })
      const b = await bind({ host: '127.0.0.1' })
      expect(a.address.host).toBe('127.0.0.1')
      expect(a.address.port).toBeGreaterThan(0)
      const box = inbox(b)
      a.send(Buffer.from('hello'), b.address)
      a.send(new Uint8Array([1, 2, 3]), b.address)
      await box.until(2)
      expect(box.received[0]?.bytes.toString()).toBe('hello')
      expect([...(box.received[1]?.bytes ?? [])]).toEqual([1, 2, 3])
      expect(box.received[0]?.from).toEqual(a.address)
    })

    it('reports a send that fails (EMSGSIZE) to onError instead of throwing', async () => {
      const a = await bind({ host: '127.0.0.1' })
      const errors: Error[] = []
      const failed = new Promise<void>((resolve) =>
        a.onError((error) => {
          errors.push(error)
          resolve()
        }),
      )
      expect(() => a.send(Buffer.alloc(70_000), a.address)).not.toThrow()
      await failed
      expect(errors[0]).toMatchObject({ name: 'GrenacheError' })
      expect(errors[0]?.message).toMatch(/EMSGSIZE/)
    })

    it('throws ERR_INVALID_ARGUMENT at once for an address that is not IPv4:port', async () => {
      const a = await bind({ host: '127.0.0.1' })
      expect(() => a.send(Buffer.from('x'), { host: 'localhost', port: 1 })).toThrow(
        expect.objectContaining({
          code: 'ERR_INVALID_ARGUMENT',
          message: expect.stringContaining('to.host'),
        }),
      )
      expect(() => a.send(Buffer.from('x'), { host: '127.0.0.1', port: 0 })).toThrow(
        expect.objectContaining({
          code: 'ERR_INVALID_ARGUMENT',
          message: expect.stringContaining('to.port'),
        }),
      )
    })

    it('rejects with ERR_ADDRESS_IN_USE when the port is taken', async () => {
      const a = await bind({ host: '127.0.0.1' })
      await expect(network.bind({ host: '127.0.0.1', port: a.address.port })).rejects.toMatchObject({
        code: 'ERR_ADDRESS_IN_USE',
      })
    })

    it('rejects a host that is not an IPv4 address with ERR_INVALID_ARGUMENT', async () => {
      await expect(network.bind({ host: 'localhost' })).rejects.toMatchObject({
        code: 'ERR_INVALID_ARGUMENT',
      })
    })
  })

  describe('multicast', () => {
    it('delivers a datagram sent to the group to two receivers in one process', async () => {
      const { to, a, b, sender } = await groupReceivers()
      const [boxA, boxB] = [inbox(a), inbox(b)]
      sender.send(Buffer.from('delta 1'), to)
      sender.send(Buffer.from('delta 2'), to)
      await Promise.all([boxA.until(2), boxB.until(2)])
      expect(boxA.texts()).toEqual(['delta 1', 'delta 2'])
      expect(boxB.texts()).toEqual(['delta 1', 'delta 2'])
      expect(boxA.received[0]?.from).toEqual(sender.address)
    })

    it('stops delivering to a receiver that left the group while another one stays', async () => {
      const { group, to, a, b, sender } = await groupReceivers()
      const [boxA, boxB] = [inbox(a), inbox(b)]
      sender.send(Buffer.from('one'), to)
      await Promise.all([boxA.until(1), boxB.until(1)])
      b.leaveGroup(group)
      expect(b.groups).toEqual([])
      sender.send(Buffer.from('two'), to)
      sender.send(Buffer.from('three'), to)
      await boxA.until(3)
      await delay(50)
      expect(boxA.texts()).toEqual(['one', 'two', 'three'])
      expect(boxB.texts()).toEqual(['one'])
    })

    it('does not deliver another group that uses the same port', async () => {
      const { to, a, sender } = await groupReceivers()
      const other = randomGroup()
      const c = await bind({ host: other, port: to.port, reuseAddr: true })
      c.joinGroup(other)
      const [boxA, boxC] = [inbox(a), inbox(c)]
      sender.send(Buffer.from('for c'), { host: other, port: to.port })
      sender.send(Buffer.from('for a'), to)
      await Promise.all([boxA.until(1), boxC.until(1)])
      await delay(50)
      expect(boxA.texts()).toEqual(['for a'])
      expect(boxC.texts()).toEqual(['for c'])
    })

    it('joins a group once however often joinGroup is called', async () => {
      const { group, a } = await groupReceivers()
      expect(() => a.joinGroup(group)).not.toThrow()
      expect(a.groups).toEqual([group])
    })

    it('rejects a group outside 224.0.0.0/4 with ERR_INVALID_ARGUMENT', async () => {
      const a = await bind({ host: '127.0.0.1' })
      for (const group of ['10.0.0.1', '240.0.0.1', 'feed', '']) {
        expect(() => a.joinGroup(group)).toThrow(
          expect.objectContaining({
            code: 'ERR_INVALID_ARGUMENT',
            message: expect.stringContaining('group'),
          }),
        )
      }
    })

    it('rejects with ERR_MULTICAST naming options.interface and the address when no interface has it', async () => {
      const address = foreignAddress()
      const foreign = new UdpNetwork({ interface: address })
      const error = await foreign.bind({ host: '127.0.0.1' }).then(
        () => undefined,
        (err: unknown) => err,
      )
      expect(error).toMatchObject({ code: 'ERR_MULTICAST' })
      expect((error as Error).message).toContain('options.interface')
      expect((error as Error).message).toContain(address)
    })

    it('recognises multicast addresses', () => {
      expect(isMulticastAddress('224.0.0.1')).toBe(true)
      expect(isMulticastAddress('239.255.255.255')).toBe(true)
      expect(isMulticastAddress('223.255.255.255')).toBe(false)
      expect(isMulticastAddress('240.0.0.1')).toBe(false)
      expect(isMulticastAddress('239.1.1')).toBe(false)
    })
  })

  describe('buffers', () => {
    it('exposes the buffer sizes the kernel granted', async () => {
      const sized = new UdpNetwork({
        interface: '127.0.0.1',
        recvBufferBytes: 128 * 1024,
        sendBufferBytes: 64 * 1024,
      })
      const a = await bind({ host: '127.0.0.1' }, sized)
      expect(a.recvBufferBytes).toBeGreaterThanOrEqual(128 * 1024)
      expect(a.sendBufferBytes).toBeGreaterThanOrEqual(64 * 1024)
    })
  })

  describe('close()', () => {
    it('returns the same promise every time, leaves no handle and rejects later sends with ERR_CLOSED', async () => {
      const handles = socketHandles()
      const a = await network.bind({ host: '127.0.0.1' })
      expect(socketHandles().UDPWrap).toBe((handles.UDPWrap ?? 0) + 1)
      const closing = a.close()
      expect(a.close()).toBe(closing)
      await closing
      expect(socketHandles()).toEqual(handles)
      expect(() => a.send(Buffer.from('x'), { host: '127.0.0.1', port: 1 })).toThrow(
        expect.objectContaining({ code: 'ERR_CLOSED' }),
      )
      expect(() => a.joinGroup(randomGroup())).toThrow(expect.objectContaining({ code: 'ERR_CLOSED' }))
    })

    it('leaves no handle after a failed bind', async () => {
      const handles = socketHandles()
      await expect(
        new UdpNetwork({ interface: foreignAddress() }).bind({ host: '127.0.0.1' }),
      ).rejects.toThrow()
      const a = await bind({ host: '127.0.0.1' })
      await expect(network.bind({ host: '127.0.0.1', port: a.address.port })).rejects.toThrow()
      await a.close()
      expect(socketHandles()).toEqual(handles)
    })
  })

  describe('options', () => {
    it('defaults to the system interface, TTL 1, loopback and a 4 MiB receive buffer', () => {
      expect(new UdpNetwork().options).toEqual({
        interface: '0.0.0.0',
        ttl: 1,
        loopback: true,
        recvBufferBytes: 4 * 1024 * 1024,
        sendBufferBytes: undefined,
      })
    })

    it.each([
      [{ interface: 'eth0' }, 'options.interface'],
      [{ interface: '239.1.2.3' }, 'options.interface'],
      [{ interface: '' }, 'options.interface'],
      [{ ttl: 256 }, 'options.ttl'],
      [{ ttl: -1 }, 'options.ttl'],
      [{ ttl: 1.5 }, 'options.ttl'],
      [{ loopback: 'yes' as unknown as boolean }, 'options.loopback'],
      [{ recvBufferBytes: 0 }, 'options.recvBufferBytes'],
      [{ sendBufferBytes: 2 ** 31 }, 'options.sendBufferBytes'],
    ] as Array<[UdpNetworkOptions, string]>)(
      'rejects %o with ERR_INVALID_OPTION naming %s',
      (options, name) => {
        expect(() => new UdpNetwork(options)).toThrow(
          expect.objectContaining({ code: 'ERR_INVALID_OPTION', message: expect.stringContaining(name) }),
        )
      },
    )
  })
})
