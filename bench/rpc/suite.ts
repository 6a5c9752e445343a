import { mkdirSync } from 'node:fs'
import { join } from 'node:path'
import { type BenchChild, ROOT, spawnChild } from '../lib/children.js'
import { freeTcpPort } from '../lib/ports.js'
import { collectMainThreadProfile, cpuProfileArgs } from '../lib/profiles.js'
import type { Suite, SuiteContext } from '../lib/suite.js'
import {
  decideRpcOursFrom,
  figureKey,
  type RpcRound,
  type Session,
  type Settings,
  settingsFor,
} from './model.js'
import {
  type ConnectResult,
  type LoadParams,
  type LoadResult,
  MAP_TARGETS,
  type OursFrom,
  type PayloadKind,
  REQUEST_TARGETS,
  type ServerChildConfig,
  type ServerReady,
  type Target,
  targetId,
} from './protocol.js'
import { buildReport } from './report.js'

const FIGURE_SLACK_MS = 60_000
const START_MS = 30_000

function figureBudgetMs(s: Settings): number {
  return s.warmupCapMs + s.capMs + FIGURE_SLACK_MS
}

function requestSessionBudgetMs(s: Settings): number {
  return s.payloads.length * s.concurrencies.length * figureBudgetMs(s) + 2 * START_MS
}

function mapSessionBudgetMs(s: Settings): number {
  return s.mapConcurrencies.length * figureBudgetMs(s) + 2 * START_MS
}

/** The targets in the order of round `round`: rotated, so no target always runs first or last. */
function rotate<T>(list: readonly T[], round: number, step: number): T[] {
  const offset = ((round - 1) * step) % list.length
  return [...list.slice(offset), ...list.slice(0, offset)]
}

interface SessionOptions {
  context: SuiteContext
  settings: Settings
  round: number
  target: Target
  mode: 'request' | 'map'
  oursFrom: OursFrom
}

async function runSession(options: SessionOptions): Promise<Session> {
  const { context, settings: s, round, target, mode, oursFrom } = options
  const id = targetId(target)
  const session: Session = { target: id, round, figures: {} }
  const lifetimeMs = (mode === 'map' ? mapSessionBudgetMs(s) : requestSessionBudgetMs(s)) + 30_000
  const profileDir = context.profile && mode === 'request' ? join(context.resultsDir, 'profiles') : undefined
  if (profileDir) mkdirSync(profileDir, { recursive: true })
  const profileOf = (role: string) =>
    profileDir ? join(profileDir, `rpc-${id}-${role}-r${round}.cpuprofile`) : undefined

  const workerCount = mode === 'map' ? s.workers : 1
  const ports: number[] = []
  while (ports.length < workerCount) {
    const port = await freeTcpPort()
    if (!ports.includes(port)) ports.push(port)
  }
  const servers: BenchChild[] = ports.map((port, i) =>
    spawnChild({
      name: `${id}-${mode === 'map' ? `worker${i + 1}` : 'server'}`,
      script: 'bench/rpc/server-child.ts',
      args: [JSON.stringify({ target, port, oursFrom } satisfies ServerChildConfig)],
      nodeArgs: cpuProfileArgs(profileOf('server'), s.profileIntervalUs),
      lifetimeMs,
      verbose: context.verbose,
    }),
  )
  const client = spawnChild({
    name: `${id}-client`,
    script: 'bench/rpc/client-child.ts',
    nodeArgs: cpuProfileArgs(profileOf('client'), s.profileIntervalUs),
    lifetimeMs,
    verbose: context.verbose,
  })
  const label = `round ${round}, ${id}${mode === 'map' ? ` map over ${workerCount}` : ''}`
  try {
    const [ready] = await Promise.all([
      Promise.all(servers.map((server) => server.ready<ServerReady>(START_MS))),
      client.ready(START_MS),
    ])
    const missing = ready.find((entry) => !entry.available)
    if (missing && !missing.available) {
      session.unavailable = missing.reason
      context.log(`${label}: n/a (${missing.reason})`)
      return session
    }
    const addresses = ready.map((entry) => (entry.available ? `${entry.host}:${entry.port}` : ''))
    const connected = await client.call<ConnectResult>(
      'connect',
      { target, addresses, map: mode === 'map', oursFrom },
      START_MS,
    )
    if (!connected.available) {
      session.unavailable = connected.reason
      context.log(`${label}: n/a (${connected.reason})`)
      return session
    }
    session.firstCallMs = connected.firstCallMs

    const serverPids = servers.map((server) => server.pid)
    const figures: [PayloadKind, number][] =
      mode === 'map'
        ? s.mapConcurrencies.map((c) => ['small', c])
        : s.payloads.flatMap((payload) => s.concurrencies.map((c): [PayloadKind, number] => [payload, c]))
    for (const [payload, concurrency] of figures) {
      const key = mode === 'map' ? figureKey('map', concurrency) : figureKey(payload, concurrency)
      const params: LoadParams = {
        payload,
        mode,
        concurrency,
        warmupCalls: s.warmupCalls,
        calls: mode === 'map' ? s.mapCalls : profileDir && key === s.profileFigure ? s.profileCalls : s.calls,
        capMs: s.capMs,
        warmupCapMs: s.warmupCapMs,
        serverPids,
      }
      const result = await client.call<LoadResult>('load', params, figureBudgetMs(s))
      session.figures[key] = result
      const flags = `${result.errors + result.wrong > 0 ? ` ERRORS ${result.errors}+${result.wrong} (${result.firstError})` : ''}${result.capped ? ' (capped)' : ''}`
      context.log(
        `${label} ${key}: ${result.perSecond.toFixed(0)}/s, p50 ${result.p50Ms.toFixed(2)} ms, cpu ${result.clientUsPerCall.toFixed(0)}/${result.serverUsPerCall.toFixed(0)} µs${flags}`,
      )
    }
  } catch (err) {
    session.failed = (err as Error)?.message ?? String(err)
    context.log(`${label}: FAILED: ${session.failed}`)
  } finally {
    await Promise.all([client.stop(), ...servers.map((server) => server.stop())])
    const clientProfile = profileOf('client')
    const serverProfile = profileOf('server')
    if (clientProfile && serverProfile) {
      session.profiles = {
        client: collectMainThreadProfile(clientProfile, client.pid) ? clientProfile : undefined,
        server: collectMainThreadProfile(serverProfile, servers[0]?.pid ?? 0) ? serverProfile : undefined,
      }
    }
  }
  return session
}

/**
 * `BENCH_RPC_ONLY=ours-zmq,raw-zmq` restricts the suite to those targets (request and map), for a
 * quick look at one transport; the tables then show the others as n/a.
 */
function selected(targets: readonly Target[]): Target[] {
  const only = process.env.BENCH_RPC_ONLY?.split(',').map((id) => id.trim())
  return only ? targets.filter((target) => only.includes(targetId(target))) : [...targets]
}

export const rpcSuite: Suite = {
  name: 'rpc',
  description:
    'RPC: ours (runtime/peer over http/ws/zmq) vs grenache-nodejs-http/-ws vs raw undici/ws/zeromq; request and map',
  budgetMs: ({ quick, rounds }) => {
    const s = settingsFor(quick)
    return (
      rounds *
      (selected(REQUEST_TARGETS).length * requestSessionBudgetMs(s) +
        selected(MAP_TARGETS).length * mapSessionBudgetMs(s))
    )
  },

  async run(context) {
    const s = settingsFor(context.quick)
    const figures = s.payloads.flatMap((payload) => s.concurrencies.map((c) => figureKey(payload, c)))
    if (!figures.includes(s.profileFigure)) {
      throw new Error(`BENCH_RPC_PROFILE_FIGURE must be one of ${figures.join(', ')}`)
    }
    const ours = decideRpcOursFrom(ROOT)
    context.log(
      `ours runs from ${ours.from === 'dist' ? 'dist/runtime' : 'runtime/*.ts through tsx'} (${ours.why})`,
    )
    const rounds: RpcRound[] = []
    for (let round = 1; round <= context.rounds; round++) {
      const order = rotate(selected(REQUEST_TARGETS), round, 3)
      const mapOrder = rotate(selected(MAP_TARGETS), round, 1)
      const entry: RpcRound = {
        round,
        requests: {},
        maps: {},
        order: order.map(targetId),
        mapOrder: mapOrder.map(targetId),
      }
      for (const target of order) {
        entry.requests[targetId(target)] = await runSession({
          context,
          settings: s,
          round,
          target,
          mode: 'request',
          oursFrom: ours.from,
        })
      }
      for (const target of mapOrder) {
        entry.maps[targetId(target)] = await runSession({
          context,
          settings: s,
          round,
          target,
          mode: 'map',
          oursFrom: ours.from,
        })
      }
      rounds.push(entry)
    }
    return { text: buildReport(rounds, s, context, ours), raw: { settings: s, ours, rounds } }
  },
}
