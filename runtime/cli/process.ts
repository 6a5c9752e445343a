import { processIo } from './io.js'
import { runCli } from './main.js'

/** The executables' body: run one command line in this process and exit with its status. */
export function main(command: string | undefined): void {
  // `grenache get … | head -1` closes our stdout early: that is not a failure worth a stack trace.
  for (const stream of [process.stdout, process.stderr]) stream.on('error', () => {})
  const io = processIo()
  runCli(command, process.argv.slice(2), io).then(
    (code) => {
      process.exitCode = code
      // Everything is closed by now; stdin may still be open (a terminal, a pipe nobody ends).
      process.stdin.destroy()
      setTimeout(() => process.exit(), 1000).unref()
    },
    (err: unknown) => {
      process.stderr.write(`grenache: internal error: ${err instanceof Error ? err.stack : String(err)}\n`)
      process.exit(1)
    },
  )
}
