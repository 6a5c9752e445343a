import { mkdtempSync, rmSync } from 'node:fs'
import { createServer } from 'node:net'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { PassThrough, Readable } from 'node:stream'
import fc from 'fast-check'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { type OptionSpec, parseCommandLine } from '../../runtime/cli/argv.js'
import { type CliIo, UsageError } from '../../runtime/cli/io.js'
import { runCli } from '../../runtime/cli/main.js'
import { COMMANDS } from '../../runtime/cli/registry.js'
import { parseGrapeArgs } from '../../runtime/grape/cli-args.js'
import { resolveGrapeOptions } from '../../runtime/grape/grape-options.js'
import { settledHandles, socketHandles } from '../helpers/handles.js'
import { createTestnet, type Testnet } from '../helpers/testnet.js'
import { anyText, argv, plainOperand } from './cli-argv.js'
import {
  budget,
  cases,
  fuzzAssert,
  type ProcessWatch,
  runBatches,
  timeoutFor,
  watchProcess,
  within,
} from './harness.js'
import { hex } from './item-data.js'

/**
 * The command lines of `grenache` and `grape`: the parser of every command under any tokens, the
 * `grape` flags under any values, and whole `grenache` runs in this process against two Grapes.
 * Every line is parsed or refused with a usage error, every run ends with 0, 1 or 2 and a message
 * of the documented form, none hangs, and a good put and get work afterwards.
 */

const COMMON: OptionSpec[] = [
  { name: 'help', short: 'h', help: '' },
  { name: 'version', short: 'V', help: '' },
]
const USAGE =
  /^(unknown option .+|option \S+ (needs a value \(.+\)|takes no value|was given more than once))$/s

const GRAPE_FLAGS = [
  ...[
    'dp',
    'dht_port',
    'aph',
    'api_port',
    'bn',
    'bootstrap',
    'b',
    'bind',
    'dht_host',
    'dc',
    'dht_concurrency',
  ],
  ...['dht_maxTables', 'dht_maxValues', 'dpa', 'dht_peer_maxAge', 'dnl', 'dht_nodeLiveness', 'cache_maxAge'],
  ...[
    'check_maxPayloadSize',
    'lookup_refresh',
    'allowed_origins',
    'allowed_hosts',
    'help',
    'h',
    'version',
    'V',
  ],
]
const grapeValue = fc.oneof(
  fc.constantFrom('0', '20001', '-1', '65536', '1e3', '0x10', '1.5', ' 7', '99999999999999999999', ''),
  fc.constantFrom(
    '127.0.0.1:1',
    ' , ',
    '[::1]:1,127.0.0.1:2',
    'x',
    'a:b:c',
    '*',
    'https://a.example',
    'grape:1',
  ),
  anyText,
)
const grapeToken = fc.oneof(
  fc
    .tuple(fc.constantFrom(...GRAPE_FLAGS), grapeValue)
    .map(([f, v]) => [f.length === 1 ? `-${f}` : `--${f}`, v]),
  fc
    .tuple(fc.constantFrom(...GRAPE_FLAGS), grapeValue)
    .map(([f, v]) => [`${f.length === 1 ? '-' : '--'}${f}=${v}`]),
  fc.constantFrom(['--dp'], ['--'], ['-x'], ['positional'], ['-bh'], ['--unknown=1']),
  fc.constantFrom(['--help'], ['-h'], ['--version'], ['-V']),
)
const grapeArgv = fc
  .tuple(fc.boolean(), fc.array(grapeToken, { maxLength: 5 }))
  .map(([required, tokens]) => [
    ...(required ? ['--dp', '0', '--aph', '0', '--bn', ''] : []),
    ...tokens.flat(),
  ])

describe('fuzz: the command-line parsers', () => {
  let specsOf: Map<string, OptionSpec[]>
  beforeAll(async () => {
    specsOf = new Map()
    for (const entry of COMMANDS) specsOf.set(entry.name, [...(await entry.load()).options, ...COMMON])
  })

  it('parses any command line of every command into options it declares, or refuses it with a usage error', async () => {
    const line = fc.constantFrom(...COMMANDS.map((c) => c.name)).chain((name) => {
      const specs = specsOf.get(name) as OptionSpec[]
      return argv(specs, { value: () => anyText, operand: anyText }).map((args) => ({ specs, args }))
    })
    await fuzzAssert(
      'cli-parse',
      fc.property(line, ({ specs, args }) => {
        let parsed: ReturnType<typeof parseCommandLine>
        try {
          parsed = parseCommandLine(args, specs)
        } catch (err) {
          expect(err).toBeInstanceOf(UsageError)
          expect((err as Error).message).toMatch(USAGE)
          return
        }
        for (const given of parsed.given) {
          const spec = specs.find((s) => s.name === given.name)
          expect(spec, given.name).toBeDefined()
          expect(typeof given.value).toBe(spec?.value ? 'string' : 'boolean')
        }
        for (const spec of specs.filter((s) => s.value && !s.multiple)) {
          expect(parsed.values(spec.name).length).toBeLessThanOrEqual(1)
        }
        // An operand is a whole token, and one that reads as an option only came after `--`.
        const end = args.indexOf('--')
        for (const operand of parsed.operands) {
          const at = args.lastIndexOf(operand)
          expect(at, operand).toBeGreaterThanOrEqual(0)
          const optionLike = operand.length > 1 && operand.startsWith('-') && !/^-\.?\d/.test(operand)
          if (optionLike) expect(end >= 0 && at > end, operand).toBe(true)
        }
      }),
      budget(3000),
    )
  })

  it('reads any grape command line as a run, help, version or a one-line error, never a throw', async () => {
    const kinds = new Set<string>()
    await fuzzAssert(
      'grape-args',
      fc.property(grapeArgv, (args) => {
        const parsed = parseGrapeArgs(args)
        kinds.add(parsed.kind)
        if (parsed.kind === 'error') expect(parsed.message).toMatch(/^[^\n]+$/)
        if (parsed.kind !== 'run') return
        const { dhtPort, apiPort, bootstrap } = parsed.options
        expect([typeof dhtPort, typeof apiPort, Array.isArray(bootstrap)]).toEqual(['number', 'number', true])
        resolveGrapeOptions(parsed.options)
      }),
      budget(3000),
    )
    expect([...kinds].sort()).toEqual(['error', 'help', 'run', 'version'])
  })
})

describe('fuzz: grenache runs', () => {
  const before = socketHandles()
  const RUNS = budget(150)
  const home = mkdtempSync(join(tmpdir(), 'grenache-fuzz-'))
  let net: Testnet
  let watch: ProcessWatch
  let closedPort: number

  beforeAll(async () => {
    watch = watchProcess()
    net = await createTestnet(2)
    const server = createServer()
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve))
    closedPort = (server.address() as { port: number }).port
    await new Promise<void>((resolve) => server.close(() => resolve()))
  })
  afterAll(async () => {
    watch?.stop()
    await net?.close()
    rmSync(home, { recursive: true, force: true })
    expect(await settledHandles(before, 5000)).toEqual(before)
  })

  /** Runs `grenache <args>` in this process, output captured; its signal aborts after 1 s (ending a `sub`). */
  async function run(args: string[]): Promise<{ code: number; stdout: string; stderr: string }> {
    const out: Buffer[] = []
    const err: Buffer[] = []
    const io: CliIo = {
      stdout: new PassThrough().on('data', (chunk: Buffer) => out.push(chunk)),
      stderr: new PassThrough().on('data', (chunk: Buffer) => err.push(chunk)),
      stdin: Object.assign(Readable.from([]), { isTTY: false }),
      env: { GRENACHE_GRAPE: net.urls[0] as string },
      home,
      signal: AbortSignal.timeout(1000),
    }
    const code = await within(runCli(undefined, args, io), 20_000, `grenache ${JSON.stringify(args)}`)
    return { code, stdout: Buffer.concat(out).toString(), stderr: Buffer.concat(err).toString() }
  }

  /** Values that keep every run on loopback: the Grape, a closed port, or refused outright. */
  function loopbackValue(spec: OptionSpec): fc.Arbitrary<string> {
    const port = String(net.grapes[0]?.address.apiPort)
    switch (spec.name) {
      case 'grape':
        return fc.constantFrom('127.0.0.1', '', '::1', '[::1]')
      case 'port':
        return fc.constantFrom(port, String(closedPort), '0', '65536', 'x')
      case 'worker':
        return fc.constantFrom(`127.0.0.1:${closedPort}`, `[::1]:${closedPort}`, ':1', 'x', '127.0.0.1:0')
      case 'timeout':
        return fc.constantFrom('1', '300', '2000', '0', 'x', '2147483648')
      case 'transport':
        return fc.constantFrom('http', 'ws', 'zmq', 'https', 'wss', 'udp', '')
      case 'ca':
      case 'cert':
      case 'key':
        return fc.constantFrom('/nonexistent/x.pem', '')
      default:
        return anyText.filter((text) => !text.startsWith('-'))
    }
  }

  it(
    `ends each of ${RUNS} runs with 0, 1 or 2 and a message of the documented form`,
    async () => {
      // `feed` is left out: it may join a multicast group on a real interface.
      const names = COMMANDS.map((c) => c.name).filter((name) => name !== 'feed')
      const operand = fc.oneof(plainOperand, hex(20))
      const guarded = ['grape', 'worker', 'port', 'ca', 'cert', 'key']
      const specsByName = new Map<string, OptionSpec[]>()
      for (const name of names) {
        const entry = COMMANDS.find((c) => c.name === name) as (typeof COMMANDS)[number]
        specsByName.set(name, [...(await entry.load()).options, ...COMMON])
      }
      const commandLine = fc
        .constantFrom(...names)
        .chain((name) =>
          argv(specsByName.get(name) as OptionSpec[], { value: loopbackValue, operand, guarded }).map(
            (args) => [name, '--timeout', '2000', ...args],
          ),
        )
      const codes = new Map<number, number>()
      let good = 0
      await runBatches(cases('cli-runs', commandLine, RUNS), {
        target: 'cli-runs',
        watch,
        concurrency: 4,
        batch: 30,
        show: (args) => JSON.stringify(args),
        async probe(args) {
          const { code, stderr } = await run(args)
          codes.set(code, (codes.get(code) ?? 0) + 1)
          const program = `grenache ${args[0]}`
          if (stderr.includes('internal error')) return `exit ${code}: ${stderr}`
          // Failures speak in grenache-cli's form: `<program>: error: ….` or `<program>: warning: ….`
          // (a message may run over lines: an OpenSSL reason ends in a newline).
          if (code === 1 && stderr !== '' && !(stderr.startsWith(`${program}: `) && stderr.endsWith('.\n'))) {
            return `exit 1: ${stderr}`
          }
          if (code === 2 && !stderr.includes(`Try '${program} --help'`)) return `exit 2: ${stderr}`
          return code === 0 || code === 1 || code === 2 ? undefined : `exit ${code}`
        },
        async checkpoint() {
          const value = `good ${good++}`
          const put = await run(['put', value])
          const hash = put.stdout.trim()
          const got = await run(['get', hash])
          if (put.code !== 0 || got.stdout !== `${value}\n`)
            throw new Error(`put ${JSON.stringify(put)}, get ${JSON.stringify(got)}`)
        },
      })
      for (const code of [0, 1, 2]) expect(codes.get(code) ?? 0, `exit ${code}`).toBeGreaterThan(0)
    },
    timeoutFor(8000),
  )
})
