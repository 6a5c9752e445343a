/**
 * The soak suite's replication processes. `publisher`: an OrderBookPublisher on a multicast group
 * of 127.0.0.1, announced through a Link to Grape 1, that publishes at a steady rate while `run`
 * lasts. `replica`: an OrderBookReplica found through Grape 2, losing 1% of what it receives (seeded),
 * plus a short-lived second replica that joins (from the carousel), syncs and closes every few
 * seconds. Spawned by bench/soak/suite.ts; config as one JSON argument.
 */
import { setTimeout as sleep } from 'node:timers/promises'
import { OrderBookPublisher, OrderBookReplica } from '../../generated/index.js'
import { Link } from '../../runtime/link/index.js'
import { lossyNetwork } from '../../runtime/replication/lossy-network.js'
import { UdpNetwork } from '../../runtime/replication/udp-endpoint.js'
import { childConfig, startChildRuntime } from '../lib/child-runtime.js'
import { orderStream } from '../replication/workload.js'
import type { FeedConfig, FeedPublished, FeedRunParams, FeedState } from './protocol.js'

const config = childConfig<FeedConfig>()
const link = new Link({ grape: config.grape })
const group = `239.255.${1 + (process.pid % 250)}.${1 + ((process.pid >> 8) % 250)}`

if (config.role === 'publisher') {
  const publisher = new OrderBookPublisher({
    link,
    transport: { kind: 'multicast', group, interface: '127.0.0.1' },
  })
  const stream = orderStream(200_000, 20_000, 11)
  let index = 0
  const runtime = startChildRuntime({
    methods: {
      /** Publishes `rate` deltas a second for `durationMs`, in turns of 1 ms. */
      async run({ rate, durationMs }: FeedRunParams): Promise<FeedPublished> {
        const start = performance.now()
        let sent = 0
        while (performance.now() - start < durationMs) {
          const due = Math.floor(((performance.now() - start) * rate) / 1000)
          for (; sent < due; sent++) publisher.apply(stream[index++ % stream.length] as never)
          await sleep(1)
        }
        return { deltas: sent, ...state() }
      },
      async state(): Promise<FeedState> {
        return state()
      },
    },
    onStop: async () => {
      await publisher.close()
      await link.close()
    },
  })
  const state = (): FeedState => ({
    seq: publisher.seq,
    digest: publisher.stats.digest,
    leaves: publisher.size,
    resyncs: 0,
    joins: 0,
    joinErrors: 0,
    firstJoinError: undefined,
  })
  await publisher.start()
  runtime.ready({})
} else {
  const network = lossyNetwork(new UdpNetwork({ interface: '127.0.0.1' }), (index) => ({
    on: 'receive',
    seed: 90 + index,
    drop: 0.01,
  }))
  const options = { link, transport: { kind: 'multicast' as const, interface: '127.0.0.1', network } }
  const replica = new OrderBookReplica(options)
  let joins = 0
  let joinErrors = 0
  let firstJoinError: string | undefined
  let churning = true
  // A replica that joins, syncs and leaves, again and again: join buffers, carousel parts and
  // sockets must all be given back.
  const churn = (async () => {
    while (churning) {
      await sleep(config.churnEveryMs)
      if (!churning) break
      const joiner = new OrderBookReplica({ ...options, join: 'carousel' })
      try {
        await joiner.start({ timeoutMs: 20_000 })
        await joiner.synced({ timeoutMs: 20_000 })
        joins++
      } catch (err) {
        joinErrors++
        firstJoinError ??= (err as Error).message
      } finally {
        await joiner.close()
      }
    }
  })()
  const runtime = startChildRuntime({
    methods: {
      async state(): Promise<FeedState> {
        return {
          seq: replica.seq,
          digest: replica.stats.digest,
          leaves: replica.size,
          resyncs: replica.stats.resyncs,
          joins,
          joinErrors,
          firstJoinError,
        }
      },
      async stopChurn(): Promise<void> {
        churning = false
        await churn
      },
    },
    onStop: async () => {
      churning = false
      await churn
      await replica.close()
      await link.close()
    },
  })
  await replica.start({ timeoutMs: 30_000 })
  await replica.synced({ timeoutMs: 30_000 })
  runtime.ready({})
}
