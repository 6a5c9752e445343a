/**
 * The CLI suite: what one `grenache` command costs a shell script, spawn to exit, against a Grape
 * on 127.0.0.1. The floor is `node -e 0` (the runtime's own start) and a bare Node script that
 * posts the same lookup with node:http (and one with fetch); grenache-cli (bash + curl + jq + C
 * helpers) does not install from npm, so it is not in the run. One process at a time, so CPU figures are the process's own.
 */
import { mkdtempSync, rmSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { Grape } from '../../runtime/grape/grape.js'
import { Link } from '../../runtime/link/link.js'
import { RpcServer } from '../../runtime/peer/rpc-server.js'
import { ensureBuilt } from '../codegen/build.js'
import { runTracked } from '../codegen/processes.js'
import { ROOT } from '../lib/children.js'
import { formatNumber, median, percentile, summarize } from '../lib/stats.js'
import type { Suite, SuiteContext } from '../lib/suite.js'
import { formatTable } from '../lib/table.js'

const RUN_TIMEOUT_MS = 30_000
const BIN = join(ROOT, 'dist/runtime/cli/bin')

interface Scenario {
  name: string
  args: (url: string) => string[]
}

const RAW_LOOKUP = `fetch(process.argv[1] + '/lookup', { method: 'POST', body: JSON.stringify({ rid: '1', data: 'bench:cli' }) })
  .then((r) => r.text()).then((t) => process.stdout.write(t + '\\n'))`

const RAW_HTTP_LOOKUP = `const body = JSON.stringify({ rid: '1', data: 'bench:cli' })
require('node:http').request(process.argv[1] + '/lookup', { method: 'POST', headers: { 'content-length': Buffer.byteLength(body) } }, (res) => {
  let text = ''; res.on('data', (d) => (text += d)); res.on('end', () => process.stdout.write(text + '\\n'))
}).end(body)`

const RAW = 'node + node:http /lookup (raw)'

const SCENARIOS: Scenario[] = [
  { name: 'node -e 0 (floor)', args: () => ['-e', '0'] },
  { name: RAW, args: (url) => ['-e', RAW_HTTP_LOOKUP, url] },
  { name: 'node + fetch /lookup', args: (url) => ['-e', RAW_LOOKUP, url] },
  { name: 'grenache lookup', args: () => [join(BIN, 'grenache-lookup.js'), 'bench:cli'] },
  {
    name: 'grenache get',
    args: () => [join(BIN, 'grenache-get.js'), 'e5f96f6f38320f0f33959cb4d3d656452117aadb'],
  },
  { name: 'grenache put', args: () => [join(BIN, 'grenache-put.js'), 'Hello World!'] },
  {
    name: 'grenache put -m (signs)',
    args: () => [join(BIN, 'grenache-put.js'), '-m', '-s', 'bench', 'reading'],
  },
  {
    name: 'grenache request -T ws (lookup + call)',
    args: () => [join(BIN, 'grenache.js'), 'request', '-T', 'ws', 'bench:cli:echo', '"ping"'],
  },
]

interface Figure {
  wallP50: number
  wallP90: number
  cpuMean: number
}

function invocations(context: Pick<SuiteContext, 'quick'>): number {
  return context.quick ? 10 : 40
}

async function measure(
  scenario: Scenario,
  url: string,
  env: NodeJS.ProcessEnv,
  count: number,
): Promise<Figure> {
  const walls: number[] = []
  const cpus: number[] = []
  for (let i = 0; i < count + 2; i++) {
    const result = await runTracked(process.execPath, scenario.args(url), {
      name: scenario.name,
      timeoutMs: RUN_TIMEOUT_MS,
      env,
    })
    if (result.code !== 0)
      throw new Error(`${scenario.name} exited ${result.code}: ${result.stderr.slice(0, 300)}`)
    // The first two warm the file cache.
    if (i >= 2) {
      walls.push(result.wallMs)
      cpus.push(result.cpuMs)
    }
  }
  return {
    wallP50: median(walls),
    wallP90: percentile(walls, 0.9),
    cpuMean: cpus.reduce((a, b) => a + b, 0) / cpus.length,
  }
}

export const cliSuite: Suite = {
  name: 'cli',
  description: 'one grenache command, spawn to exit, against the node floor and a bare node:http lookup',
  budgetMs: (context) => context.rounds * SCENARIOS.length * (invocations(context) + 2) * 2_000 + 300_000,
  async run(context) {
    const build = await ensureBuilt(context.log)
    if (build.from !== 'dist') throw new Error(`the CLI suite runs the built binaries: ${build.why}`)
    const home = mkdtempSync(join(tmpdir(), 'grenache-bench-cli-'))
    const first = new Grape({ apiPort: 0, dhtPort: 0, dhtHost: '127.0.0.1', bootstrap: [] })
    const { dhtPort, url } = await first.start()
    const second = new Grape({
      apiPort: 0,
      dhtPort: 0,
      dhtHost: '127.0.0.1',
      bootstrap: [`127.0.0.1:${dhtPort}`],
    })
    await second.start()
    const link = new Link({ grape: url })
    const echo = new RpcServer({ link, listen: [{ transport: 'ws' }] })
    echo.handle('bench:cli:echo', (request, reply) => reply(null, request.payload))
    const rounds: Record<string, Figure>[] = []
    try {
      await echo.start()
      await link.announce('bench:cli', 4000)
      await link.put('Hello World!')
      const env = { PATH: process.env.PATH, HOME: home, GRENACHE_GRAPE: url }
      const keygen = await runTracked(process.execPath, [join(BIN, 'grenache-keygen.js')], {
        name: 'keygen',
        timeoutMs: RUN_TIMEOUT_MS,
        env,
      })
      if (keygen.code !== 0) throw new Error(`keygen failed: ${keygen.stderr}`)
      for (let round = 1; round <= context.rounds; round++) {
        context.log(`cli round ${round}/${context.rounds}`)
        const figures: Record<string, Figure> = {}
        for (const scenario of SCENARIOS) {
          figures[scenario.name] = await measure(scenario, url, env, invocations(context))
        }
        rounds.push(figures)
      }
    } finally {
      await echo.close()
      await link.close()
      await second.close()
      await first.close()
      rmSync(home, { recursive: true, force: true })
    }
    return { text: report(rounds, invocations(context)), raw: { rounds } }
  },
}

function report(rounds: Record<string, Figure>[], count: number): string {
  const across = (name: string, pick: (figure: Figure) => number) =>
    summarize(rounds.map((round) => pick(round[name] as Figure)))
  const rows = SCENARIOS.map(({ name }) => {
    const wall = across(name, (f) => f.wallP50)
    const ratio = summarize(
      rounds.map((round) => (round[name] as Figure).wallP50 / (round[RAW] as Figure).wallP50),
    )
    return [
      name,
      formatNumber(wall.median),
      formatNumber(across(name, (f) => f.wallP90).median),
      formatNumber(across(name, (f) => f.cpuMean).median),
      `${ratio.median.toFixed(2)}x [${ratio.min.toFixed(2)}–${ratio.max.toFixed(2)}]`,
    ]
  })
  return [
    `## CLI: one command, spawn to exit (${count} runs per round, ${rounds.length} round(s), medians over rounds)`,
    '',
    formatTable(['command', 'wall p50 ms', 'wall p90 ms', 'CPU ms', 'wall / raw'], rows),
    '',
    'raw = a bare `node -e` that posts the same lookup with node:http: the least a Node CLI can do.',
    "The fetch row is the same with Node's fetch, which loads its bundled undici on first use.",
  ].join('\n')
}
