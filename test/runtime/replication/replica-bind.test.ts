import { afterEach, describe, expect, it } from 'vitest'
import type { DatagramEndpoint } from '../../../runtime/replication/endpoint.js'
import { InterfaceFollowingNetwork, replicaHost } from '../../../runtime/replication/replica-bind.js'

const open: DatagramEndpoint[] = []
afterEach(async () => {
  for (const endpoint of open.splice(0)) await endpoint.close()
})

describe('replicaHost()', () => {
  it('is the source address of the route to the publisher', async () => {
    expect(await replicaHost(['127.0.0.7:4000'])).toMatch(/^127\./)
  })

  it('is 127.0.0.1 for a publisher that is not at an IP address (a memory network)', async () => {
    expect(await replicaHost(['memory:4000'])).toBe('127.0.0.1')
    expect(await replicaHost([])).toBe('127.0.0.1')
  })
})

describe('InterfaceFollowingNetwork', () => {
  it('binds as a UDP network, with the multicast interface of its first specific bind', async () => {
    const network = new InterfaceFollowingNetwork({})
    const control = await network.bind({ host: '127.0.0.1', port: 0 })
    open.push(control)
    expect(control.address.host).toBe('127.0.0.1')
    const group = `239.255.${1 + Math.floor(Math.random() * 250)}.${1 + Math.floor(Math.random() * 250)}`
    const data = await network.bind({ host: group, port: 0, reuseAddr: true })
    open.push(data)
    // Joins on 127.0.0.1, the control socket's interface: a wrong one would be ERR_MULTICAST.
    expect(() => data.joinGroup(group)).not.toThrow()
  })

  it('refuses bad options at construction, as a UdpNetwork does', () => {
    expect(() => new InterfaceFollowingNetwork({ recvBufferBytes: -1 })).toThrow(/recvBufferBytes/)
  })
})
