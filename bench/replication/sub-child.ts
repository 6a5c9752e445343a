/**
 * The receiving process of the replication suite: one stack's receiver (ours: an OrderBookReplica),
 * driven over IPC (`open`, `mark`, `expect`, `settle`, `join`, `close`). It polls its seq every
 * millisecond between `mark` and `expect`, so that the time it caught up is known to 1 ms without
 * a hook on every delta. Spawned by bench/replication/suite.ts with a `ChildConfig`.
 */
import { subscribe } from 'node:diagnostics_channel'
import { OrderBookReplica } from '../../generated/index.js'
import { childConfig, startChildRuntime } from '../lib/child-runtime.js'
import type {
  ChildConfig,
  ExpectParams,
  ExpectResult,
  JoinParams,
  JoinResult,
  MarkParams,
  OpenReceiver,
  ReceiverCounters,
} from './protocol.js'
import { JsonUdpReceiver } from './stacks/json-udp.js'
import { JsonWsReceiver } from './stacks/json-ws.js'
import { OursReceiver } from './stacks/ours.js'
import { emptyReceiverCounters, type FeedReceiver } from './stacks/types.js'
import { nowUs, wallClockOffsetUs } from './workload.js'

const config = childConfig<ChildConfig>()
let receiver: FeedReceiver | undefined

function current(): FeedReceiver {
  if (!receiver) throw new Error('no receiver open')
  return receiver
}

async function open(params: OpenReceiver): Promise<void> {
  if (receiver) throw new Error('a receiver is already open')
  receiver =
    config.stack === 'ours'
      ? await OursReceiver.open(params)
      : config.stack === 'json-udp'
        ? await JsonUdpReceiver.open(params)
        : await JsonWsReceiver.open(params)
}

async function close(): Promise<void> {
  stopPolling()
  const closing = receiver
  receiver = undefined
  await closing?.close()
}

// ── progress polling ─────────────────────────────────────────────────────────────────────────

/** Each time the seq was seen to move: when, and to what. */
let samples: { us: number[]; seqs: number[] } = { us: [], seqs: [] }
let poller: NodeJS.Timeout | undefined
let baseline: ReceiverCounters = emptyReceiverCounters()
let applied: { seqs: number[]; us: number[] } | undefined
let repairs: { ms: number[]; nacks: number[] } | undefined

subscribe('grenache:replica:repair', (message) => {
  const { ms, nacks } = message as { ms: number; nacks: number }
  repairs?.ms.push(ms)
  repairs?.nacks.push(nacks)
})

function poll(): void {
  const seq = receiver?.seq ?? 0
  if (seq !== samples.seqs[samples.seqs.length - 1]) {
    samples.us.push(nowUs())
    samples.seqs.push(seq)
  }
}

function stopPolling(): void {
  clearInterval(poller)
  poller = undefined
}

async function mark(params: MarkParams): Promise<void> {
  const r = current()
  stopPolling()
  samples = { us: [nowUs()], seqs: [r.seq] }
  poller = setInterval(poll, 1)
  baseline = r.counters()
  applied = params.record ? { seqs: [], us: [] } : undefined
  const record = applied
  r.onApply(
    record
      ? (seq) => {
          record.seqs.push(seq)
          record.us.push(nowUs())
        }
      : undefined,
  )
  repairs = params.repairs ? { ms: [], nacks: [] } : undefined
}

function diff(a: ReceiverCounters, b: ReceiverCounters): ReceiverCounters {
  const out = emptyReceiverCounters()
  for (const key of Object.keys(out) as (keyof ReceiverCounters)[]) out[key] = a[key] - b[key]
  return out
}

/** Waits until the seq reaches `lastSeq`, or stops moving for `idleMs`, or `capMs` passed. */
async function expect(params: ExpectParams): Promise<ExpectResult> {
  const r = current()
  const startedUs = nowUs()
  for (;;) {
    poll()
    const now = nowUs()
    const lastUs = samples.us[samples.us.length - 1] as number
    if (r.seq >= params.lastSeq) break
    if (now - lastUs > params.idleMs * 1000 || now - startedUs > params.capMs * 1000) break
    await new Promise((resolve) => setTimeout(resolve, 1))
  }
  stopPolling()
  r.onApply(undefined)
  const at = samples.seqs.findIndex((seq) => seq >= params.lastSeq)
  const result: ExpectResult = {
    reached: at >= 0,
    reachedUs: at >= 0 ? (samples.us[at] as number) : Number.NaN,
    lastProgressUs: samples.us[samples.us.length - 1] as number,
    seq: r.seq,
    counters: diff(r.counters(), baseline),
    ...(applied ? { applied } : {}),
    ...(repairs ? { repairs } : {}),
  }
  applied = undefined
  repairs = undefined
  return result
}

/** Waits (up to `timeoutMs`) until the receiver is at `seq` and, for ours, live; true if it got there. */
async function settle(params: { seq: number; timeoutMs: number }): Promise<boolean> {
  const r = current()
  const until = nowUs() + params.timeoutMs * 1000
  const live = () => !(r instanceof OursReceiver) || r.replica.status === 'live'
  while (nowUs() < until) {
    if (r.seq >= params.seq && live()) return true
    await new Promise((resolve) => setTimeout(resolve, 5))
  }
  return false
}

/** One join of a fresh replica (ours): `start()` to `synced`, then closed. */
async function join(params: JoinParams): Promise<JoinResult> {
  const replica = new OrderBookReplica({
    publisher: params.address,
    transport: { kind: 'multicast', interface: '127.0.0.1' },
    join: params.mode,
  })
  let joinMs = Number.NaN
  replica.once('synced', (info) => {
    joinMs = info.joinMs
  })
  const startUs = nowUs()
  const cpuBefore = process.cpuUsage()
  let firstPartUs = Number.NaN
  let lastPartUs = Number.NaN
  let seenBytes = 0
  const watch = setInterval(() => {
    const bytes = replica.stats.snapshotBytes
    if (bytes === seenBytes || replica.status !== 'joining') return
    seenBytes = bytes
    const now = nowUs()
    if (Number.isNaN(firstPartUs)) firstPartUs = now
    lastPartUs = now
  }, 1)
  try {
    await replica.start({ timeoutMs: 10_000 })
    const startedUs = nowUs()
    await replica.synced({ timeoutMs: 20_000 })
    const endUs = nowUs()
    const cpu = process.cpuUsage(cpuBefore)
    const stats = replica.stats
    const after = (us: number) => (us - startUs) / 1000
    return {
      ms: after(endUs),
      startedMs: after(startedUs),
      firstPartMs: after(firstPartUs),
      lastPartMs: after(lastPartUs),
      startUs,
      endUs,
      joinMs,
      cpuMs: (cpu.user + cpu.system) / 1000,
      leaves: stats.leaves,
      snapshotBytes: stats.snapshotBytes,
      resyncs: stats.resyncs,
    }
  } finally {
    clearInterval(watch)
    await replica.close()
  }
}

const runtime = startChildRuntime({
  methods: { open, close, mark, expect, settle, join },
  onStop: close,
})
runtime.ready({ pid: process.pid, wallOffsetUs: wallClockOffsetUs() })
