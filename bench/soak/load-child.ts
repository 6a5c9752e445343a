/**
 * The soak suite's load generator, in its own process: long-lived RpcClients (one per transport)
 * calling the worker in closed loops, raw `/lookup` calls on Grape 2, and a churn of short-lived
 * clients (a new Link and RpcClient, one call, both closed). Spawned by bench/soak/suite.ts.
 */
import { setTimeout as sleep } from 'node:timers/promises'
import { Link } from '../../runtime/link/index.js'
import { RpcClient } from '../../runtime/peer/index.js'
import { GrapeApi } from '../grape/grape-api.js'
import { childConfig, startChildRuntime } from '../lib/child-runtime.js'
import {
  ECHO_KEY,
  type LoadConfig,
  type LoadParams,
  type LoadResult,
  type SoakTransport,
  TRANSPORTS,
} from './protocol.js'
import { closedLoops, Recorder } from './recorder.js'

const config = childConfig<LoadConfig>()
const link = new Link({ grape: config.grape })
const clients = new Map(
  TRANSPORTS.map((transport) => [transport, new RpcClient({ link, transport, timeoutMs: 10_000 })]),
)
const api = new GrapeApi(config.grape, 2)

/** One echo call; true when the payload came back. */
async function echo(client: RpcClient, n: number): Promise<boolean> {
  const result = (await client.request(ECHO_KEY, { n, pad: 'soak' })) as { n?: unknown } | null
  return result?.n === n
}

/** Short-lived clients, one after the other, one every `everyMs`, until `untilMs`. */
async function churn(everyMs: number, untilMs: number, recorder: Recorder): Promise<void> {
  for (let n = 0; performance.now() < untilMs; n++) {
    const begin = performance.now()
    const transport = TRANSPORTS[n % TRANSPORTS.length] as SoakTransport
    const shortLink = new Link({ grape: config.grape })
    const client = new RpcClient({ link: shortLink, transport, timeoutMs: 5000 })
    await recorder.time(() => echo(client, n))
    await client.close()
    await shortLink.close()
    await sleep(Math.max(0, everyMs - (performance.now() - begin)))
  }
}

const runtime = startChildRuntime({
  methods: {
    /** Resolves once every transport's worker was found and answered (bounded). */
    async prepare({ timeoutMs }: { timeoutMs: number }) {
      const deadline = Date.now() + timeoutMs
      for (const [transport, client] of clients) {
        for (;;) {
          const answered = await echo(client, -1).catch(() => false)
          if (answered) break
          if (Date.now() > deadline) throw new Error(`no ${transport} worker answered in ${timeoutMs} ms`)
          await sleep(100)
        }
      }
    },
    async run({ settings, workers }: LoadParams): Promise<LoadResult> {
      const begin = performance.now()
      const until = begin + settings.durationMs
      const rpc = new Map(TRANSPORTS.map((transport) => [transport, new Recorder()]))
      const lookups = new Recorder()
      const churned = new Recorder()
      let n = 0
      await Promise.all([
        ...TRANSPORTS.map((transport) =>
          closedLoops(settings.concurrency, until, rpc.get(transport) as Recorder, () =>
            echo(clients.get(transport) as RpcClient, n++),
          ),
        ),
        closedLoops(settings.lookupConcurrency, until, lookups, async (slot) => {
          const transport = TRANSPORTS[slot % TRANSPORTS.length] as SoakTransport
          return (await api.lookup(`${ECHO_KEY}/${transport}`)).includes(workers[transport])
        }),
        churn(settings.churnEveryMs, until, churned),
      ])
      return {
        elapsedMs: performance.now() - begin,
        rpc: Object.fromEntries([...rpc].map(([t, r]) => [t, r.figures()])) as LoadResult['rpc'],
        lookups: lookups.figures(),
        churn: churned.figures(),
      }
    },
  },
  onStop: async () => {
    await Promise.all([...clients.values()].map((client) => client.close()))
    await link.close()
    await api.close()
  },
})
runtime.ready({ pid: process.pid })
