import { isGrenacheError, toGrenacheError } from '../errors.js'
import { Link } from '../link/link.js'
import { type CommandLine, type OptionSpec, parseCommandLine } from './argv.js'
import { grapeUrl, timeoutMs } from './grape-address.js'
import { type CliIo, CommandFailure, write } from './io.js'

/** What one `grenache` command takes and does (its name and summary are in `registry.ts`). */
export interface Command {
  /** After the program name in `Usage:`. */
  usage: string
  options: readonly OptionSpec[]
  /** `[command line, what it does]`; `$0` stands for the program. */
  examples: readonly (readonly [string, string])[]
  /** Paragraphs after the options. */
  notes?: readonly string[]
  run(line: CommandLine, context: CommandContext): Promise<number>
}

/** What a command runs with. */
export interface CommandContext {
  io: CliIo
  /** How messages name the program: `grenache-put` or `grenache put`. */
  program: string
  /** `<program>: warning: <text>.` on stderr. */
  warn(text: string): Promise<void>
  /** Writes to stdout. */
  print(text: string): Promise<void>
}

export function parse(argv: readonly string[], command: Command): CommandLine {
  return parseCommandLine(argv, command.options)
}

/**
 * Runs `body` with a Link to the Grape the command line names, closed afterwards. Failures that
 * mean "the Grape is not there" become one clear message instead of a miss or an empty answer.
 */
export async function withLink<T>(
  line: CommandLine,
  context: CommandContext,
  body: (link: Link, timeout: number) => Promise<T>,
): Promise<T> {
  const url = grapeUrl(line, context.io.env)
  const timeout = timeoutMs(line)
  // A command makes a call or two: a connection each, and undici's pool is never loaded.
  const link = new Link({ grape: url, requestTimeoutMs: timeout, maxAttempts: 1, connections: 0 })
  try {
    return await body(link, timeout)
  } catch (err) {
    throw unreachable(err, url, timeout) ?? err
  } finally {
    // A Grape that never answered must not keep the process waiting on close.
    await Promise.race([link.close(), new Promise((resolve) => setTimeout(resolve, 100).unref())])
  }
}

/** The failure to print when `err` says the Grape could not be reached, else undefined. */
export function unreachable(err: unknown, url: string, timeout: number): CommandFailure | undefined {
  if (!isGrenacheError(err)) return undefined
  switch (err.code) {
    case 'ERR_CONNECTION_REFUSED':
    case 'ERR_CONNECTION_FAILED':
    case 'ERR_CONNECTION_RESET':
      return new CommandFailure(`cannot reach the Grape at ${url}: ${err.message} (${err.code})`)
    case 'ERR_TIMEOUT':
      return new CommandFailure(`the Grape at ${url} did not answer within ${timeout} ms (${err.code})`)
    default:
      return undefined
  }
}

/** A Grape's own text (`All queries failed`) from a Link error (`Grape put: All queries failed`). */
export function grapeText(err: unknown): string {
  const message = toGrenacheError(err).message
  return /^Grape \w+: (.*)$/s.exec(message)?.[1] ?? message
}

export async function printTo(stream: NodeJS.WritableStream, text: string): Promise<void> {
  await write(stream, text)
}
