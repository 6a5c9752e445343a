/**
 * Three hosts as network namespaces on one bridge (10.213.0.1, .2, .3), each running the `grape`
 * command of README "Running on many hosts" and a program driven over stdin/stdout
 * (host-process.ts): discovery, requests over HTTP, WebSocket and ZeroMQ, map, the reference
 * client, pub/sub, mutable items, a replication feed multicast across the bridge and one fanned out
 * by unicast. Needs root and iproute2: skipped, with the reason printed, where namespaces cannot be
 * made.
 */
import type { ChildProcess } from 'node:child_process'
import { readFileSync } from 'node:fs'
import { fileURLToPath } from 'node:url'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { createTopology, namespaceProblem, type Topology } from './netns.js'

const ROOT = fileURLToPath(new URL('../../', import.meta.url))
const GRAPE_CLI = `${ROOT}runtime/grape/cli.ts`
const HOST_PROCESS = `${ROOT}test/multihost/host-process.ts`
const GRENACHE_CLI = `${ROOT}runtime/cli/bin/grenache.ts`
const TSX = ['--import', 'tsx']

const README = readFileSync(`${ROOT}README.md`, 'utf8')

/** The commands of a README block (`<!-- many-hosts-<name> -->`), each with its trailing comment. */
function readmeBlock(name: string): Array<{ argv: string[]; comment: string }> {
  const block = new RegExp(`<!-- many-hosts-${name} -->\\n\`\`\`sh\\n([\\s\\S]*?)\`\`\``).exec(README)?.[1]
  if (!block) throw new Error(`README has no many-hosts-${name} block`)
  return block
    .trim()
    .split('\n')
    .map((line) => {
      const [command = '', comment = ''] = line.split(/\s+#\s*/)
      // A JSON argument in single quotes, as the shell passes it.
      const argv = (command.match(/'[^']*'|\S+/g) ?? []).map((word) => word.replace(/^'(.*)'$/, '$1'))
      return { argv, comment: comment.trim() }
    })
}

const problem = namespaceProblem()
if (problem) console.warn(`test/multihost/many-hosts.test.ts is skipped: ${problem}`)

/** Lines a child prints, as a queue to wait on. */
class Lines {
  readonly #lines: string[] = []
  readonly #waiters = new Set<() => void>()
  stderr = ''
  constructor(readonly child: ChildProcess) {
    let buffer = ''
    child.stdout?.setEncoding('utf8').on('data', (chunk: string) => {
      buffer += chunk
      for (let at = buffer.indexOf('\n'); at >= 0; at = buffer.indexOf('\n')) {
        this.#lines.push(buffer.slice(0, at))
        buffer = buffer.slice(at + 1)
      }
      for (const wake of this.#waiters) wake()
    })
    child.stderr?.setEncoding('utf8').on('data', (chunk: string) => {
      this.stderr += chunk
    })
    child.once('exit', () => {
      for (const wake of this.#waiters) wake()
    })
  }

  /** The first line (taken off the queue) that `match` accepts. */
  take(match: (line: string) => boolean, what: string, timeoutMs = 30_000): Promise<string> {
    return new Promise((resolve, reject) => {
      const check = (): boolean => {
        const at = this.#lines.findIndex(match)
        if (at >= 0) {
          done()
          resolve(this.#lines.splice(at, 1)[0] as string)
          return true
        }
        if (this.child.exitCode !== null || this.child.signalCode !== null) {
          done()
          reject(
            new Error(
              `${what}: the process exited (${this.child.exitCode ?? this.child.signalCode}); stderr: ${this.stderr}`,
            ),
          )
          return true
        }
        return false
      }
      const timer = setTimeout(() => {
        done()
        reject(new Error(`${what}: nothing within ${timeoutMs} ms; stderr: ${this.stderr}`))
      }, timeoutMs)
      const wake = (): void => void check()
      const done = (): void => {
        clearTimeout(timer)
        this.#waiters.delete(wake)
      }
      this.#waiters.add(wake)
      check()
    })
  }
}

interface Reply {
  id: number
  ok: boolean
  result?: unknown
  code?: string
  message?: string
}

/** A host-process: `call(op, args)` resolves with its result, rejects with `{code, message}`. */
class Driver {
  #id = 0
  constructor(
    readonly host: string,
    readonly lines: Lines,
  ) {}

  async call<T = unknown>(op: string, args: Record<string, unknown> = {}, timeoutMs = 30_000): Promise<T> {
    const id = ++this.#id
    this.lines.child.stdin?.write(`${JSON.stringify({ id, op, ...args })}\n`)
    const line = await this.lines.take(
      (text) => text.startsWith(`{"id":${id},`),
      `${this.host} ${op}`,
      timeoutMs,
    )
    const reply = JSON.parse(line) as Reply
    if (!reply.ok)
      throw Object.assign(new Error(`${this.host} ${op}: ${reply.code}: ${reply.message}`), reply)
    return reply.result as T
  }

  /** Calls `op` until `accept` takes its result (the DHT spreads announces in its own time). */
  async until<T>(
    op: string,
    args: Record<string, unknown>,
    accept: (result: T) => boolean,
    what: string,
  ): Promise<T> {
    const deadline = Date.now() + 20_000
    let last: unknown
    while (Date.now() < deadline) {
      try {
        const result = await this.call<T>(op, args)
        if (accept(result)) return result
        last = result
      } catch (err) {
        last = err
      }
      await new Promise((resolve) => setTimeout(resolve, 200))
    }
    throw new Error(
      `${this.host}: ${what} within 20 s; last: ${last instanceof Error ? last.message : JSON.stringify(last)}`,
    )
  }
}

describe.skipIf(problem !== undefined)('many hosts: three network namespaces on one bridge', () => {
  let topology: Topology | undefined
  const drivers: Record<string, Driver> = {}
  let a = ''
  let b = ''
  let c = ''

  beforeAll(async () => {
    topology = createTopology(['a', 'b', 'c'])
    const hosts = topology.hosts
    a = hosts.a?.address as string
    b = hosts.b?.address as string
    c = hosts.c?.address as string
    expect([a, b, c]).toEqual(['10.213.0.1', '10.213.0.2', '10.213.0.3'])
    // The commands of README "Running on many hosts", each on the host its comment names: A and C
    // bind their DHT to their address, B every interface (its address then comes from its routes).
    const ready = readmeBlock('grapes').map(({ argv: [command, ...flags], comment }) => {
      expect(command).toBe('grape')
      const host = comment.toLowerCase()
      const lines = new Lines(
        (topology as Topology).spawn(host, [process.execPath, ...TSX, GRAPE_CLI, ...flags]),
      )
      return lines.take((line) => line.startsWith('grape: api '), `the Grape of ${host}`)
    })
    for (const host of ['a', 'b', 'c']) {
      const lines = new Lines(
        topology.spawn(host, [process.execPath, ...TSX, HOST_PROCESS], { GG_HOST: host }),
      )
      drivers[host] = new Driver(host, lines)
      ready.push(lines.take((line) => line.startsWith('{"id":0,'), `the program of ${host}`))
    }
    const lines = await Promise.all(ready)
    expect(lines.slice(0, 3)).toEqual([
      expect.stringContaining(`dht ${a}:20001`),
      expect.stringContaining('dht 0.0.0.0:20001'),
      expect.stringContaining(`dht ${c}:20001`),
    ])
  }, 60_000)

  afterAll(async () => {
    // Each program closes what it opened on "exit"; whatever is still running after 5 s is killed.
    const exits = Object.values(drivers).map(({ lines: { child } }) => {
      if (child.exitCode !== null || child.signalCode !== null) return undefined
      const exited = new Promise((resolve) => child.once('exit', resolve))
      child.stdin?.end(`${JSON.stringify({ op: 'exit' })}\n`)
      return Promise.race([exited, new Promise((resolve) => setTimeout(resolve, 5000).unref())])
    })
    await Promise.all(exits)
    await topology?.destroy()
  }, 20_000)

  const call = <T = unknown>(host: string, op: string, args: Record<string, unknown> = {}): Promise<T> =>
    (drivers[host] as Driver).call<T>(op, args)
  const until = <T>(
    host: string,
    op: string,
    args: Record<string, unknown>,
    accept: (r: T) => boolean,
    what: string,
  ) => (drivers[host] as Driver).until<T>(op, args, accept, what)

  type Bound = Array<{ transport: string; host: string; port: number }>
  let echo: Bound = []

  it('a worker binds the address its Grape is seen at by default, and a client on another host finds it', async () => {
    echo = await call<Bound>('a', 'serve', { name: 'mh_echo', transports: ['http', 'ws', 'zmq'] })
    expect(echo.map((endpoint) => endpoint.host)).toEqual([a, a, a])
    const http = echo[0] as Bound[number]
    const found = await until<string[]>(
      'c',
      'lookup',
      { name: 'mh_echo/http' },
      (addresses) => addresses.includes(`${a}:${http.port}`),
      'mh_echo/http found at A',
    )
    expect(found).toContain(`${a}:${http.port}`)
  })

  it('the grenache command on C looks it up and calls it, as in the README', async () => {
    const run = async (args: string[]): Promise<string> => {
      const lines = new Lines(
        (topology as Topology).spawn('c', [process.execPath, ...TSX, GRENACHE_CLI, ...args]),
      )
      const exited = new Promise<number | null>((resolve) => lines.child.once('exit', resolve))
      const out = await lines.take(() => true, `grenache ${args[0]}`)
      expect(await exited, lines.stderr).toBe(0)
      return out
    }
    const http = echo[0] as Bound[number]
    const commands = readmeBlock('client')
    expect(commands.map(({ argv }) => argv.slice(0, 2))).toEqual([
      ['grenache', 'lookup'],
      ['grenache', 'request'],
    ])
    for (const { argv, comment } of commands) {
      expect(await run(argv.slice(1))).toBe(comment.replace('<port>', String(http.port)))
    }
  })

  it('a client on another host calls it over HTTP, WebSocket and ZeroMQ', async () => {
    for (const transport of ['http', 'ws', 'zmq']) {
      const reply = await until<{ host: string; echo: unknown }>(
        'c',
        'request',
        { name: 'mh_echo', transport, payload: { n: transport } },
        (r) => r.host === 'a',
        `a ${transport} request to A`,
      )
      expect(reply).toEqual({ host: 'a', echo: { n: transport } })
    }
  })

  it('map reaches a worker on each of two hosts, the one on B bound from its route to the DHT', async () => {
    const onB = await call<Bound>('b', 'serve', { name: 'mh_echo', transports: ['http'] })
    expect(onB[0]?.host).toBe(b)
    const results = await until<Array<{ host?: string }>>(
      'c',
      'map',
      { name: 'mh_echo', transport: 'http', payload: 'all' },
      (r) => r.length === 2 && r.every((entry) => entry.host !== undefined),
      'map over A and B',
    )
    expect(results.map((entry) => entry.host).sort()).toEqual(['a', 'b'])
  })

  it('the reference client (grenache-nodejs-http) on C calls our worker on A, bound by default', async () => {
    await call('a', 'serve', { name: 'mh_plain', transports: ['http'], plain: true })
    const reply = await until<{ host: string }>(
      'c',
      'referenceRequest',
      { name: 'mh_plain', payload: 'ref' },
      (r) => r.host === 'a',
      'a reference request to A',
    )
    expect(reply).toEqual({ host: 'a', echo: 'ref' })
  })

  it('a worker bound to loopback on B is refused at start with ERR_ANNOUNCE_MISMATCH naming B’s address', async () => {
    const err = (await call('b', 'serve', { name: 'mh_wrong', transports: ['http'], host: '127.0.0.1' }).then(
      () => undefined,
      (e: Reply) => e,
    )) as Reply | undefined
    expect(err?.code).toBe('ERR_ANNOUNCE_MISMATCH')
    expect(err?.message).toContain(`binds 127.0.0.1 (listen[0].host) but is announced at ${b}`)
  })

  it('pub/sub: a subscriber on C receives what a publisher on A sends', async () => {
    await call('a', 'publish', { name: 'mh_ticks', transport: 'ws', message: 'tick' })
    expect(await call('c', 'sub', { name: 'mh_ticks', transport: 'ws' })).toBe('tick from a')
  })

  it('mutable items: put signed on A, read and verified on C', async () => {
    const { hash, seq } = await call<{ hash: string; seq: number }>('a', 'putMutable', {
      value: 'hello from a',
      salt: 'mh',
    })
    const item = await until<{ v: string; seq: number } | null>(
      'c',
      'get',
      { hash, salt: 'mh' },
      (r) => r !== null,
      'the mutable item on C',
    )
    expect(item).toEqual({ v: 'hello from a', seq })
  })

  it('replication: a feed multicast from A across the bridge, found through the DHT, syncs replicas on B and C', async () => {
    const { control, info } = await call<{ control: string; info: { transport: string } }>('a', 'publisher', {
      tag: 'multicast',
      kind: 'multicast',
    })
    expect(control.startsWith(`${a}:`)).toBe(true)
    expect(info.transport).toBe('multicast')
    await call('a', 'apply', { tag: 'multicast', count: 200 })
    await Promise.all([
      call('b', 'replica', { tag: 'multicast' }),
      call('c', 'replica', { tag: 'multicast' }),
    ])
    const published = await call<{ seq: number; digest: string; leaves: number }>('a', 'apply', {
      tag: 'multicast',
      count: 300,
    })
    for (const host of ['b', 'c']) {
      const replica = await call<{ seq: number; digest: string; leaves: number }>(host, 'replicaAt', {
        tag: 'multicast',
        seq: published.seq,
      })
      expect({ host, ...replica }).toMatchObject({
        host,
        seq: published.seq,
        digest: published.digest,
        leaves: published.leaves,
      })
    }
  })

  it('replication: a unicast fan-out from B reaches replicas on A and C, each bound by its route to B', async () => {
    // Without a Link nothing is announced: the publisher binds where it is told, replicas name it.
    const { control } = await call<{ control: string }>('b', 'publisher', {
      tag: 'unicast',
      kind: 'unicast',
      announce: false,
      host: b,
      seed: 7,
    })
    expect(control.startsWith(`${b}:`)).toBe(true)
    await call('b', 'apply', { tag: 'unicast', count: 100 })
    await Promise.all([
      call('a', 'replica', { tag: 'unicast', publisher: control }),
      call('c', 'replica', { tag: 'unicast', publisher: control }),
    ])
    const published = await call<{ seq: number; digest: string; leaves: number }>('b', 'apply', {
      tag: 'unicast',
      count: 200,
    })
    for (const host of ['a', 'c']) {
      const replica = await call<{ seq: number; digest: string }>(host, 'replicaAt', {
        tag: 'unicast',
        seq: published.seq,
      })
      expect({ host, ...replica }).toMatchObject({ host, seq: published.seq, digest: published.digest })
    }
  })
})
