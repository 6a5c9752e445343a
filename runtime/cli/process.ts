import { processIo } from './io.js'
import { runCli } from './main.js'

/** The executables' body: run one command line in this process and exit with its status. */
export function main(command: string | undefined): void {
  // `grenache get … | head -1` closes our stdout early: that is not a failure worth a stack trace.
  for (const stream of [process.stdout, process.stderr]) stream.on('error', () => {})
  const io = processIo()
  // The library's timers are unref'd (a library must not hold a process open); a command line does
  // wait for them, e.g. for a publisher that has yet to be announced.
  const keepAlive = setInterval(() => {}, 1 << 30)
  runCli(command, process.argv.slice(2), io).then(
    (code) => {
      clearInterval(keepAlive)
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
