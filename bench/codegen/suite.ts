import { type BenchChild, spawnChild } from '../lib/children.js'
import { freeTcpPort } from '../lib/ports.js'
import type { Suite, SuiteContext } from '../lib/suite.js'
import { type BuildDecision, ensureBuilt } from './build.js'
import { type GeneratorResults, runGenerator } from './generator.js'
import { liveGroups } from './processes.js'
import {
  type CodeFrom,
  type ConnectResult,
  type LoadParams,
  type LoadResult,
  type ServerChildConfig,
  type ServerReady,
  type Settings,
  settingsFor,
  type TypedSettings,
  VARIANTS,
  type ValidationCost,
  type Variant,
} from './protocol.js'
import { buildReport } from './report.js'

const START_MS = 30_000
const FIGURE_SLACK_MS = 60_000
const BUILD_BUDGET_MS = 240_000

/** One variant in one round: a fresh worker process and a fresh client process. */
export interface TypedSession {
  variant: Variant
  round: number
  failed?: string
  firstCallMs?: number
  /** By concurrency (`c1`, `c16`, `c128`). */
  figures: Record<string, LoadResult>
  /** The typed worker's safeParse alone. */
  validation?: ValidationCost
}

export interface TypedRound {
  round: number
  order: Variant[]
  sessions: Partial<Record<Variant, TypedSession>>
}

function figureBudgetMs(s: TypedSettings): number {
  return s.warmupCapMs + s.capMs + FIGURE_SLACK_MS
}

function sessionBudgetMs(s: TypedSettings): number {
  return s.figures.length * figureBudgetMs(s) + 2 * START_MS
}

function generatorBudgetMs(settings: Settings): number {
  // Per run: 3 CLI runs, 2 phase probes, 2 small node runs; plus the warm-up and 2 profiled runs.
  return (settings.generator.runs * 7 + 3) * settings.generator.runTimeoutMs
}

async function runTypedSession(
  context: SuiteContext,
  s: TypedSettings,
  round: number,
  variant: Variant,
  from: CodeFrom,
): Promise<TypedSession> {
  const session: TypedSession = { variant, round, figures: {} }
  const lifetimeMs = sessionBudgetMs(s) + 30_000
  const port = await freeTcpPort()
  const children: BenchChild[] = []
  const label = `round ${round}, ${variant}`
  try {
    const server = spawnChild({
      name: `codegen-${variant}-worker`,
      script: 'bench/codegen/server-child.ts',
      args: [JSON.stringify({ variant, port, from } satisfies ServerChildConfig)],
      lifetimeMs,
      verbose: context.verbose,
    })
    children.push(server)
    const client = spawnChild({
      name: `codegen-${variant}-client`,
      script: 'bench/codegen/client-child.ts',
      lifetimeMs,
      verbose: context.verbose,
    })
    children.push(client)
    const [ready] = await Promise.all([server.ready<ServerReady>(START_MS), client.ready(START_MS)])
    if (ready.host !== '127.0.0.1') throw new Error(`the worker bound ${ready.host}, not 127.0.0.1`)
    const connected = await client.call<ConnectResult>(
      'connect',
      { variant, address: `${ready.host}:${ready.port}`, from },
      START_MS,
    )
    session.firstCallMs = connected.firstCallMs
    for (const { concurrency, warmupCalls, calls } of s.figures) {
      const params: LoadParams = {
        concurrency,
        warmupCalls,
        calls,
        capMs: s.capMs,
        warmupCapMs: s.warmupCapMs,
        serverPid: server.pid,
      }
      const result = await client.call<LoadResult>('load', params, figureBudgetMs(s))
      session.figures[`c${concurrency}`] = result
      const flags = `${result.errors + result.wrong > 0 ? ` ERRORS ${result.errors}+${result.wrong} (${result.firstError})` : ''}${result.capped ? ' (capped)' : ''}`
      context.log(
        `${label} c=${concurrency}: ${result.perSecond.toFixed(0)}/s, p50 ${result.p50Ms.toFixed(3)} ms, cpu ${result.clientUsPerCall.toFixed(1)}/${result.serverUsPerCall.toFixed(1)} µs${flags}`,
      )
    }
    if (variant === 'typed') {
      session.validation = await server.call<ValidationCost>(
        'validationCost',
        { iterations: s.parseIterations },
        START_MS * 2,
      )
      context.log(`${label}: safeParse alone ${session.validation.cpuUsPerParse.toFixed(3)} µs`)
    }
  } catch (err) {
    session.failed = (err as Error)?.message ?? String(err)
    context.log(`${label}: FAILED: ${session.failed}`)
  } finally {
    await Promise.all(children.map((child) => child.stop()))
  }
  return session
}

export const codegenSuite: Suite = {
  name: 'codegen',
  description:
    'codegen: typed layer (FibonacciClient/serveFibonacci) vs plain RpcClient/RpcServer over ws; grenache-gen timing',
  budgetMs: ({ quick, rounds }) => {
    const settings = settingsFor(quick)
    return (
      BUILD_BUDGET_MS +
      rounds * VARIANTS.length * sessionBudgetMs(settings.typed) +
      generatorBudgetMs(settings)
    )
  },

  async run(context) {
    const settings = settingsFor(context.quick)
    const build: BuildDecision = await ensureBuilt(context.log)
    context.log(
      `our code runs from ${build.from === 'dist' ? 'dist/ (tsc build)' : 'runtime/*.ts through tsx'} (${build.why})`,
    )
    const rounds: TypedRound[] = []
    for (let round = 1; round <= context.rounds; round++) {
      // Alternate which variant runs first.
      const order = round % 2 === 1 ? [...VARIANTS] : [...VARIANTS].reverse()
      const entry: TypedRound = { round, order, sessions: {} }
      for (const variant of order) {
        entry.sessions[variant] = await runTypedSession(context, settings.typed, round, variant, build.from)
      }
      rounds.push(entry)
    }
    const generator: GeneratorResults = await runGenerator(context, settings.generator, build.cliCurrent)
    const leftover = liveGroups()
    if (leftover.length > 0) throw new Error(`process groups still alive: ${leftover.join(', ')}`)
    return {
      text: buildReport({ rounds, generator, settings, build, context }),
      raw: { settings, build, rounds, generator },
    }
  },
}
