/**
 * npm run bench [-- --quick] [--rounds N] [--suite grape|dht|rpc|codegen|cli|codec|replication|soak] [--profile] [--verbose]
 *
 * Runs each suite (ours against the reference, every side in its own processes on 127.0.0.1),
 * prints Markdown tables with ratios, and writes the raw data to bench/results/. Not a test: it
 * asserts nothing about speed. See bench/README.md.
 */
import { mkdirSync, writeFileSync } from 'node:fs'
import { join } from 'node:path'
import { parseArgs } from 'node:util'
import { cliSuite } from './cli/suite.js'
import { codecSuite } from './codec/suite.js'
import { codegenSuite } from './codegen/suite.js'
import { dhtSuite } from './dht/suite.js'
import { grapeSuite } from './grape/suite.js'
import { installChildCleanup, liveChildPids, ROOT, stopAllChildren } from './lib/children.js'
import { describeMachine, loadAverage } from './lib/machine.js'
import type { Suite, SuiteContext } from './lib/suite.js'
import { replicationSuite } from './replication/suite.js'
import { rpcSuite } from './rpc/suite.js'
import { soakSuite } from './soak/suite.js'

const SUITES: Suite[] = [
  grapeSuite,
  dhtSuite,
  rpcSuite,
  codegenSuite,
  cliSuite,
  codecSuite,
  replicationSuite,
  soakSuite,
]

const HELP = `Usage: npm run bench -- [options]

  --quick          1 round, shorter windows: a fast check of the harness
  --rounds N       rounds per suite (default 3; 1 with --quick)
  --suite NAME     run only this suite (repeatable): ${SUITES.map((suite) => suite.name).join(', ')}
                   (soak runs only when named: 3 minutes, 40 s with --quick)
  --profile        run the measured processes under node --cpu-prof (bench/results/profiles/)
                   and print the top self-time functions; slows them down
  --verbose        forward the output of the child processes
  --help           this text
`

const { values } = parseArgs({
  options: {
    quick: { type: 'boolean', default: false },
    rounds: { type: 'string' },
    suite: { type: 'string', multiple: true },
    profile: { type: 'boolean', default: false },
    verbose: { type: 'boolean', default: false },
    help: { type: 'boolean', default: false },
  },
})

if (values.help) {
  process.stdout.write(HELP)
  process.exit(0)
}

const rounds = values.rounds === undefined ? (values.quick ? 1 : 3) : Number(values.rounds)
if (!Number.isInteger(rounds) || rounds < 1 || rounds > 20) {
  process.stderr.write(`--rounds must be an integer from 1 to 20\n${HELP}`)
  process.exit(2)
}
const unknown = (values.suite ?? []).filter((name) => !SUITES.some((suite) => suite.name === name))
if (unknown.length > 0) {
  process.stderr.write(`unknown suite(s): ${unknown.join(', ')}\n${HELP}`)
  process.exit(2)
}
const suites = SUITES.filter((suite) =>
  values.suite ? values.suite.includes(suite.name) : suite.onlyWhenNamed !== true,
)

const resultsDir = join(ROOT, 'bench', 'results')
mkdirSync(resultsDir, { recursive: true })
const context: SuiteContext = {
  quick: values.quick,
  rounds,
  profile: values.profile,
  verbose: values.verbose,
  resultsDir,
  log: (line) => process.stderr.write(`bench: ${line}\n`),
}

// Nothing may outlive the bench: children are killed on exit, on signals, and at this deadline.
const deadlineMs = suites.reduce((total, suite) => total + suite.budgetMs(context), 60_000)
installChildCleanup(deadlineMs)

const startedAt = new Date()
const loadBefore = loadAverage()
const out = (text = '') => process.stdout.write(`${text}\n`)
out(`# grenache-gen bench, ${startedAt.toISOString()}${values.quick ? ' (--quick)' : ''}`)
out()
out(`- ${describeMachine()}`)
out(`- load average before: ${loadBefore}`)
out(
  `- suites: ${suites.map((suite) => suite.name).join(', ')}; rounds: ${rounds}${values.profile ? '; profiling' : ''}`,
)

const raw: Record<string, unknown> = {}
try {
  for (const suite of suites) {
    context.log(`suite ${suite.name}: ${suite.description}`)
    const report = await suite.run(context)
    raw[suite.name] = report.raw
    out()
    out(report.text)
  }
} catch (err) {
  process.stderr.write(`bench: failed: ${(err as Error)?.stack ?? err}\n`)
  await stopAllChildren()
  process.exit(1)
}

const loadAfter = loadAverage()
const seconds = ((Date.now() - startedAt.getTime()) / 1000).toFixed(0)
out()
out(`- load average after: ${loadAfter} (1/5/15 min); ran ${seconds} s`)
const file = join(resultsDir, `bench-${startedAt.toISOString().replace(/[:.]/g, '-')}.json`)
writeFileSync(
  file,
  JSON.stringify(
    { startedAt, node: process.version, loadBefore, loadAfter, quick: values.quick, rounds, results: raw },
    null,
    2,
  ),
)
out(`- raw results: ${file.slice(ROOT.length)}`)

await stopAllChildren()
const leftover = liveChildPids()
if (leftover.length > 0) process.stderr.write(`bench: child processes still alive: ${leftover.join(', ')}\n`)
process.exit(0)
