/**
 * Uses every ZeroMQ class, closes them all, and then must exit by itself: a zeromq socket left
 * open (or a receive loop still waiting) would keep this process alive, and Node does not list
 * zeromq sockets in `process.getActiveResourcesInfo()`, so exiting is the check.
 *   node --import tsx test/runtime/transport/zmq/lifecycle-child.ts
 * Prints `closed` once everything is closed.
 */
import { createServer } from 'node:net'
import {
  ZmqClientTransport,
  ZmqPublisher,
  ZmqServerTransport,
  ZmqSubscriber,
} from '../../../../runtime/transport/zmq/index.js'

const server = new ZmqServerTransport({ port: 0, drainTimeoutMs: 100 })
const port = await server.listen((request, reply) => {
  if (request.key === 'echo') reply(null, request.payload)
})
const client = new ZmqClientTransport({ closeTimeoutMs: 100 })
await client.request(`127.0.0.1:${port}`, 'echo', 1, { timeoutMs: 5000 })
// A request in flight at close, and a connection that was refused.
const hanging = client.request(`127.0.0.1:${port}`, 'hang', 1, { timeoutMs: 5000 }).catch(() => undefined)
const spare = createServer().listen(0, '127.0.0.1')
await new Promise((resolve) => spare.once('listening', resolve))
const freePort = (spare.address() as { port: number }).port
await new Promise((resolve) => spare.close(resolve))
await client.request(`127.0.0.1:${freePort}`, 'echo', 1, { timeoutMs: 5000 }).catch(() => undefined)

const pub = new ZmqPublisher({ port: 0 })
const pubPort = await pub.listen()
const sub = new ZmqSubscriber()
sub.subscribe('')
sub.connect(`127.0.0.1:${pubPort}`)
const reading = (async () => {
  for await (const _ of sub) break
})()
while (!(await Promise.race([reading.then(() => true), new Promise((r) => setTimeout(r, 10, false))]))) {
  pub.publish('t', 'm')
}

await client.close()
await hanging
await server.close()
await sub.close()
await pub.close()
process.stdout.write('closed\n')
