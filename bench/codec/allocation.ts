/**
 * Does `encodeDelta` allocate? In a fresh process started with `--expose-gc`, after a warm-up, a
 * loop of pre-built deltas runs without yielding while a `PerformanceObserver` records every GC
 * ('gc' entries, kept when they start inside the loop's window) and the young generation's used
 * bytes are read before and after. With no GC in a window, young growth is what the loop allocated
 * (JavaScript allocates there; the other spaces grow from the optimising compiler's background
 * threads, code and feedback, whatever the loop does, so they are shown apart). The
 * same method on `decodeDelta` (which builds a delta object per call) shows that it detects
 * allocation: scavenges in the long window, and bytes per op in a short window without a GC.
 *
 * The suite starts this process with a young generation of 1 MiB per semi-space
 * (`--max-semi-space-size=1`): no scavenge in a long window then bounds what it allocated below
 * the young generation's free space, on its own, whatever the heap readings say.
 */
import { constants, PerformanceObserver, performance } from 'node:perf_hooks'
import { setTimeout as sleep } from 'node:timers/promises'
import v8 from 'node:v8'
import { OrderBookCodec, type OrderBookDelta } from '../../generated/index.js'
import { ByteReader, ByteWriter } from '../../runtime/index.js'
import type { AllocResult, AllocWindow, Checksummed, Settings } from './protocol.js'
import { orderDeltas } from './workload.js'

type Loop = (ops: number) => number

/** `ops` encodes of the pre-built deltas (cycled) into one writer over one buffer. */
function encodeLoop(deltas: readonly OrderBookDelta[]): Loop {
  const codec = OrderBookCodec
  const writer = new ByteWriter(new Uint8Array(codec.maxDeltaBytes))
  const n = deltas.length
  return (ops) => {
    let sink = 0
    let i = 0
    for (let k = 0; k < ops; k++) {
      writer.reset()
      codec.encodeDelta(deltas[i] as OrderBookDelta, writer)
      sink = (sink + writer.pos) | 0
      i = i + 1 === n ? 0 : i + 1
    }
    return sink
  }
}

/** `ops` decodes of the same deltas, from one frame holding all of them (cycled). */
function decodeLoop(deltas: readonly OrderBookDelta[]): Loop {
  const codec = OrderBookCodec
  const frameWriter = new ByteWriter(1 << 16, { grow: true })
  for (const delta of deltas) codec.encodeDelta(delta, frameWriter)
  const frame = new ByteReader(frameWriter.bytes())
  return (ops) => {
    let sink = 0
    for (let k = 0; k < ops; k++) {
      if (frame.pos === frame.end) frame.pos = 0
      sink = (sink + codec.decodeDelta(frame).op.length) | 0
    }
    return sink
  }
}

interface GcEvent {
  startMs: number
  kind: number
}

interface HeapReading {
  /** Used bytes of the young generation (new space and new large objects). */
  young: number
  /** What the young generation can still take before a scavenge. */
  youngFree: number
  /** Used bytes of every space. */
  total: number
  /** Both semi-spaces. */
  youngSize: number
}

function readHeap(): HeapReading {
  const reading = { young: 0, youngFree: 0, total: 0, youngSize: 0 }
  for (const space of v8.getHeapSpaceStatistics()) {
    reading.total += space.space_used_size
    if (space.space_name === 'new_space' || space.space_name === 'new_large_object_space') {
      reading.young += space.space_used_size
    }
    if (space.space_name === 'new_space') {
      reading.youngFree = space.space_available_size
      reading.youngSize = space.space_size
    }
  }
  return reading
}

/** Lets the observer's pending 'gc' entries arrive. */
async function settle(): Promise<void> {
  await sleep(20)
  await sleep(20)
}

/** The loops' checksums: module state, so that no loop's work can be dropped. */
let sinkHole = 0

/**
 * One window: a full GC first (so the young generation starts empty), then `ops` ops, unbroken.
 * `baseline` is the young growth of a window of no ops (what the readings allocate).
 */
async function measureWindow(
  loop: Loop,
  ops: number,
  events: GcEvent[],
  collect: () => void,
  baseline = 0,
): Promise<AllocWindow> {
  collect()
  await settle()
  const before = readHeap()
  const begin = performance.now()
  sinkHole ^= loop(ops)
  const end = performance.now()
  const after = readHeap()
  await settle()
  const inWindow = events.filter((event) => event.startMs >= begin && event.startMs <= end)
  const minorGcs = inWindow.filter((event) => event.kind === constants.NODE_PERFORMANCE_GC_MINOR).length
  const youngGrowthBytes = after.young - before.young
  return {
    ops,
    ms: end - begin,
    minorGcs,
    majorGcs: inWindow.length - minorGcs,
    youngGrowthBytes,
    otherGrowthBytes: after.total - before.total - youngGrowthBytes,
    youngFreeBytes: before.youngFree,
    bytesPerOp: ops > 0 && inWindow.length === 0 ? (youngGrowthBytes - baseline) / ops : null,
  }
}

export async function allocationCheck(
  loopKind: 'encode' | 'decode',
  settings: Settings,
): Promise<AllocResult & Checksummed> {
  const collect = (globalThis as { gc?: () => void }).gc
  if (!collect) throw new Error('the allocation check needs node --expose-gc')
  const deltas = orderDeltas({ count: settings.deltas, liveIds: settings.liveIds, seed: settings.seed })
  const loop = loopKind === 'encode' ? encodeLoop(deltas) : decodeLoop(deltas)

  const events: GcEvent[] = []
  const observer = new PerformanceObserver((list) => {
    for (const entry of list.getEntries()) {
      const { detail } = entry as unknown as { detail: { kind: number } }
      events.push({ startMs: entry.startTime, kind: detail.kind })
    }
  })
  observer.observe({ entryTypes: ['gc'] })
  try {
    // Optimise the loop and the codec, then let the compiler's own allocations settle.
    sinkHole ^= loop(settings.allocWarmupOps)
    await settle()

    // What the method itself allocates (the heap readings, the clock): a window of no ops.
    const baseline = (await measureWindow(loop, 0, events, collect)).youngGrowthBytes
    const long = await measureWindow(loop, settings.allocOps, events, collect, baseline)
    let ops = settings.allocShortOps
    let tries = 0
    let short: AllocWindow
    do {
      tries++
      short = await measureWindow(loop, ops, events, collect, baseline)
      ops = Math.max(1, ops >> 1)
    } while (short.minorGcs + short.majorGcs > 0 && tries < 8)
    return {
      loop: loopKind,
      baselineBytes: baseline,
      long,
      short,
      shortTries: tries,
      youngBytes: readHeap().youngSize,
      checksum: sinkHole,
    }
  } finally {
    observer.disconnect()
  }
}
