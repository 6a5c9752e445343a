import { createSocket } from 'node:dgram'
import { once } from 'node:events'
import { performance } from 'node:perf_hooks'
import { afterEach, describe, expect, it } from 'vitest'
import { krpcSocketOf } from '../../../runtime/grape/dht-internals.js'
import type { KrpcTimeoutState } from '../../../runtime/grape/krpc-timeouts.js'
import { DhtTestNetwork } from '../../helpers/dht-nodes.js'

const testNetwork = new DhtTestNetwork()
afterEach(() => testNetwork.destroy())

const stateOf = (entry: { node: { dht: Parameters<typeof krpcSocketOf>[0] } }) =>
  krpcSocketOf(entry.node.dht) as unknown as KrpcTimeoutState

/** A UDP socket on 127.0.0.1 that reads every query and never answers. */
async function blackHole() {
  const socket = createSocket('udp4')
  socket.on('message', () => undefined)
  socket.bind(0, '127.0.0.1')
  await once(socket, 'listening')
  return { port: socket.address().port, close: () => socket.close() }
}

describe('checkTimeoutsWhileBusy()', () => {
  it('runs no timer while no query is in flight, and one while a query is', async () => {
    const [first, second] = await testNetwork.network(2)
    const krpc = stateOf(second as NonNullable<typeof second>)
    // The joining queries are answered; the check stops at its next run.
    await expect.poll(() => krpc._timer, { timeout: 2000, interval: 50 }).toBeUndefined()
    expect(krpc.inflight).toBe(0)

    const done = (second as NonNullable<typeof second>).node.refresh(Buffer.alloc(20, 7).toString('hex'))
    expect(krpc.inflight).toBeGreaterThan(0)
    expect(krpc._timer).toBeDefined()
    await done
    await expect.poll(() => krpc._timer, { timeout: 2000, interval: 50 }).toBeUndefined()
    expect(first).toBeDefined()
  })

  it('still fails a query nobody answers with ETIMEDOUT after 2 to 2.6 s', async () => {
    const hole = await blackHole()
    try {
      const [node] = await testNetwork.network(1)
      const krpc = stateOf(node as NonNullable<typeof node>)
      const begin = performance.now()
      const err = await new Promise<Error & { code?: unknown }>((resolve) =>
        krpc.query(
          { host: '127.0.0.1', port: hole.port },
          { q: 'ping', a: { id: Buffer.alloc(20, 1) } },
          (failure: Error) => resolve(failure),
        ),
      )
      const elapsed = performance.now() - begin
      expect(err).toMatchObject({ code: 'ETIMEDOUT', message: 'Query timed out' })
      expect(elapsed).toBeGreaterThanOrEqual(1900)
      expect(elapsed).toBeLessThan(2700)
      await expect.poll(() => krpc._timer, { timeout: 2000, interval: 50 }).toBeUndefined()
    } finally {
      hole.close()
    }
  })

  it('leaves no timer behind when the node is destroyed with a query in flight', async () => {
    const hole = await blackHole()
    try {
      const entry = await testNetwork.startNode([])
      const krpc = stateOf(entry)
      const failed = new Promise<Error>((resolve) =>
        krpc.query(
          { host: '127.0.0.1', port: hole.port },
          { q: 'ping', a: { id: Buffer.alloc(20, 1) } },
          resolve,
        ),
      )
      const timer = krpc._timer as NodeJS.Timeout & { _destroyed?: boolean }
      expect(timer).toBeDefined()
      await testNetwork.destroy()
      expect((await failed).message).toBe('Query was cancelled')
      expect(timer._destroyed).toBe(true)
    } finally {
      hole.close()
    }
  })
})
