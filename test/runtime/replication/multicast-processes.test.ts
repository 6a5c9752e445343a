/**
 * Real UDP multicast on loopback (interface 127.0.0.1), with the publisher and two replicas in
 * separate processes that find each other through two Grapes.
 */
import { type ChildProcess, spawn } from 'node:child_process'
import { once } from 'node:events'
import { fileURLToPath } from 'node:url'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { OrderBookCodec } from '../../../generated/index.js'
import { WsFeedClient } from '../../../runtime/replication/ws-feed-client.js'
import { until } from '../../helpers/replication.js'
import { createTestnet, type Testnet } from '../../helpers/testnet.js'

const script = fileURLToPath(new URL('../../fixtures/replication/feed-process.ts', import.meta.url))

interface Feed {
  child: ChildProcess
  /** The next JSON line the process prints. */
  next(): Promise<Record<string, unknown>>
  send(line: string): void
}

const children: ChildProcess[] = []

function start(args: string[]): Feed {
  const child = spawn(process.execPath, ['--import', 'tsx', script, ...args], {
    stdio: ['pipe', 'pipe', 'inherit'],
  })
  children.push(child)
  const queue: Array<Record<string, unknown>> = []
  const waiting: Array<(value: Record<string, unknown>) => void> = []
  let buffer = ''
  child.stdout?.on('data', (chunk: Buffer) => {
    buffer += chunk
    let at = buffer.indexOf('\n')
    while (at >= 0) {
      const value = JSON.parse(buffer.slice(0, at)) as Record<string, unknown>
      buffer = buffer.slice(at + 1)
      const resolve = waiting.shift()
      if (resolve) resolve(value)
      else queue.push(value)
      at = buffer.indexOf('\n')
    }
  })
  return {
    child,
    next: () =>
      new Promise((resolve, reject) => {
        const value = queue.shift()
        if (value) return resolve(value)
        const timer = setTimeout(() => reject(new Error(`no answer from ${args[0]}`)), 30_000)
        waiting.push((v) => {
          clearTimeout(timer)
          resolve(v)
        })
      }),
    send: (line) => child.stdin?.write(`${line}\n`),
  }
}

describe('replication over UDP multicast between processes', () => {
  let net: Testnet
  const group = `239.255.${1 + Math.floor(Math.random() * 250)}.${1 + Math.floor(Math.random() * 250)}`

  beforeAll(async () => {
    net = await createTestnet(2)
  })

  afterAll(async () => {
    for (const child of children) {
      if (child.exitCode === null && child.signalCode === null) {
        const exited = once(child, 'exit')
        child.kill('SIGKILL')
        await exited
      }
    }
    await net?.close()
  })

  it('two replicas, found through the other Grape, join mid-stream and end with the publisher’s digest; a repeater carries it to a WebSocket consumer', async () => {
    const publisher = start(['publisher', net.urls[0] as string, group, '21'])
    expect(await publisher.next()).toMatchObject({ ready: true })
    publisher.send('publish 20000')
    const first = await publisher.next()
    const replicas = [start(['replica', net.urls[1] as string]), start(['replica', net.urls[1] as string])]
    for (const replica of replicas) expect(await replica.next()).toMatchObject({ synced: true })
    publisher.send('publish 30000')
    const last = await publisher.next()
    expect(last.seq).toBe((first.seq as number) + 30_000)
    for (const replica of replicas) {
      replica.send(`wait ${last.seq}`)
      const state = await replica.next()
      expect(state).toMatchObject({ seq: last.seq, digest: last.digest, leaves: last.leaves })
    }
    // A repeater process carries the same feed to a WebSocket consumer (this process).
    const repeater = start(['repeater', net.urls[1] as string])
    const { url } = (await repeater.next()) as { url: string }
    const consumer = new WsFeedClient(OrderBookCodec, { url })
    await consumer.start({ timeoutMs: 20_000 })
    await consumer.synced({ timeoutMs: 20_000 })
    publisher.send('publish 5000')
    const final = await publisher.next()
    await until(() => consumer.seq === final.seq, `the WebSocket consumer to reach seq ${final.seq}`, 20_000)
    expect(consumer.stats.digest).toBe(final.digest)
    expect(consumer.size).toBe(final.leaves)
    await consumer.close()
    for (const feed of [...replicas, repeater, publisher]) {
      const exited = once(feed.child, 'exit')
      feed.send('exit')
      expect((await exited)[0]).toBe(0)
    }
  }, 90_000)
})
