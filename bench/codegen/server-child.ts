/**
 * The worker of the typed-layer figures, in its own process, on 127.0.0.1, over WebSocket:
 * - typed: `serveFibonacci({ fib: ({ n }) => fibOf(n) }, …)` from generated/fibonacci.gen.ts
 *   (ServiceServer: envelope dispatch, zod `safeParse` of the input, the worker function);
 * - plain: `RpcServer.handle('fibonacci@1', …)` with a handler that reads the same `{ action, args }`
 *   envelope and does the same work, without validation.
 * Spawned by bench/codegen/suite.ts with a `ServerChildConfig` as its JSON argument.
 */
import { performance } from 'node:perf_hooks'
import { childConfig, startChildRuntime } from '../lib/child-runtime.js'
import {
  fibOf,
  INPUT,
  METHOD,
  SERVICE_KEY,
  type ServerChildConfig,
  type ServerReady,
  type ValidationCost,
} from './protocol.js'
import { loadGenerated, loadRuntime } from './runtime-loader.js'

const config = childConfig<ServerChildConfig>()
const listen = [{ transport: 'ws' as const, port: config.port, host: '127.0.0.1' }]

interface Worker {
  start(): Promise<Array<{ port: number }>>
  close(): Promise<void>
}

let server: Worker | undefined
let parseInput: ((value: unknown) => unknown) | undefined
let parseOutput: ((value: unknown) => unknown) | undefined

async function start(): Promise<Worker> {
  if (config.variant !== 'plain') {
    const generated = await loadGenerated(config.from)
    const validateOutput = config.variant === 'typed'
    const typed = generated.serveFibonacci({ fib: ({ n }) => fibOf(n) }, { listen, validateOutput })
    // The generated code must run on the runtime measured (dist/ or source), not on another copy.
    if (!(typed instanceof runtime.ServiceServer)) {
      throw new Error(`serveFibonacci did not return the ServiceServer of the ${config.from} runtime`)
    }
    const schema = generated.FibonacciService.methods.fib.input
    parseInput = (value) => schema.safeParse(value)
    const output = generated.FibonacciService.methods.fib.output
    parseOutput = (value) => output.safeParse(value)
    return typed
  }
  const plain = new runtime.RpcServer({ listen })
  plain.handle(SERVICE_KEY, (request, reply) => {
    const payload = request.payload as { action?: unknown; args?: unknown } | null
    if (payload?.action !== METHOD || !Array.isArray(payload.args)) {
      reply(`ERR_UNKNOWN_ACTION: ${String(payload?.action)}`)
      return
    }
    reply(null, fibOf((payload.args[0] as { n: number }).n))
  })
  return plain
}

/** The input schema's safeParse alone, in this process (after the load figures: JIT-warm). */
async function validationCost(params: { iterations: number }): Promise<ValidationCost> {
  const parse = parseInput
  if (!parse) throw new Error('validationCost: only the typed worker validates')
  const input = { ...INPUT }
  let sink = 0
  for (let i = 0; i < 10_000; i++) sink += parse(input) ? 1 : 0
  const cpuBefore = process.cpuUsage()
  const begin = performance.now()
  for (let i = 0; i < params.iterations; i++) sink += parse(input) ? 1 : 0
  const wallMs = performance.now() - begin
  const cpu = process.cpuUsage(cpuBefore)
  if (sink !== params.iterations + 10_000) throw new Error('safeParse returned nothing')
  const output = parseOutput as (value: unknown) => unknown
  const result = fibOf(INPUT.n)
  for (let i = 0; i < 10_000; i++) sink += output(result) ? 1 : 0
  const outBefore = process.cpuUsage()
  for (let i = 0; i < params.iterations; i++) sink += output(result) ? 1 : 0
  const outCpu = process.cpuUsage(outBefore)
  return {
    iterations: params.iterations,
    cpuUsPerParse: (cpu.user + cpu.system) / params.iterations,
    cpuUsPerOutputParse: (outCpu.user + outCpu.system) / params.iterations,
    wallUsPerParse: (wallMs * 1000) / params.iterations,
  }
}

const child = startChildRuntime({
  methods: { validationCost },
  onStop: async () => {
    await server?.close()
  },
})

const runtime = await loadRuntime(config.from)
server = await start()
const [bound] = await server.start()
if (!bound) throw new Error('the worker bound no port')
child.ready({ host: '127.0.0.1', port: bound.port } satisfies ServerReady)
