/**
 * `grenache feed` as users run it: the built binary against two Grapes on loopback and publishers
 * of this process multicasting on 127.0.0.1, read without their generated code.
 */
import dgram from 'node:dgram'
import { tmpdir } from 'node:os'
import { PassThrough } from 'node:stream'
import { setTimeout as delay } from 'node:timers/promises'
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest'
import { type OrderBookDelta, OrderBookPublisher } from '../../../generated/order-book.gen.js'
import type { CliIo } from '../../../runtime/cli/io.js'
import { runCli as runInProcess } from '../../../runtime/cli/main.js'
import type { Publisher } from '../../../runtime/replication/publisher.js'
import type { AnyStateCodec } from '../../../runtime/state/index.js'
import { KITCHEN_SINK } from '../../fixtures/kitchen-sink-state.js'
import { type CliRun, ensureCliBuilt, killAllCli, runCli, startCli } from '../../helpers/cli.js'
import { type SchemaProject, schemaProject } from '../../helpers/codegen.js'
import { settledHandles, socketHandles } from '../../helpers/handles.js'
import { createTestnet, type Testnet } from '../../helpers/testnet.js'

let net: Testnet
let book: OrderBookPublisher
let bookAddress: string
const closing: Array<{ close(): unknown }> = []
const projects: SchemaProject[] = []
/** The CLI asks the other Grape than the one publishers announce through. */
const grape = (): NodeJS.ProcessEnv => ({ GRENACHE_GRAPE: net.urls[1] })

/** A group in 239.0.0.0/8 away from 239.255 (the default feeds' groups), so runs do not meet. */
function randomGroup(): string {
  const byte = () => Math.floor(Math.random() * 250) + 1
  return `239.${byte() % 200}.${byte()}.${byte()}`
}

/** What the publisher applied at each seq: the op, the key and the leaf after it. */
const applied = new Map<number, { op: string; key?: string; leaf?: unknown }>()

/** Applies one delta of a fixed cycle over 12 keys (upserts, patches, deletes, now and then a clear). */
let step = 0
function nextDelta(): void {
  step++
  const key = `o-${step % 12}`
  const delta: OrderBookDelta =
    step % 97 === 0
      ? { op: 'clear' }
      : step % 5 === 0
        ? { op: 'delete', key }
        : step % 3 === 0
          ? { op: 'patch', key, fields: { size: step } }
          : {
              op: 'upsert',
              key,
              leaf: { side: step % 2 ? 'ask' : 'bid', price: 100 + (step % 50), size: step },
            }
  const seq = book.apply(delta)
  applied.set(
    seq,
    delta.op === 'clear' ? { op: 'clear' } : { op: delta.op, key: delta.key, leaf: book.get(delta.key) },
  )
}

/** Publishes a delta every 5 ms while `body` runs. */
async function publishing<T>(body: () => Promise<T>): Promise<T> {
  const timer = setInterval(nextDelta, 5)
  try {
    return await body()
  } finally {
    clearInterval(timer)
  }
}

/** Waits (bounded) until the other Grape finds `name`. */
async function announced(name: string): Promise<void> {
  const link = net.link(1)
  for (const deadline = Date.now() + 20_000; ; await delay(50)) {
    try {
      await link.lookup(name)
      return
    } catch (err) {
      if (Date.now() > deadline) throw err
    }
  }
}

/** Waits (bounded) until `run` printed `lines` lines. */
async function lines(run: CliRun, count: number, timeoutMs = 20_000): Promise<string[]> {
  for (const deadline = Date.now() + timeoutMs; Date.now() < deadline; await delay(20)) {
    const printed = run.stdout.split('\n').slice(0, -1)
    if (printed.length >= count) return printed
    if (run.child.exitCode !== null) break
  }
  throw new Error(`${count} lines expected, got:\n${run.stdout}\n${run.stderr}`)
}

/** Checks the JSON lines of a run: a snapshot line, then deltas in seq order as they were applied. */
function checkDeltas(printed: string[], leaves = 0): number {
  const [first, ...rest] = printed.map((line) => JSON.parse(line) as Record<string, unknown>)
  expect(first).toMatchObject({ synced: true })
  const synced = first as { seq: number; leaves: number }
  expect(rest.slice(0, leaves).every((line) => 'key' in line && 'leaf' in line && !('seq' in line))).toBe(
    true,
  )
  const deltas = rest.slice(leaves)
  deltas.forEach((line, i) => {
    const seq = synced.seq + 1 + i
    const expected = applied.get(seq)
    expect(line, `seq ${seq}`).toEqual({
      seq,
      ...expected,
      ...(expected?.op === 'upsert' || expected?.op === 'patch' ? { leaf: expected.leaf ?? null } : {}),
    })
  })
  return deltas.length
}

beforeAll(async () => {
  ensureCliBuilt()
  net = await createTestnet(2)
  book = new OrderBookPublisher({
    link: net.link(0),
    transport: { kind: 'multicast', group: randomGroup(), interface: '127.0.0.1' },
  })
  closing.push(book)
  const at = await book.start()
  bookAddress = `${at.host}:${at.port}`
  await announced('order_book@1/feed')
  for (let i = 0; i < 40; i++) nextDelta()
}, 240_000)

afterEach(killAllCli)

afterAll(async () => {
  killAllCli()
  for (const publisher of closing.reverse()) await publisher.close()
  for (const project of projects) project.remove()
  await net?.close()
})

describe('grenache feed', () => {
  it('prints the snapshot line, then every delta in seq order as JSON, and exits 0 after -n deltas', async () => {
    const result = await publishing(() =>
      runCli('grenache', ['feed', '-n', '40', 'order_book@1'], { env: grape() }),
    )
    expect(result).toMatchObject({ code: 0, stderr: '' })
    const printed = result.stdout.split('\n')
    expect(printed.pop()).toBe('')
    expect(checkDeltas(printed)).toBe(40)
  })

  it('takes the discovery name (order_book@1/feed) and, with --snapshot, prints every leaf of the snapshot', async () => {
    const run = startCli('grenache', ['feed', '--snapshot', '-n', '3', 'order_book@1/feed'], { env: grape() })
    // Nothing is published until the snapshot is printed, so its leaves are the publisher's.
    const [first] = await lines(run, 1)
    const synced = JSON.parse(first as string) as { seq: number; leaves: number }
    expect(synced).toEqual({ synced: true, seq: book.seq, leaves: book.size })
    const printed = await lines(run, 1 + synced.leaves)
    const leaves = printed
      .slice(1, 1 + synced.leaves)
      .map((line) => JSON.parse(line) as { key: string; leaf: unknown })
    expect(new Map(leaves.map(({ key, leaf }) => [key, leaf]))).toEqual(new Map(book.leaves))
    const result = await publishing(() => run.result)
    expect(result).toMatchObject({ code: 0, stderr: '' })
    expect(checkDeltas(result.stdout.trim().split('\n'), synced.leaves)).toBe(3)
  })

  it.each(['SIGINT', 'SIGTERM'] as const)('closes the replica and exits 0 on %s', async (signal) => {
    const run = startCli('grenache', ['feed', 'order_book@1'], { env: grape() })
    await publishing(async () => {
      await lines(run, 5)
      run.child.kill(signal)
      const result = await run.result
      expect(result).toMatchObject({ code: 0, signal: null, stderr: '' })
      checkDeltas(result.stdout.trim().split('\n'))
    })
  })

  it('with --stats prints a status line a second when stdout is not a terminal, and one more at exit', async () => {
    const run = startCli('grenache', ['feed', '--stats', 'order_book@1'], { env: grape() })
    const printed = await publishing(async () => {
      await lines(run, 3, 30_000)
      run.child.kill('SIGINT')
      return (await run.result).stdout.trim().split('\n')
    })
    const status =
      /^seq (\d+) \| (\d+) deltas\/s \| lag (\d+) seqs, (\d+) ms \| gaps (\d+) \((\d+) nacks, (\d+) retransmits\) \| resyncs (\d+) \| (\w+)$/
    expect(printed.length).toBeGreaterThanOrEqual(3)
    for (const line of printed) expect(line).toMatch(status)
    const seqs = printed.map((line) => Number(status.exec(line)?.[1]))
    expect(seqs).toEqual([...seqs].sort((a, b) => a - b))
    expect(printed.at(-1)).toMatch(/ \| live$/)
    expect(printed.join('\n')).not.toContain('\r')
  })

  it('with --stats redraws the status line in place on a terminal, and ends it with a newline', async () => {
    let out = ''
    const stdout = Object.assign(new PassThrough(), { isTTY: true })
    stdout.setEncoding('utf8').on('data', (chunk: string) => {
      out += chunk
    })
    const stderr = new PassThrough()
    const controller = new AbortController()
    const io: CliIo = {
      stdout,
      stderr,
      stdin: new PassThrough(),
      env: {},
      home: tmpdir(),
      signal: controller.signal,
    }
    const redraws = () => out.split('\r\u001b[2K').length - 1
    const before = socketHandles()
    const code = await publishing(async () => {
      const done = runInProcess(
        undefined,
        ['feed', '--stats', '--publisher', bookAddress, 'order_book@1'],
        io,
      )
      for (const deadline = Date.now() + 20_000; redraws() < 4 && Date.now() < deadline; ) await delay(20)
      controller.abort()
      return done
    })
    expect(code).toBe(0)
    expect(await settledHandles(before), 'the replica closed its sockets').toEqual(before)
    expect(out.endsWith('\n')).toBe(true)
    expect(out.split('\n')).toHaveLength(2)
    const drawn = out.trimEnd().split('\r\u001b[2K').slice(1)
    expect(drawn.length).toBeGreaterThanOrEqual(4)
    for (const line of drawn) expect(line).toMatch(/^seq \d+ \| \d+ deltas\/s \| .* \| (joining|live)$/)
    expect(drawn.at(-1)).toMatch(/ \| live$/)
  })

  it('joins the publisher given with --publisher without asking the Grape', async () => {
    const result = await publishing(() =>
      runCli(
        'grenache',
        ['feed', '--publisher', bookAddress, '--interface', '127.0.0.1', '-n', '5', 'order_book@1'],
        {
          env: { GRENACHE_GRAPE: '127.0.0.1:1' },
        },
      ),
    )
    expect(result).toMatchObject({ code: 0, stderr: '' })
    expect(checkDeltas(result.stdout.trim().split('\n'))).toBe(5)
  })

  it('prints bigints as strings and dates as ISO strings, for a state it has no code for', async () => {
    const project = schemaProject({ 'schemas/sink.schema.ts': KITCHEN_SINK })
    projects.push(project)
    await project.generate(true)
    const generated = await project.import<Record<string, unknown>>('generated/sink.gen.ts')
    const SinkPublisher = generated.SinkV3Publisher as new (
      options: ConstructorParameters<typeof OrderBookPublisher>[0],
    ) => Publisher<number, Record<string, unknown>>
    const sink = new SinkPublisher({
      link: net.link(0),
      transport: { kind: 'multicast', group: randomGroup(), interface: '127.0.0.1' },
    })
    closing.push(sink)
    await sink.start()
    await announced('sink@3/feed')
    expect((sink.codec as AnyStateCodec).feed).toBe('sink@3')
    const leaf = {
      text: 'héllo',
      short: 'ab',
      f64: 1.5,
      f32: 0.25,
      int: -3,
      int32: 7,
      uint: 3,
      big: 2n ** 62n,
      flag: true,
      when: new Date('2026-12-06T10:00:00.000Z'),
      venue: 2,
      tone: 7,
      gone: null,
      nested: { b: [1, 2] },
      levels: [{ price: 1, size: 2, orders: 3 }],
      byName: { a: null },
      bySide: { bid: ['x'] },
      event: { kind: 'cancel', id: 'c-1' },
      tags: ['t', undefined],
      grid: [[true, false]],
    }
    sink.upsert(-1, leaf)
    const run = startCli('grenache', ['feed', '--snapshot', '-n', '1', 'sink@3'], { env: grape() })
    const [synced, snapshotLeaf] = await lines(run, 2)
    expect(JSON.parse(synced as string)).toEqual({ synced: true, seq: 1, leaves: 1 })
    const expected = {
      ...leaf,
      big: '4611686018427387904',
      when: '2026-12-06T10:00:00.000Z',
      tags: ['t', null],
      withDefault: 5,
    }
    expect(JSON.parse(snapshotLeaf as string)).toEqual({ key: -1, leaf: expected })
    sink.delete(-1)
    const result = await run.result
    expect(result).toMatchObject({ code: 0, stderr: '' })
    expect(JSON.parse(result.stdout.trim().split('\n')[2] as string)).toEqual({
      seq: 2,
      op: 'delete',
      key: -1,
    })
  })

  it('exits 1 with ERR_LOOKUP_EMPTY for a feed nobody publishes', async () => {
    const result = await runCli('grenache', ['feed', 'nobody@1'], { env: grape() })
    expect(result).toEqual({
      code: 1,
      signal: null,
      stdout: '',
      stderr:
        'grenache feed: error: no publisher of nobody@1 is announced (looked up "nobody@1/feed") (ERR_LOOKUP_EMPTY).\n',
    })
  })

  it('exits 1 with ERR_TIMEOUT naming the address when nothing answers there', async () => {
    const socket = dgram.createSocket('udp4')
    await new Promise<void>((resolve) => socket.bind(0, '127.0.0.1', resolve))
    const silent = `127.0.0.1:${socket.address().port}`
    try {
      const result = await runCli('grenache', [
        'feed',
        '--publisher',
        silent,
        '--timeout',
        '600',
        'order_book@1',
      ])
      expect(result).toMatchObject({ code: 1, stdout: '' })
      expect(result.stderr).toBe(
        `grenache feed: error: no layout from the publisher at ${silent} within 600 ms: nothing answered (is a publisher there?) (ERR_TIMEOUT).\n`,
      )
    } finally {
      socket.close()
    }
  })

  it('exits 1 when the Grape cannot be reached', async () => {
    const result = await runCli('grenache', ['feed', 'order_book@1'], {
      env: { GRENACHE_GRAPE: '127.0.0.1:1' },
    })
    expect(result.code).toBe(1)
    expect(result.stderr).toMatch(
      /^grenache feed: error: cannot reach the Grape at http:\/\/127\.0\.0\.1:1: /,
    )
  })

  it.each([
    [[], 'missing FEED'],
    [['order_book'], 'FEED must be NAME@MAJOR, like order_book@1, got "order_book"'],
    [['order_book@0'], 'FEED must be NAME@MAJOR'],
    [['a@1', 'b@1'], 'unexpected argument "b@1"'],
    [['--publisher', 'localhost:1', 'a@1'], '--publisher must be IPV4:PORT, got "localhost:1"'],
    [['--publisher', '127.0.0.1:0', 'a@1'], '--publisher must be IPV4:PORT'],
    [['--interface', '239.1.2.3', 'a@1'], '--interface must be the IPv4 address of a local interface'],
    [['-n', '0', 'a@1'], '-n/--count must be a whole number from 1, got "0"'],
    [['--stats', '--snapshot', 'a@1'], '--snapshot prints leaves, --stats a status line: not both'],
    [['--timeout', 'soon', 'a@1'], '--timeout must be a whole number of milliseconds'],
  ])('%j exits 2: %s', async (args, message) => {
    const result = await runCli('grenache', ['feed', ...args], { env: grape() })
    expect(result.code).toBe(2)
    expect(result.stderr).toContain(`grenache feed: error: ${message}`)
  })
})
