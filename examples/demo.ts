/**
 * npm run demo: an embedded Grape network and what runs on it. Starts two Grapes; starts workers
 * on HTTP, WebSocket and ZeroMQ through one Grape and calls them through the other (request, then
 * map over two workers); stores an immutable and a signed mutable item and reads them back verified;
 * publishes to a subscriber; closes everything. Then runs the Fibonacci examples of
 * examples/fibonacci/ (each on a Grape network of its own) the order_book codec and replication examples, and exits 0.
 */
import {
  actionHandler,
  createSigner,
  Grape,
  GrenacheError,
  generateKeyPair,
  Link,
  PubServer,
  RpcClient,
  RpcServer,
  SubClient,
  type TransportKind,
} from '../runtime/index.js'
import { main as fibonacciLegacy } from './fibonacci/legacy.js'
import { main as fibonacciWorkerAndClient } from './fibonacci/worker-and-client.js'
import { main as orderBookCodec } from './order-book/codec.js'
import { main as orderBookFeed } from './order-book/publisher-and-subscriber.js'

const step = (text: string) => console.log(`- ${text}`)
const closers: Array<{ close(): Promise<void> }> = []

// Two Grapes on loopback, the second bootstrapped from the first. Port 0 picks free ports.
const grapeA = new Grape({ apiPort: 0, dhtPort: 0, dhtHost: '127.0.0.1' })
const a = await grapeA.start()
const grapeB = new Grape({
  apiPort: 0,
  dhtPort: 0,
  dhtHost: '127.0.0.1',
  bootstrap: [`127.0.0.1:${a.dhtPort}`],
})
const b = await grapeB.start()
step(`Grape A: API ${a.url}; Grape B: API ${b.url}, bootstrapped from A`)

const workerLink = new Link({ grape: a.url })
const clientLink = new Link({ grape: b.url })
try {
  // Workers announce through Grape A, on every transport; clients find them through Grape B.
  const transports: TransportKind[] = ['http', 'ws', 'zmq']
  for (const name of ['worker-1', 'worker-2']) {
    const server = new RpcServer({ link: workerLink, listen: transports.map((transport) => ({ transport })) })
    server.handle(
      'greeter@1',
      actionHandler({ greet: ([who], request) => `hello ${who}, from ${name} over ${request.transport}` }),
    )
    closers.push(server)
    const ports = await server.start()
    step(`${name} listens on ${ports.map((p) => `${p.transport} :${p.port}`).join(', ')}`)
  }

  for (const transport of transports) {
    const client = new RpcClient({ link: clientLink, transport })
    closers.push(client)
    const reply = await client.request('greeter@1', { action: 'greet', args: ['Ada'] })
    step(`request over ${transport}: "${reply}"`)
  }

  const ws = new RpcClient({ link: clientLink, transport: 'ws' })
  closers.push(ws)
  const all = await ws.map('greeter@1', { action: 'greet', args: ['everyone'] })
  step(
    `map over ws reached ${all.length} workers: ${all.map((r) => (r.ok ? `"${r.value}"` : r.error.code)).join(', ')}`,
  )
  const unknown = await ws
    .request('greeter@1', { action: 'shout', args: [] })
    .catch((err: GrenacheError) => err)
  if (unknown instanceof GrenacheError)
    step(`an unknown action is refused: ${unknown.code} (${unknown.remoteCode})`)

  const hash = await workerLink.put('Hello World!')
  const item = await clientLink.get(hash)
  step(`immutable item ${hash} read back through B: "${item?.v}"`)

  const signer = createSigner(generateKeyPair().secretKey)
  await workerLink.putMutable('21.5', { signer, salt: 'sensor:temperature', seq: 1 })
  const { hash: key } = await workerLink.putMutable('22.0', { signer, salt: 'sensor:temperature', seq: 2 })
  const reading = await clientLink.get(key, { salt: 'sensor:temperature' })
  step(`mutable item ${key} (seq ${reading?.seq}) read back and verified through B: "${reading?.v}"`)
  await workerLink.putMutable('19.0', { signer, salt: 'sensor:temperature', seq: 1 }).catch((err) => {
    step(`an older seq is refused: ${err.code}`)
  })

  const publisher = new PubServer({ link: workerLink, name: 'ticker', transport: 'ws' })
  closers.push(publisher)
  await publisher.start()
  const subscriber = new SubClient({ link: clientLink, name: 'ticker', transport: 'ws' })
  closers.push(subscriber)
  const received = new Promise<string>((resolve) =>
    subscriber.once('sub:message', (m) => resolve(String(m.data))),
  )
  await subscriber.start()
  while (publisher.subscribers === 0) await new Promise((resolve) => setTimeout(resolve, 10))
  publisher.publish('BTC/USD 97000')
  step(`subscriber got "${await received}" from the publisher it found through B`)
} finally {
  for (const closer of closers.reverse()) await closer.close()
  await Promise.all([workerLink.close(), clientLink.close()])
  await Promise.all([grapeA.close(), grapeB.close()])
}

// The Fibonacci examples, each with Grapes of its own; their lines are indented under a step.
const indented = (line: string) => console.log(`    ${line}`)
step('examples/fibonacci/worker-and-client.ts: typed workers and clients generated from a schema')
await fibonacciWorkerAndClient(indented)
step('examples/fibonacci/legacy.ts: the legacy key fibonacci_worker, with grenache-nodejs-ws peers')
await fibonacciLegacy(indented)
step('examples/order-book/codec.ts: the order_book state, its generated binary codecs')
await orderBookCodec(indented)
step('examples/order-book/publisher-and-subscriber.ts: the book replicated over multicast')
await orderBookFeed(indented)
console.log('demo: ok')
