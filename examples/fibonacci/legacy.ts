/**
 * The tutorial's service under its legacy key, `fibonacci_worker`, on one Grape network shared by
 * generated peers and reference peers (grenache-nodejs-ws 0.7 and grenache-nodejs-link 1.0, what the
 * tutorial installs). schemas/fibonacci-legacy.schema.ts pins the key, and `npm run generate` turns
 * it into generated/fibonacci-legacy.gen.ts: `serveFibonacciLegacy` and `FibonacciLegacyClient`.
 *
 * This example needs the devDependencies grenache-nodejs-ws and grenache-nodejs-link (`npm ci`
 * installs them).
 *
 *   npx tsx examples/fibonacci/legacy.ts
 *
 * What travels. A WebSocket frame is `[rid, key, payload]`. The tutorial's client.js sends the bare
 * object `{ number: 10 }` and its server.js answers `fibonacci(payload.number)`; the schema says
 * `wire: 'bare'`, so generated peers send and read exactly that (the default, for services of our
 * own, is the svc-js envelope `{ action, args: [input] }`). The two worlds talk unchanged.
 *
 * Also: the tutorial's fibonacci() starts with fib(0) = fib(1) = 1, so its "10th number" is 89.
 * The schema says fib(0) = 0 and fib(10) = 55, and both workers here compute that: workers that
 * share a key must agree on what it means.
 *
 * Everything listens on 127.0.0.1 and is stopped at the end.
 */
import { once } from 'node:events'
import { createRequire } from 'node:module'
import type { AddressInfo } from 'node:net'
import { FibonacciLegacyClient, serveFibonacciLegacy } from '../../generated/index.js'
import { Grape, Link } from '../../runtime/index.js'

/** fib(0) = 0, fib(1) = 1, fib(10) = 55. */
function fibonacci(n: number): number {
  let [a, b] = [0, 1]
  for (let i = 0; i < n; i++) [a, b] = [b, a + b]
  return a
}

// The reference packages are CommonJS without types: what this example uses of them.
type Callback = (err: Error | null, result?: unknown) => void
interface ReferenceLink {
  start(): ReferenceLink
  stop(): void
  announce(name: string, port: number, options: object, cb: Callback): void
}
interface ReferenceRpcClient {
  init(): void
  stop(): void
  request(key: string, payload: unknown, options: { timeout: number }, cb: Callback): void
}
interface ReferenceRpcServer {
  init(): void
  stop(): void
  transport(kind: 'server'): ReferenceServerTransport
}
interface ReferenceServerTransport {
  socket: { address(): AddressInfo } & NodeJS.EventEmitter
  getSocket(options: { port: number }): unknown
  listen(port: number): ReferenceServerTransport
  on(
    event: 'request',
    listener: (rid: string, key: string, payload: unknown, handler: { reply: Callback }) => void,
  ): void
  stop(): void
}

const require = createRequire(import.meta.url)
const ReferenceLink = require('grenache-nodejs-link') as new (conf: object) => ReferenceLink
const { PeerRPCClient, PeerRPCServer } = require('grenache-nodejs-ws') as {
  PeerRPCClient: new (link: ReferenceLink, conf: object) => ReferenceRpcClient
  PeerRPCServer: new (link: ReferenceLink, conf: object) => ReferenceRpcServer
}
// grenache-nodejs-ws listens on every interface and has no option to change it: its transport is
// given a server of its own ws (7.x) bound to 127.0.0.1 instead.
const Ws7 = createRequire(require.resolve('grenache-nodejs-ws'))('ws') as {
  Server: new (options: object) => unknown
}

/** A reference callback call as a promise. */
function call(start: (cb: Callback) => void): Promise<unknown> {
  return new Promise((resolve, reject) => start((err, result) => (err ? reject(err) : resolve(result))))
}

export async function main(print: (line: string) => void = console.log): Promise<void> {
  // Two Grapes on loopback, B bootstrapped from A. Workers announce through A, clients look up through B.
  const grapeA = new Grape({ apiPort: 0, dhtPort: 0, dhtHost: '127.0.0.1' })
  const a = await grapeA.start()
  const grapeB = new Grape({
    apiPort: 0,
    dhtPort: 0,
    dhtHost: '127.0.0.1',
    bootstrap: [`127.0.0.1:${a.dhtPort}`],
  })
  const b = await grapeB.start()
  const ourWorkerLink = new Link({ grape: a.url })
  const ourClientLink = new Link({ grape: b.url })
  const theirWorkerLink = new ReferenceLink({ grape: a.url }).start()
  const theirClientLink = new ReferenceLink({ grape: b.url, requestTimeout: 10_000 }).start()
  const stops: Array<() => unknown> = []

  try {
    // 1. Our generated worker, announced as `fibonacci_worker` on WebSocket, as the tutorial's was.
    const ourWorker = serveFibonacciLegacy(
      { fib: ({ number }) => fibonacci(number) },
      { link: ourWorkerLink, listen: [{ transport: 'ws' }] },
    )
    stops.push(() => ourWorker.close())
    const [ours] = await ourWorker.start()
    const workerAt = new Map([[`127.0.0.1:${ours?.port}`, 'our generated worker']])
    print(`our generated worker announced fibonacci_worker on ws :${ours?.port}`)

    // 2. The tutorial's client, a reference PeerRPCClient, calls it through Grape B.
    const theirClient = new PeerRPCClient(theirClientLink, {})
    theirClient.init()
    stops.push(() => theirClient.stop())
    const value = await call((cb) =>
      theirClient.request('fibonacci_worker', { number: 10 }, { timeout: 10_000 }, cb),
    )
    print(`reference client -> our generated worker, the tutorial's {"number":10}: ${value}`)
    const refused = await call((cb) =>
      theirClient.request('fibonacci_worker', { number: -1 }, { timeout: 10_000 }, cb),
    ).then(
      (result) => `answered ${result}`,
      (err: Error) => `refused, ${err.message}`,
    )
    print(`reference client -> our generated worker, {"number":-1}: ${refused}`)

    // 3. The tutorial's worker, a reference PeerRPCServer answering fibonacci(payload.number),
    //    announced through the reference Link on Grape A under the same key.
    const theirWorker = new PeerRPCServer(theirWorkerLink, {})
    theirWorker.init()
    const service = theirWorker.transport('server')
    service.getSocket = (options) => new Ws7.Server({ ...options, host: '127.0.0.1' })
    service.listen(0)
    stops.push(
      () => theirWorker.stop(),
      () => service.stop(),
    )
    await once(service.socket, 'listening')
    const theirPort = service.socket.address().port
    service.on('request', (_rid, _key, payload, handler) => {
      handler.reply(null, fibonacci((payload as { number: number }).number))
    })
    await call((cb) => theirWorkerLink.announce('fibonacci_worker', theirPort, {}, cb))
    workerAt.set(`127.0.0.1:${theirPort}`, 'the reference worker')
    print(`a reference worker announced fibonacci_worker on ws :${theirPort}`)

    // 4. Our generated client finds both workers through Grape B (the legacy key is looked up as it
    //    is) and calls them all: the reference worker and ours answer alike.
    const ourClient = new FibonacciLegacyClient({ link: ourClientLink, transport: 'ws' })
    stops.push(() => ourClient.close())
    const results = await ourClient.map.fib({ number: 10 })
    const answers = results
      .map((r) => `${workerAt.get(r.worker) ?? r.worker}: ${r.ok ? r.value : r.error.message}`)
      .sort()
    print(
      `our generated client, map.fib({ number: 10 }) reached ${results.length} workers: ${answers.join(', ')}`,
    )
  } finally {
    for (const stop of stops.reverse()) await stop()
    theirClientLink.stop()
    theirWorkerLink.stop()
    await Promise.all([ourWorkerLink.close(), ourClientLink.close()])
    await Promise.all([grapeA.close(), grapeB.close()])
  }
}

if (process.argv[1] === import.meta.filename) await main()
