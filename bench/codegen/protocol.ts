/** The codegen suite's variants, settings and the messages between its orchestrator and children. */

/**
 * `typed`: FibonacciClient → serveFibonacci (outputs checked, the default); `unchecked`: the same
 * with `validateOutput: false`, to measure output validation; `plain`: RpcClient.request →
 * RpcServer.handle, same envelope.
 */
export type Variant = 'typed' | 'unchecked' | 'plain'

export const VARIANTS: readonly Variant[] = ['typed', 'unchecked', 'plain']

/** Where our runtime is loaded from: `dist/runtime` (tsc build) or `runtime/*.ts` through tsx. */
export type CodeFrom = 'dist' | 'source'

/** The service key and method of the workload (generated/fibonacci.gen.ts: `fibonacci@1`, `fib`). */
export const SERVICE_KEY = 'fibonacci@1'
export const METHOD = 'fib'

/** The input of every call, and the answer expected: `{ n: 20 }` → fib(20) = 6765. */
export const INPUT = { n: 20 } as const
export const EXPECTED = 6765

/** The work both workers do: iterative Fibonacci. */
export function fibOf(n: number): number {
  let a = 0
  let b = 1
  for (let i = 0; i < n; i++) {
    const next = a + b
    a = b
    b = next
  }
  return a
}

/** One figure: `concurrency` calls in flight, `warmupCalls` untimed, then `calls` timed. */
export interface FigureSettings {
  concurrency: number
  warmupCalls: number
  calls: number
}

export interface TypedSettings {
  /**
   * The figures. The counts give each timed window about a second at this machine's rates, long
   * enough for a 10% target (20 000 calls at c=128 would last about 0.1 s).
   */
  figures: FigureSettings[]
  /** A figure stops early after this long (and is marked capped). */
  capMs: number
  warmupCapMs: number
  /** safeParse calls of the input schema timed in the typed worker (validation alone). */
  parseIterations: number
}

export interface GeneratorSettings {
  /** Generated services of the big project. */
  services: number
  /** Timed runs of each scenario (the median is reported). */
  runs: number
  /** A run of the CLI is killed after this long. */
  runTimeoutMs: number
}

export interface Settings {
  typed: TypedSettings
  generator: GeneratorSettings
}

export function settingsFor(quick: boolean): Settings {
  return {
    typed: {
      figures: quick
        ? [
            { concurrency: 1, warmupCalls: 200, calls: 2000 },
            { concurrency: 16, warmupCalls: 1000, calls: 5000 },
            { concurrency: 128, warmupCalls: 2000, calls: 10_000 },
          ]
        : [
            { concurrency: 1, warmupCalls: 2000, calls: 20_000 },
            { concurrency: 16, warmupCalls: 10_000, calls: 100_000 },
            { concurrency: 128, warmupCalls: 20_000, calls: 200_000 },
          ],
      capMs: quick ? 5000 : 30_000,
      warmupCapMs: quick ? 5000 : 15_000,
      parseIterations: quick ? 50_000 : 500_000,
    },
    generator: { services: 50, runs: quick ? 3 : 7, runTimeoutMs: 60_000 },
  }
}

/** Argument of `server-child.ts`. */
export interface ServerChildConfig {
  variant: Variant
  port: number
  from: CodeFrom
}

export interface ServerReady {
  host: string
  port: number
}

/** `connect` on the client child. */
export interface ConnectParams {
  variant: Variant
  /** `ip:port` of the worker. */
  address: string
  from: CodeFrom
}

export interface ConnectResult {
  firstCallMs: number
}

/** `load` on the client child: one figure. */
export interface LoadParams {
  concurrency: number
  warmupCalls: number
  calls: number
  capMs: number
  warmupCapMs: number
  /** The worker process, whose CPU is measured over the window. */
  serverPid: number
}

export interface LoadResult {
  ok: number
  errors: number
  wrong: number
  firstError: string | undefined
  warmupErrors: number
  elapsedMs: number
  capped: boolean
  perSecond: number
  p50Ms: number
  p99Ms: number
  clientUsPerCall: number
  serverUsPerCall: number
}

/** `validationCost` on the typed worker: the input schema's `safeParse` alone. */
export interface ValidationCost {
  iterations: number
  /** CPU µs per safeParse (process.cpuUsage over the loop). */
  cpuUsPerParse: number
  /** CPU µs per safeParse of the output schema (`fib(20)`, a number). */
  cpuUsPerOutputParse: number
  wallUsPerParse: number
}
