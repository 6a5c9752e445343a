/**
 * The load generator of the typed-layer figures, in its own process: one client of one variant,
 * connected to one worker over WebSocket, driven figure by figure (`load`), closed loop by count
 * (bench/rpc/count-loop.ts). Client CPU from `process.cpuUsage()`, the worker's from
 * /proc/<pid>/task/<tid>/schedstat (bench/rpc/thread-cpu.ts), both over the measured window only.
 *
 * - typed: `new FibonacciClient({ link, transport: 'ws' })`, `client.fib({ n: 20 })`
 *   (ServiceClient.call: method lookup, `{ action, args: [input] }`, RpcClient.request);
 * - plain: `new RpcClient({ link, transport: 'ws' })`,
 *   `rpc.request('fibonacci@1', { action: 'fib', args: [{ n: 20 }] })`.
 * Both look the worker up through the same static discovery (`fibonacci@1/ws` → the worker), which
 * answers `peek()` at once like a Link's cache hit.
 */
import { performance } from 'node:perf_hooks'
import { startChildRuntime } from '../lib/child-runtime.js'
import { percentile } from '../lib/stats.js'
import { countLoop } from '../rpc/count-loop.js'
import { cpuBetween, snapshotCpu } from '../rpc/thread-cpu.js'
import {
  type ConnectParams,
  type ConnectResult,
  EXPECTED,
  INPUT,
  type LoadParams,
  type LoadResult,
  METHOD,
  SERVICE_KEY,
} from './protocol.js'
import { loadGenerated, loadRuntime, type RuntimeModule } from './runtime-loader.js'

type Discovery = import('../../runtime/index.js').Discovery

interface Client {
  call(): Promise<unknown>
  close(): Promise<void>
}

let client: Client | undefined

/** A Discovery that knows one name; `peek` answers at once, as a Link does from its cache. */
function staticDiscovery(runtime: RuntimeModule, name: string, address: string): Discovery {
  const addresses: readonly string[] = [address]
  const known = (asked: string) => {
    if (asked !== name) {
      throw new runtime.GrenacheError('ERR_LOOKUP_EMPTY', `static discovery does not know ${asked}`)
    }
    return addresses
  }
  return {
    lookup: async (asked) => known(asked),
    peek: (asked) => known(asked),
    startAnnouncing: async () => {},
    stopAnnouncing: () => false,
  }
}

async function create(params: ConnectParams): Promise<Client> {
  const runtime = await loadRuntime(params.from)
  const link = staticDiscovery(runtime, runtime.discoveryName(SERVICE_KEY, 'ws', 'tagged'), params.address)
  const options = { link, transport: 'ws' as const, timeoutMs: 10_000 }
  if (params.variant !== 'plain') {
    const { FibonacciClient } = await loadGenerated(params.from)
    const typed = new FibonacciClient(options)
    return { call: () => typed.fib(INPUT), close: () => typed.close() }
  }
  const rpc = new runtime.RpcClient(options)
  return {
    call: () => rpc.request(SERVICE_KEY, { action: METHOD, args: [INPUT] }),
    close: () => rpc.close(),
  }
}

async function connect(params: ConnectParams): Promise<ConnectResult> {
  if (client) throw new Error('already connected')
  client = await create(params)
  // The first call: cold (connection setup, lazy init, JIT); it must already be right.
  const begin = performance.now()
  const answer = await client.call()
  const firstCallMs = performance.now() - begin
  if (answer !== EXPECTED) throw new Error(`wrong first answer: ${JSON.stringify(answer)}`)
  return { firstCallMs }
}

async function load(params: LoadParams): Promise<LoadResult> {
  const bench = client
  if (!bench) throw new Error('not connected')
  const call = async () => (await bench.call()) === EXPECTED

  const warmup = await countLoop(params.concurrency, params.warmupCalls, params.warmupCapMs, call)

  const serverBefore = snapshotCpu([params.serverPid])
  const clientBefore = process.cpuUsage()
  const loop = await countLoop(params.concurrency, params.calls, params.capMs, call)
  const clientUsage = process.cpuUsage(clientBefore)
  const serverAfter = snapshotCpu([params.serverPid])

  const latencies = Array.from(loop.latenciesMs.subarray(0, loop.done))
  const clientCpuMs = (clientUsage.user + clientUsage.system) / 1000
  const serverCpuMs = cpuBetween(serverBefore, serverAfter).reduce((total, ms) => total + ms, 0)
  const calls = Math.max(1, loop.ok)
  return {
    ok: loop.ok,
    errors: loop.errors,
    wrong: loop.wrong,
    firstError: loop.firstError ?? warmup.firstError,
    warmupErrors: warmup.errors + warmup.wrong,
    elapsedMs: loop.elapsedMs,
    capped: loop.capped,
    perSecond: (loop.ok * 1000) / loop.elapsedMs,
    p50Ms: percentile(latencies, 0.5),
    p99Ms: percentile(latencies, 0.99),
    clientUsPerCall: (clientCpuMs * 1000) / calls,
    serverUsPerCall: (serverCpuMs * 1000) / calls,
  }
}

const runtime = startChildRuntime({
  methods: { connect, load },
  onStop: async () => {
    await client?.close()
  },
})
runtime.ready({ pid: process.pid })
