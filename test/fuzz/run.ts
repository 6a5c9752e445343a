/**
 * npm run fuzz [-- --long] [--seed N] [vitest options, e.g. -t 'rpc-ws']
 *
 * Runs the fuzz targets of test/fuzz (they also run, with their default budget, in `npm test`).
 * `--long` multiplies every budget by 10; `--seed N` replays the cases of another seed (as the
 * `FUZZ_SEED=` a failure prints). The options are passed to the tests as FUZZ_LONG and FUZZ_SEED,
 * since vitest refuses options it does not know.
 */
import { spawn } from 'node:child_process'
import { createRequire } from 'node:module'
import { dirname, join } from 'node:path'
import { parseArgs } from 'node:util'

const { values, tokens } = parseArgs({
  options: { long: { type: 'boolean', default: false }, seed: { type: 'string' } },
  strict: false,
  allowPositionals: true,
  tokens: true,
})
// Everything that is not ours goes to vitest as it was written.
const ours = new Set(
  tokens.filter((t) => t.kind === 'option' && (t.name === 'long' || t.name === 'seed')).map((t) => t.index),
)
const seedValueAt = tokens.find((t) => t.kind === 'option' && t.name === 'seed' && !t.inlineValue)?.index
if (seedValueAt !== undefined) ours.add(seedValueAt + 1)
const rest = process.argv.slice(2).filter((_, index) => !ours.has(index))

const env = { ...process.env }
if (values.long) env.FUZZ_LONG = '1'
if (typeof values.seed === 'string') env.FUZZ_SEED = values.seed

// vitest's bin is not among its exports: find it next to its package.json.
const vitest = join(dirname(createRequire(import.meta.url).resolve('vitest/package.json')), 'vitest.mjs')
const child = spawn(process.execPath, [vitest, 'run', 'test/fuzz', ...rest], { stdio: 'inherit', env })
child.on('exit', (code, signal) => process.exit(code ?? (signal ? 1 : 0)))
