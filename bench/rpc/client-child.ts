/**
 * The load generator of the RPC suite, in its own process: one client of one stack, connected to
 * the workers the orchestrator started, driven figure by figure (`load`). Spawned by
 * bench/rpc/suite.ts. Client CPU comes from `process.cpuUsage()`, the workers' from
 * /proc/<pid>/task/<tid>/schedstat (thread-cpu.ts), both over the measured window only.
 */
import { performance } from 'node:perf_hooks'
import { startChildRuntime } from '../lib/child-runtime.js'
import { monotonicUs } from '../lib/closed-loop.js'
import { percentile } from '../lib/stats.js'
import { countLoop } from './count-loop.js'
import { checkerOf, payloadOf } from './payloads.js'
import type { ConnectParams, ConnectResult, LoadParams, LoadResult, OursFrom, Target } from './protocol.js'
import { type BenchClient, UnavailableError } from './stacks/types.js'
import { cpuBetween, snapshotCpu } from './thread-cpu.js'

let client: BenchClient | undefined

async function create(target: Target, addresses: string[], oursFrom: OursFrom): Promise<BenchClient> {
  const { stack, proto } = target
  if (stack === 'ours') return (await import('./stacks/ours.js')).createOursClient(proto, addresses, oursFrom)
  if (stack === 'ref') return (await import('./stacks/reference.js')).createReferenceClient(proto, addresses)
  return (await import('./stacks/raw.js')).createRawClient(proto, addresses)
}

async function connect(params: ConnectParams): Promise<ConnectResult> {
  if (client) throw new Error('already connected')
  try {
    client = await create(params.target, params.addresses, params.oursFrom)
  } catch (err) {
    if (err instanceof UnavailableError) return { available: false, reason: err.message }
    throw err
  }
  // The first call: cold (connection setup, lazy init, JIT); it must already be right.
  const check = checkerOf('small')
  const begin = performance.now()
  const answer = params.map
    ? await client.map(payloadOf('small'))
    : [await client.request(payloadOf('small'))]
  const firstCallMs = performance.now() - begin
  if (!answer.every(check)) throw new Error(`wrong first answer: ${JSON.stringify(answer).slice(0, 200)}`)
  return { available: true, firstCallMs }
}

async function load(params: LoadParams): Promise<LoadResult> {
  const bench = client
  if (!bench) throw new Error('not connected')
  const payload = payloadOf(params.payload)
  const check = checkerOf(params.payload)
  const call =
    params.mode === 'map'
      ? async () => (await bench.map(payload)).every(check)
      : async () => check(await bench.request(payload))

  const warmup = await countLoop(params.concurrency, params.warmupCalls, params.warmupCapMs, call)

  const serverBefore = snapshotCpu(params.serverPids)
  const clientBefore = process.cpuUsage()
  const startUs = monotonicUs()
  const loop = await countLoop(params.concurrency, params.calls, params.capMs, call)
  const endUs = monotonicUs()
  const clientUsage = process.cpuUsage(clientBefore)
  const serverAfter = snapshotCpu(params.serverPids)

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
    clientCpuMs,
    serverCpuMs,
    clientUsPerCall: (clientCpuMs * 1000) / calls,
    serverUsPerCall: (serverCpuMs * 1000) / calls,
    window: { startUs, endUs },
  }
}

const runtime = startChildRuntime({
  methods: { connect, load },
  onStop: async () => {
    await client?.close()
  },
})
runtime.ready({ pid: process.pid })
