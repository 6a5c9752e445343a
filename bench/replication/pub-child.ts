/**
 * The sending process of the replication suite: one stack's sender (ours: an OrderBookPublisher),
 * driven by the orchestrator over IPC (`open`, `run`, `loadStart`/`loadStop`, `close`). Spawned by
 * bench/replication/suite.ts with a `ChildConfig`.
 */
import { childConfig, startChildRuntime } from '../lib/child-runtime.js'
import { type Cursor, type Drive, drive } from './drive.js'
import type { ChildConfig, DriveParams, DriveResult, OpenSender, SenderOpened } from './protocol.js'
import { JsonUdpSender } from './stacks/json-udp.js'
import { JsonWsSender } from './stacks/json-ws.js'
import { OursSender } from './stacks/ours.js'
import type { FeedSender } from './stacks/types.js'
import { orderStream, prefill, wallClockOffsetUs } from './workload.js'

const config = childConfig<ChildConfig>()
const s = config.settings
const stream = orderStream(s.streamDeltas, s.ids, s.seed)
const cursor: Cursor = { index: 0 }
let sender: FeedSender | undefined
let load: Drive | undefined

function current(): FeedSender {
  if (!sender) throw new Error('no sender open')
  return sender
}

async function open(params: OpenSender): Promise<SenderOpened> {
  if (sender) throw new Error('a sender is already open')
  const opened =
    config.stack === 'ours'
      ? await OursSender.open(params, s.snapshotBytesPerSecond)
      : config.stack === 'json-udp'
        ? await JsonUdpSender.open(params)
        : await JsonWsSender.open(params)
  sender = opened
  cursor.index = 0
  if (params.prefill > 0) {
    // In turns of 1000, so that the socket's send buffer drains between them.
    const deltas = prefill(params.prefill, s.seed)
    for (let i = 0; i < deltas.length; i += 1000) {
      for (const delta of deltas.slice(i, i + 1000)) opened.send(delta)
      await new Promise((resolve) => setImmediate(resolve))
    }
  }
  if (opened instanceof OursSender && params.prefill > 0) {
    return { address: opened.address, stateBytes: opened.stateBytes(), leaves: opened.publisher.size }
  }
  return { address: opened.address }
}

async function run(params: DriveParams): Promise<DriveResult> {
  return drive(current(), stream, cursor, params).done
}

async function loadStart(params: DriveParams): Promise<void> {
  if (load) throw new Error('a load is already running')
  load = drive(current(), stream, cursor, params)
}

async function loadStop(): Promise<DriveResult> {
  const running = load
  if (!running) throw new Error('no load running')
  load = undefined
  running.stop()
  return running.done
}

async function close(): Promise<void> {
  load?.stop()
  await load?.done
  load = undefined
  const closing = sender
  sender = undefined
  await closing?.close()
}

const runtime = startChildRuntime({
  methods: {
    open,
    run,
    loadStart,
    loadStop,
    close,
    carousel: async () => {
      const publisher = sender instanceof OursSender ? sender.publisher.stats : undefined
      const cpu = process.cpuUsage()
      return publisher
        ? {
            cycles: publisher.snapshotCycles,
            bytes: publisher.snapshotBytes,
            cycleMs: publisher.snapshotCycleMs,
            cpuMs: (cpu.user + cpu.system) / 1000,
          }
        : undefined
    },
  },
  onStop: close,
})
runtime.ready({ pid: process.pid, wallOffsetUs: wallClockOffsetUs() })
