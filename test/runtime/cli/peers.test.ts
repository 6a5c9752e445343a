/**
 * `grenache lookup/announce/request/map/sub` as users run them: the built binaries against two
 * Grapes on loopback, with workers and publishers of our runtime announced through them.
 */
import { setTimeout as delay } from 'node:timers/promises'
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest'
import { PubServer } from '../../../runtime/peer/pub-server.js'
import { type Handler, RpcServer } from '../../../runtime/peer/rpc-server.js'
import { ensureCliBuilt, killAllCli, runCli, startCli } from '../../helpers/cli.js'
import { createTestnet, type Testnet } from '../../helpers/testnet.js'

let net: Testnet
const servers: Array<{ close(): Promise<void> }> = []
const env = (index = 0): NodeJS.ProcessEnv => ({ GRENACHE_GRAPE: net.urls[index] })

const echo: Handler = (request, reply) => reply(null, { echo: request.payload, via: request.transport })

/** A worker of ours serving `keys` over http, ws and zmq, announced through Grape 0. */
async function worker(keys: Record<string, Handler>, plain = false): Promise<RpcServer> {
  const rpc = new RpcServer({
    link: net.link(0),
    listen: [{ transport: 'http' }, { transport: 'ws' }, { transport: 'zmq' }],
  })
  for (const [key, handler] of Object.entries(keys))
    rpc.handle(key, handler, plain ? { discovery: 'plain' } : {})
  servers.push(rpc)
  await rpc.start()
  return rpc
}

beforeAll(async () => {
  ensureCliBuilt()
  net = await createTestnet(2)
  await worker({
    cli_echo: echo,
    cli_fail: (_request, reply) => reply(new Error('TOO_SLOW: the worker is busy')),
    cli_text: (request, reply) => reply(null, request.payload),
  })
  await worker({ cli_echo: echo })
}, 240_000)
afterEach(killAllCli)
afterAll(async () => {
  killAllCli()
  await Promise.all(servers.map((server) => server.close()))
  await net?.close()
})

describe('announce and lookup', () => {
  it('announces entries from arguments, finds them through the other Grape, -a/-f/-l/-r in fixed order', async () => {
    const announce = await runCli('grenache-announce', ['cli:one,4001', 'cli:one,4002'], { env: env(0) })
    expect(announce).toMatchObject({ code: 0, stdout: '', stderr: '' })
    const all = await runCli('grenache-lookup', ['-r', '-l', '-f', '-a', 'cli:one'], { env: env(1) })
    expect(all.code).toBe(0)
    const [every, first, last, random, ...rest] = all.stdout.split('\n')
    expect(rest).toEqual([''])
    expect(every?.split(' ').sort()).toEqual(['127.0.0.1:4001', '127.0.0.1:4002'])
    expect(first).toBe(every?.split(' ')[0])
    expect(last).toBe(every?.split(' ')[1])
    expect(every?.split(' ')).toContain(random)
  })

  it('streams standard input: comments and blanks skipped, bad lines warned about, the rest announced', async () => {
    const input = [
      '# services of this host',
      'cli:two,4003 ; the first',
      '',
      'bad',
      ',4004',
      'cli:two,0',
      'cli:two,70000',
      'cli:two,abc',
      'cli:three with spaces,4005',
    ].join('\n')
    const announce = await runCli('grenache-announce', [], { env: env(0), stdin: input })
    expect(announce.code).toBe(0)
    expect(announce.stderr.split('\n')).toEqual([
      'grenache-announce: warning: invalid port number, skipping.',
      'grenache-announce: warning: empty service name, skipping.',
      'grenache-announce: warning: invalid port number 0, skipping.',
      'grenache-announce: warning: invalid port number 70000, skipping.',
      'grenache-announce: warning: invalid port number abc, skipping.',
      '',
    ])
    const lookup = await runCli('grenache', ['lookup', '-a'], {
      env: env(1),
      stdin: 'cli:two\n# comment\ncli:three with spaces\n',
    })
    expect(lookup).toMatchObject({ code: 0, stdout: '127.0.0.1:4003\n127.0.0.1:4005\n', stderr: '' })
  })

  it('takes another delimiter, or JSON documents with a data array', async () => {
    const delimited = await runCli('grenache-announce', ['-d', ' => ', 'cli:four => 4006'], { env: env(0) })
    expect(delimited.code).toBe(0)
    const json = await runCli('grenache-announce', ['-j'], {
      env: env(0),
      stdin: '{"data":["cli:five",4007]}\n{"data":["cli:five","4008"]}\nnot json\n{"nodata":1}\n',
    })
    expect(json.code).toBe(0)
    expect(json.stderr).toBe(
      'grenache-announce: warning: invalid JSON document, skipping.\n' +
        'grenache-announce: warning: JSON document without a "data" array, skipping.\n',
    )
    const lookup = await runCli('grenache-lookup', ['-a', 'cli:four', 'cli:five'], { env: env(1) })
    const [four, five] = lookup.stdout.split('\n')
    expect(four).toBe('127.0.0.1:4006')
    expect(five?.split(' ').sort()).toEqual(['127.0.0.1:4007', '127.0.0.1:4008'])
  })

  it('warns about a service without peers and exits 1 when nothing was printed', async () => {
    const none = await runCli('grenache-lookup', ['cli:nobody'], { env: env(1) })
    expect(none).toMatchObject({
      code: 1,
      stdout: '',
      stderr: 'grenache-lookup: warning: service cli:nobody not available.\n',
    })
    await runCli('grenache-announce', ['cli:six,4009'], { env: env(0) })
    const some = await runCli('grenache-lookup', ['cli:nobody', 'cli:six'], { env: env(1) })
    expect(some).toMatchObject({ code: 0, stdout: '127.0.0.1:4009\n' })
  })

  it('exits 1 when no announce was stored, with the reason per service', async () => {
    const result = await runCli('grenache-announce', ['bad', 'x,0'], { env: env(0) })
    expect(result.code).toBe(1)
    const lone = await createTestnet(1)
    try {
      const alone = await runCli('grenache-announce', ['cli:lonely,4010'], {
        env: { GRENACHE_GRAPE: lone.urls[0] },
      })
      expect(alone.code).toBe(1)
      expect(alone.stderr).toBe(
        'grenache-announce: warning: unable to announce service cli:lonely: No nodes to query.\n',
      )
    } finally {
      await lone.close()
    }
  })

  it('lookup needs a SERVICE or input; the delimiter must not be empty', async () => {
    expect((await runCli('grenache-announce', ['-d', '', 'a,1'], { env: env() })).stderr).toContain(
      'grenache-announce: error: empty delimiter.',
    )
  })
})

describe('request and map', () => {
  it.each(['http', 'ws', 'zmq'])('request over %s prints the JSON result', async (transport) => {
    const result = await runCli('grenache', ['request', '-T', transport, 'cli_echo', '{"n":1}'], {
      env: env(1),
    })
    expect(result).toMatchObject({ code: 0, stderr: '' })
    expect(JSON.parse(result.stdout)).toEqual({ echo: { n: 1 }, via: transport })
  })

  it('reads the payload from standard input; -r prints a string as it is', async () => {
    const piped = await runCli('grenache', ['request', 'cli_echo'], { env: env(1), stdin: '[1,2]' })
    expect(JSON.parse(piped.stdout)).toEqual({ echo: [1, 2], via: 'http' })
    const quoted = await runCli('grenache', ['request', 'cli_text', '"a\\tb"'], { env: env(1) })
    expect(quoted.stdout).toBe('"a\\tb"\n')
    const raw = await runCli('grenache', ['request', '-r', 'cli_text', '"a\\tb"'], { env: env(1) })
    expect(raw.stdout).toBe('a\tb\n')
  })

  it('calls a named worker with -w, without the Grape', async () => {
    const lookup = await runCli('grenache-lookup', ['-f', 'cli_echo/ws'], { env: env(1) })
    const address = lookup.stdout.trim()
    const result = await runCli('grenache', ['request', '-T', 'ws', '-w', address, 'cli_echo', '"hi"'], {
      env: { GRENACHE_GRAPE: '127.0.0.1:1' },
    })
    expect(JSON.parse(result.stdout)).toEqual({ echo: 'hi', via: 'ws' })
  })

  it("reports a worker's error with its code and exits 1", async () => {
    const result = await runCli('grenache', ['request', 'cli_fail', 'null'], { env: env(1) })
    expect(result).toMatchObject({ code: 1, stdout: '' })
    expect(result.stderr).toBe('grenache request: error: TOO_SLOW: the worker is busy (ERR_REMOTE).\n')
  })

  it('says which names it looked up when no worker is announced', async () => {
    const result = await runCli('grenache', ['request', '-T', 'ws', 'cli_nobody', '1'], { env: env(1) })
    expect(result).toMatchObject({
      code: 1,
      stderr:
        'grenache request: error: no worker of cli_nobody is announced (looked up "cli_nobody/ws" or "cli_nobody").\n',
    })
  })

  it.each([
    [['request'], 'missing SERVICE'],
    [['request', 'cli_echo', '{bad'], 'the payload is not JSON'],
    [['request', 'cli_echo', '1', '2'], 'unexpected argument "2"'],
    [
      ['request', '-T', 'udp', 'cli_echo', '1'],
      '-T/--transport must be one of http, https, ws, wss, zmq, got "udp"',
    ],
    [['request', '--discovery', 'dns', 'cli_echo', '1'], '--discovery must be auto, tagged or plain'],
    [['request', '-w', 'nohost', 'cli_echo', '1'], 'worker address must be HOST:PORT'],
    [['request', '--ca', '/nonexistent', 'cli_echo', '1'], '--ca applies to https, wss only'],
    [['map', '--limit', '0', 'cli_echo', '1'], '--limit must be a whole number from 1'],
  ])('%j exits 2: %s', async (args, message) => {
    const result = await runCli('grenache', args, { env: env(1) })
    expect(result.code).toBe(2)
    expect(result.stderr).toContain(message)
  })

  it('map prints one line per worker and exits 0 when all answered', async () => {
    const result = await runCli('grenache', ['map', '-T', 'ws', 'cli_echo', '"all"'], { env: env(1) })
    expect(result).toMatchObject({ code: 0, stderr: '' })
    const lines = result.stdout
      .trim()
      .split('\n')
      .map((line) => JSON.parse(line) as { worker: string; value: unknown })
    expect(lines).toHaveLength(2)
    expect(new Set(lines.map((line) => line.worker)).size).toBe(2)
    for (const line of lines) expect(line.value).toEqual({ echo: 'all', via: 'ws' })
    const limited = await runCli('grenache', ['map', '--limit', '1', 'cli_echo', '1'], { env: env(1) })
    expect(limited.stdout.trim().split('\n')).toHaveLength(1)
  })

  it('map exits 1 and prints the error of each worker that failed', async () => {
    const result = await runCli('grenache', ['map', 'cli_fail', '1'], { env: env(1) })
    expect(result.code).toBe(1)
    expect(JSON.parse(result.stdout)).toMatchObject({
      error: { code: 'ERR_REMOTE', message: 'TOO_SLOW: the worker is busy' },
    })
  })
})

describe('sub', () => {
  it.each(['ws', 'zmq'] as const)(
    'prints what a %s publisher sends, until -n messages',
    async (transport) => {
      const pub = new PubServer({ link: net.link(0), name: `cli_feed_${transport}`, transport })
      servers.push(pub)
      await pub.start()
      const sub = startCli(
        'grenache',
        ['sub', '-T', transport, '-n', '2', '--json', `cli_feed_${transport}`],
        {
          env: env(1),
          keepStdin: true,
        },
      )
      // Publish until the subscriber is connected and has what it waits for.
      for (let i = 0; sub.child.exitCode === null && i < 200; i++) {
        pub.publish(`tick ${i}`, transport === 'zmq' ? 'btc' : undefined)
        await delay(50)
      }
      const result = await sub.result
      expect(result.code).toBe(0)
      const lines = result.stdout
        .trim()
        .split('\n')
        .map((line) => JSON.parse(line) as { topic: unknown; data: string })
      expect(lines).toHaveLength(2)
      expect(lines[0]?.data).toMatch(/^tick \d+$/)
      expect(lines[0]?.topic).toBe(transport === 'zmq' ? 'btc' : null)
    },
  )

  it('exits 0 on SIGTERM, and 1 when --timeout passes before -n messages', async () => {
    const pub = new PubServer({ link: net.link(0), name: 'cli_quiet', transport: 'ws' })
    servers.push(pub)
    await pub.start()
    const sub = startCli('grenache', ['sub', 'cli_quiet'], { env: env(1), keepStdin: true })
    for (let i = 0; pub.subscribers === 0 && i < 200; i++) await delay(50)
    expect(pub.subscribers).toBe(1)
    sub.child.kill('SIGTERM')
    expect((await sub.result).code).toBe(0)

    const timed = await runCli('grenache', ['sub', '-n', '1', '--timeout', '1500', 'cli_quiet'], {
      env: env(1),
    })
    expect(timed).toMatchObject({
      code: 1,
      stderr: 'grenache sub: error: 0 of 1 messages came within 1500 ms.\n',
    })
  })

  it('fails with a clear message when no publisher is announced', async () => {
    const result = await runCli('grenache', ['sub', '--timeout', '500', 'cli_nobody'], { env: env(1) })
    expect(result.code).toBe(1)
    expect(result.stderr).toBe(
      'grenache sub: error: no publisher of cli_nobody is announced (looked up "cli_nobody/ws" or "cli_nobody").\n',
    )
  })
})
