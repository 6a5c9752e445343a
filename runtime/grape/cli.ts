#!/usr/bin/env node
/**
 * The `grape` executable: parses the flags, starts a Grape, prints one ready line, and closes
 * gracefully on SIGINT/SIGTERM. Exit codes: 0 closed normally (or help/version), 1 failed to
 * start or to close, 2 bad flags. All decisions about flags live in `cli-args.ts`.
 *
 * @module
 */
import { toGrenacheError } from '../errors.js'
import { parseGrapeArgs } from './cli-args.js'
import { Grape, type GrapeAddress } from './grape.js'
import type { GrapeOptions } from './grape-options.js'

/** A close that takes longer than this is abandoned (exit 1) rather than leaving the process hanging. */
const CLOSE_TIMEOUT_MS = 10_000
/** After a clean close the process should end by itself; this only catches a handle we leaked. */
const EXIT_BACKSTOP_MS = 1000

main(process.argv.slice(2))

function main(argv: string[]): void {
  // A script may read the ready line and close the pipe (`grape … | head -1`): losing our output
  // (EPIPE) must not crash a running Grape with an unhandled 'error' event.
  for (const stream of [process.stdout, process.stderr]) stream.on('error', () => {})
  const args = parseGrapeArgs(argv)
  switch (args.kind) {
    case 'help':
    case 'version':
      process.stdout.write(args.text.endsWith('\n') ? args.text : `${args.text}\n`)
      return
    case 'error':
      process.stderr.write(`grape: ${args.message}\nRun 'grape --help' for the list of flags.\n`)
      process.exitCode = 2
      return
    case 'run':
      run(args.options)
  }
}

function run(options: GrapeOptions): void {
  // Warnings are traced by the Grape itself under NODE_DEBUG=grenache; a normal run writes nothing.
  const grape = new Grape(options)

  let stopping = false
  const stop = (signal: NodeJS.Signals): void => {
    if (stopping) {
      process.stderr.write(`grape: ${signal} again, exiting without waiting for close\n`)
      process.exit(1)
    }
    stopping = true
    const deadline = setTimeout(() => {
      process.stderr.write(`grape: close did not finish within ${CLOSE_TIMEOUT_MS} ms\n`)
      process.exit(1)
    }, CLOSE_TIMEOUT_MS)
    deadline.unref()
    grape.close().then(
      () => finish(0),
      (err: unknown) => {
        report(err)
        finish(1)
      },
    )
  }
  process.on('SIGINT', stop)
  process.on('SIGTERM', stop)

  function finish(code: number): void {
    process.off('SIGINT', stop)
    process.off('SIGTERM', stop)
    // A failure reported earlier (a start error during a signal's close) keeps its code.
    process.exitCode = Math.max(Number(process.exitCode ?? 0), code)
    setTimeout(() => process.exit(), EXIT_BACKSTOP_MS).unref()
  }

  // The ready line tells an operator how many nodes were found: wait for the join first.
  grape.start().then(
    (address) =>
      grape.joined().then(() => {
        if (!stopping) process.stdout.write(`${readyLine(address, grape.nodeCount)}\n`)
      }),
    (err: unknown) => {
      // start() has already closed whatever it opened.
      report(err)
      finish(1)
    },
  )
}

/**
 * `grape: api http://127.0.0.1:30001, dht 0.0.0.0:20001, 1 DHT node`. Scripts and tests parse the
 * ports from it: keep it stable (documented in README and `--help`).
 */
function readyLine(address: GrapeAddress, nodes: number): string {
  const dhtHost = address.dhtHost.includes(':') ? `[${address.dhtHost}]` : address.dhtHost
  return `grape: api ${address.url}, dht ${dhtHost}:${address.dhtPort}, ${nodes} DHT node${nodes === 1 ? '' : 's'}`
}

function report(err: unknown): void {
  const error = toGrenacheError(err)
  process.stderr.write(`grape: ${error.code}: ${error.message}\n`)
}
