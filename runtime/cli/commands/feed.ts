import { isIPv4 } from 'node:net'
import { GrenacheError, isGrenacheError } from '../../errors.js'
import { Link } from '../../link/link.js'
import { fetchLayout } from '../../replication/fetch-layout.js'
import { Replica } from '../../replication/replica.js'
import { isMulticastAddress } from '../../replication/udp-endpoint.js'
import { type DynamicCodec, dynamicCodec } from '../../state/dynamic-codec.js'
import type { CommandLine } from '../argv.js'
import { type Command, type CommandContext, grapeText, unreachable } from '../command.js'
import { deltaLine, leafLine, redraw, StatsLine, syncedLine } from '../feed-output.js'
import { GRAPE_OPTIONS, grapeUrl, timeoutMs } from '../grape-address.js'
import { CommandFailure, EXIT, UsageError, write } from '../io.js'

type FeedReplica = Replica<unknown, Record<string, unknown>, Record<string, unknown>>

/** What the command line asked for, checked. */
interface FeedRequest {
  /** `order_book@1`. */
  feed: string
  publisher: string | undefined
  iface: string
  count: number | undefined
  stats: boolean
  snapshot: boolean
  /** Bound of each step of the start (lookup, layout, join, first snapshot), in ms. */
  timeoutMs: number
}

export const feed: Command = {
  usage: '[OPTION]... FEED',
  options: [
    { name: 'publisher', value: 'HOST:PORT', help: "the publisher's control address (no Grape lookup)" },
    {
      name: 'interface',
      value: 'ADDR',
      help: 'IPv4 address of the local interface to receive multicast on (default 127.0.0.1)',
    },
    { name: 'snapshot', help: 'after each snapshot line, print every leaf of it' },
    { name: 'stats', help: 'show a live status line instead of the deltas' },
    { name: 'count', short: 'n', value: 'N', help: 'exit 0 after N deltas' },
    ...GRAPE_OPTIONS.map((option) =>
      option.name === 'timeout'
        ? {
            ...option,
            help: 'give up each step of the start (lookup, layout, join) after MS ms (default 10000)',
          }
        : option,
    ),
  ],
  examples: [
    ['$0 order_book@1', 'print each delta of the order_book@1 feed as a JSON line'],
    ['$0 --snapshot -n 100 order_book@1', 'the leaves, then 100 deltas'],
    ['$0 --stats --publisher 10.0.0.5:40001 --interface 10.0.0.9 order_book@1', 'watch one publisher'],
  ],
  notes: [
    'Reads any feed without its generated code: the layout comes from the publisher (and is checked',
    'against its fingerprint). Lines: {"synced":true,"seq":N,"leaves":M} when a snapshot is installed',
    '(again after a resync), with --snapshot {"key":K,"leaf":L} per leaf, then per delta',
    '{"seq":S,"op":"upsert"|"patch"|"delete"|"clear","key":K,"leaf":L} (the leaf after the delta;',
    'bigints as strings, dates as ISO strings). --stats redraws one line on a terminal (4 times a',
    'second) and prints one a second otherwise. Runs until SIGINT or SIGTERM (exit 0) or -n deltas.',
  ],
  async run(line, context) {
    const request = parseRequest(line)
    const { io } = context
    if (request.publisher !== undefined) return follow(request, request.publisher, undefined, context)
    const url = grapeUrl(line, io.env)
    const timeout = request.timeoutMs
    const link = new Link({ grape: url, requestTimeoutMs: timeout, maxAttempts: 1, connections: 0 })
    try {
      let peers: readonly string[]
      try {
        peers = await link.lookup(`${request.feed}/feed`, { timeoutMs: request.timeoutMs, signal: io.signal })
      } catch (err) {
        if (io.signal.aborted) return EXIT.ok
        if (isGrenacheError(err, 'ERR_LOOKUP_EMPTY')) {
          throw new GrenacheError(
            'ERR_LOOKUP_EMPTY',
            `no publisher of ${request.feed} is announced (looked up "${request.feed}/feed")`,
          )
        }
        if (isGrenacheError(err) && err.code.startsWith('ERR_GRAPE_'))
          throw new CommandFailure(grapeText(err))
        throw unreachable(err, url, timeout) ?? err
      }
      return await follow(request, peers[0] as string, link, context)
    } finally {
      // A Grape that never answered must not keep the process waiting on close.
      await Promise.race([link.close(), new Promise((resolve) => setTimeout(resolve, 100).unref())])
    }
  },
}

function parseRequest(line: CommandLine): FeedRequest {
  const name = line.operands[0]
  if (name === undefined || name === '') throw new UsageError('missing FEED')
  if (line.operands.length > 1)
    throw new UsageError(`unexpected argument ${JSON.stringify(line.operands[1])}`)
  const match = /^([a-z][a-zA-Z0-9_]*@[1-9][0-9]{0,8})(\/feed)?$/.exec(name)
  if (!match) throw new UsageError(`FEED must be NAME@MAJOR, like order_book@1, got ${JSON.stringify(name)}`)
  const publisher = line.value('publisher')
  if (publisher !== undefined) {
    const at = publisher.lastIndexOf(':')
    const port = Number(publisher.slice(at + 1))
    if (
      !isIPv4(publisher.slice(0, at)) ||
      !/^[0-9]{1,5}$/.test(publisher.slice(at + 1)) ||
      port < 1 ||
      port > 65535
    )
      throw new UsageError(`--publisher must be IPV4:PORT, got ${JSON.stringify(publisher)}`)
  }
  const iface = line.value('interface') ?? '127.0.0.1'
  if (!isIPv4(iface) || isMulticastAddress(iface))
    throw new UsageError(
      `--interface must be the IPv4 address of a local interface, got ${JSON.stringify(iface)}`,
    )
  const countText = line.value('count')
  if (countText !== undefined && !/^[1-9][0-9]{0,8}$/.test(countText))
    throw new UsageError(`-n/--count must be a whole number from 1, got ${JSON.stringify(countText)}`)
  const stats = line.has('stats')
  const snapshot = line.has('snapshot')
  if (stats && snapshot) throw new UsageError('--snapshot prints leaves, --stats a status line: not both')
  return {
    feed: match[1] as string,
    publisher,
    iface,
    count: countText === undefined ? undefined : Number(countText),
    stats,
    snapshot,
    timeoutMs: timeoutMs(line),
  }
}

/** Fetches the layout from `address`, joins the feed and prints until stopped. */
async function follow(
  request: FeedRequest,
  address: string,
  link: Link | undefined,
  context: CommandContext,
): Promise<number> {
  const { io } = context
  const signal = io.signal
  let codec: DynamicCodec
  try {
    const layout = await fetchLayout(address, { timeoutMs: request.timeoutMs, signal, host: request.iface })
    if (`${layout.name}@${layout.version}` !== request.feed) {
      throw new GrenacheError(
        'ERR_FEED_INCOMPATIBLE',
        `the publisher at ${address} publishes ${layout.name}@${layout.version}, not ${request.feed}`,
      )
    }
    codec = dynamicCodec(layout)
  } catch (err) {
    if (signal.aborted) return EXIT.ok
    throw err
  }
  const replica: FeedReplica = new Replica(codec, {
    // With the Link, a restarted publisher (new ports) is found again; --publisher pins one.
    ...(link ? { link } : { publisher: address }),
    host: request.iface,
    transport: { kind: 'multicast', interface: request.iface },
  })
  const run = new FeedRun(replica, request, context)
  try {
    try {
      await replica.start({ timeoutMs: request.timeoutMs, signal })
      run.begin()
      await replica.synced({ timeoutMs: request.timeoutMs, signal })
    } catch (err) {
      if (signal.aborted) return EXIT.ok
      throw err
    }
    await run.done()
    return EXIT.ok
  } finally {
    run.end()
    await replica.close()
    await write(io.stdout, '')
  }
}

/** Prints what a replica does: JSON lines, or the status line. */
class FeedRun {
  readonly #replica: FeedReplica
  readonly #request: FeedRequest
  readonly #context: CommandContext
  readonly #tty: boolean
  #stop: () => void = () => undefined
  readonly #stopped: Promise<void>
  /** After a snapshot line: deltas before it are part of the snapshot, not printed. */
  #synced = false
  /** Once stopped, nothing more is printed (the rest of a datagram's deltas may still apply). */
  #finished = false
  #deltas = 0
  #timer: NodeJS.Timeout | undefined
  #stats: StatsLine | undefined

  constructor(replica: FeedReplica, request: FeedRequest, context: CommandContext) {
    this.#replica = replica
    this.#request = request
    this.#context = context
    this.#tty = (context.io.stdout as { isTTY?: boolean }).isTTY === true
    this.#stopped = new Promise<void>((resolve) => {
      this.#stop = () => {
        this.#finished = true
        resolve()
      }
    })
    const { signal, stdout } = context.io
    signal.addEventListener('abort', this.#stop, { once: true })
    // A reader that went away (`| head -3`) ends the run like a signal.
    stdout.once('error', this.#stop)
    replica.on('synced', (info) => this.#onSynced(info.seq, info.leaves))
    replica.on('resync', (info) => {
      this.#synced = false
      void context.warn(`resync at seq ${info.seq} (${info.reason})`)
    })
    replica.on('stale', (info) => {
      const why =
        info.silentMs < 1
          ? 'the publisher closed its session'
          : `no heartbeat from the publisher for ${Math.round(info.silentMs)} ms`
      void context.warn(`${why}; waiting for it to come back`)
    })
    if (!request.stats || request.count !== undefined) {
      replica.on('change', (change) => {
        if (!this.#synced || this.#finished) return
        if (!request.stats) this.#print(deltaLine(change))
        if (request.count !== undefined && ++this.#deltas >= request.count) this.#stop()
      })
    }
  }

  /** Starts the status line (once the replica has its sockets). */
  begin(): void {
    if (!this.#request.stats) return
    this.#stats = new StatsLine(performance.now())
    this.#timer = setInterval(() => this.#status(), this.#tty ? 250 : 1000)
  }

  /** Resolves when the run should end: a signal, -n deltas, stdout gone. */
  done(): Promise<void> {
    return this.#stopped
  }

  end(): void {
    clearInterval(this.#timer)
    this.#context.io.signal.removeEventListener('abort', this.#stop)
    this.#context.io.stdout.removeListener('error', this.#stop)
    if (this.#stats) {
      this.#status()
      if (this.#tty) this.#print('\n')
    }
  }

  #onSynced(seq: number, leaves: number): void {
    this.#synced = true
    if (this.#finished) return
    if (this.#request.stats) return
    this.#print(syncedLine(seq, leaves))
    if (this.#request.snapshot)
      for (const [key, leaf] of this.#replica.entries()) this.#print(leafLine(key, leaf))
  }

  #status(): void {
    const line = this.#stats?.render(this.#replica.stats, performance.now())
    if (line !== undefined) this.#print(this.#tty ? redraw(line) : `${line}\n`)
  }

  /** Written at once, in order; a slow reader makes the stream buffer (the feed cannot wait). */
  #print(text: string): void {
    this.#context.io.stdout.write(text)
  }
}
