/**
 * The Fibonacci service of the Grenache tutorial, typed. schemas/fibonacci.schema.ts declares it
 * with zod, and `npm run generate` turns it into generated/fibonacci.gen.ts: `serveFibonacci` runs
 * a worker, `FibonacciClient` calls workers, `isFibonacciError` recognises the errors it declares.
 *
 * Two Grapes run in this process, A and B. Two workers serve fibonacci v1 on HTTP, WebSocket and
 * ZeroMQ at once and announce it through Grape A. Over each transport, a client finds them through
 * Grape B and asks for the 10th Fibonacci number, for one the workers refuse (TOO_SLOW), with an
 * input the schema refuses (ERR_INVALID_INPUT), and then asks both workers at once (map).
 * Everything listens on 127.0.0.1, on ports the OS picks, and is closed at the end.
 *
 *   npx tsx examples/fibonacci/worker-and-client.ts
 */
import {
  FibonacciClient,
  FibonacciError,
  type FibonacciWorker,
  isFibonacciError,
  serveFibonacci,
} from '../../generated/index.js'
import { Grape, GrenacheError, Link, type TransportKind } from '../../runtime/index.js'

/** fib(0) = 0, fib(1) = 1, fib(10) = 55. */
function fibonacci(n: number): number {
  let [a, b] = [0, 1]
  for (let i = 0; i < n; i++) [a, b] = [b, a + b]
  return a
}

/** The largest n these workers compute. The schema allows up to 1476, the last one a double holds. */
const LIMIT = 1000

/**
 * The worker: one function per method of the schema. `n` arrives checked against the schema (an
 * integer from 0 to 1476); a declared error is thrown as a `FibonacciError` (only declared codes
 * compile) and reaches the client as `ERR_REMOTE` with `remoteCode: 'TOO_SLOW'`. Anything else it
 * throws reaches the client as `ERR_WORKER` with an error id, its message only in the worker's log.
 */
const worker: FibonacciWorker = {
  fib({ n }) {
    if (n > LIMIT) throw new FibonacciError('TOO_SLOW', `n = ${n} is above this worker's limit of ${LIMIT}`)
    return fibonacci(n)
  },
}

export async function main(print: (line: string) => void = console.log): Promise<void> {
  // Two Grapes on loopback, B bootstrapped from A. Port 0 picks a free port.
  const grapeA = new Grape({ apiPort: 0, dhtPort: 0, dhtHost: '127.0.0.1' })
  const a = await grapeA.start()
  const grapeB = new Grape({
    apiPort: 0,
    dhtPort: 0,
    dhtHost: '127.0.0.1',
    bootstrap: [`127.0.0.1:${a.dhtPort}`],
  })
  const b = await grapeB.start()
  const workerLink = new Link({ grape: a.url })
  const clientLink = new Link({ grape: b.url })
  const closers: Array<{ close(): Promise<void> }> = []

  try {
    // Two workers, each on every transport, announced through Grape A as `fibonacci@1/<transport>`.
    const transports: TransportKind[] = ['http', 'ws', 'zmq']
    const workerAt = new Map<string, string>() // 'ip:port' → worker name, to label map results
    for (const name of ['worker-1', 'worker-2']) {
      const server = serveFibonacci(worker, {
        link: workerLink,
        listen: transports.map((transport) => ({ transport })),
      })
      closers.push(server)
      const ports = await server.start() // listens, then announces
      for (const { port } of ports) workerAt.set(`127.0.0.1:${port}`, name)
      print(`${name} serves fibonacci v1 on ${ports.map((p) => `${p.transport} :${p.port}`).join(', ')}`)
    }

    for (const transport of transports) {
      // A client looks `fibonacci@1/<its transport>` up through Grape B and calls a worker directly.
      const client = new FibonacciClient({ link: clientLink, transport })
      closers.push(client)

      const value = await client.fib({ n: 10 }) // typed: { n: number } in, number out
      print(`${transport}: fib(10) = ${value}`)

      try {
        await client.fib({ n: 1200 })
      } catch (err) {
        if (!isFibonacciError(err, 'TOO_SLOW')) throw err
        print(`${transport}: fib(1200) refused: ${err.message}`)
      }

      // The worker checks every input with the schema and names every field that broke a rule.
      // (With `new FibonacciClient({ …, validateInput: true })` the client checks it before sending,
      // and the error is the same: ERR_INVALID_INPUT, the message, and `issues`.)
      try {
        await client.fib({ n: -1 })
      } catch (err) {
        if (!(err instanceof GrenacheError) || err.code !== 'ERR_INVALID_INPUT') throw err
        print(`${transport}: fib(-1) refused: ${err.code}: ${err.message}`)
      }

      // map calls every worker at once and returns one settled result per worker.
      const results = await client.map.fib({ n: 20 })
      const answers = results
        .map((r) => `${workerAt.get(r.worker)} = ${r.ok ? r.value : r.error.message}`)
        .sort()
      print(`${transport}: map.fib(20) reached ${results.length} workers: ${answers.join(', ')}`)
    }
  } finally {
    for (const closer of closers.reverse()) await closer.close()
    await Promise.all([workerLink.close(), clientLink.close()])
    await Promise.all([grapeA.close(), grapeB.close()])
  }
}

if (process.argv[1] === import.meta.filename) await main()
