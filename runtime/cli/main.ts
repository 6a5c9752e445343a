import { isGrenacheError } from '../errors.js'
import { packageVersion } from '../util/package-version.js'
import { optionRows, parseCommandLine } from './argv.js'
import type { Command, CommandContext } from './command.js'
import { type CliIo, CommandFailure, EXIT, UsageError, write } from './io.js'
import { COMMANDS, type CommandEntry } from './registry.js'

const COMMON = [
  { name: 'help', short: 'h', help: 'print this help and exit' },
  { name: 'version', short: 'V', help: 'print the version and exit' },
]

/**
 * Runs `grenache <argv>` (`command` undefined) or one command (`grenache-put <argv>`: `command`
 * names it) and resolves with the exit status: 0 done, 1 failed, 2 bad usage. Never exits the
 * process and never rejects.
 */
export async function runCli(
  command: string | undefined,
  argv: readonly string[],
  io: CliIo,
): Promise<number> {
  if (command === undefined) return runTop(argv, io)
  const found = COMMANDS.find((each) => each.name === command)
  if (!found) throw new Error(`no command ${command}`)
  return runCommand(found, found.alias ?? `grenache ${found.name}`, argv, io)
}

async function runTop(argv: readonly string[], io: CliIo): Promise<number> {
  const [first, ...rest] = argv
  if (first === undefined || first === '-h' || first === '--help' || first === 'help') {
    const topic = first === 'help' ? COMMANDS.find((each) => each.name === rest[0]) : undefined
    const text = topic ? helpText(topic, await topic.load(), `grenache ${topic.name}`) : topHelp()
    if (first !== undefined) {
      await write(io.stdout, text)
      return EXIT.ok
    }
    await write(io.stderr, `grenache: error: missing COMMAND.\n${text}`)
    return EXIT.usage
  }
  if (first === '-V' || first === '--version') {
    await write(io.stdout, `grenache (grenache-gen) ${packageVersion()}\n`)
    return EXIT.ok
  }
  const found = COMMANDS.find((each) => each.name === first || each.alias === first)
  if (!found) {
    await write(
      io.stderr,
      `grenache: error: unknown command ${JSON.stringify(first)}.\nTry 'grenache --help'.\n`,
    )
    return EXIT.usage
  }
  return runCommand(found, `grenache ${found.name}`, rest, io)
}

async function runCommand(
  entry: CommandEntry,
  program: string,
  argv: readonly string[],
  io: CliIo,
): Promise<number> {
  const command = await entry.load()
  const context: CommandContext = {
    io,
    program,
    warn: (text) => write(io.stderr, `${program}: warning: ${text}.\n`),
    print: (text) => write(io.stdout, text),
  }
  try {
    const line = parseCommandLine(argv, [...command.options, ...COMMON])
    // As getopt does: help or version anywhere wins over everything else.
    if (line.has('help')) {
      await write(io.stdout, helpText(entry, command, program))
      return EXIT.ok
    }
    if (line.has('version')) {
      await write(io.stdout, `${program} (grenache-gen) ${packageVersion()}\n`)
      return EXIT.ok
    }
    return await command.run(line, context)
  } catch (err) {
    return report(err, program, io)
  }
}

async function report(err: unknown, program: string, io: CliIo): Promise<number> {
  const debug = Boolean(io.env.GRENACHE_CLI_DEBUG)
  if (err instanceof UsageError) {
    await write(
      io.stderr,
      `${program}: error: ${sentence(err.message)}\nTry '${program} --help' for more information.\n`,
    )
    return EXIT.usage
  }
  let text: string
  if (err instanceof CommandFailure) text = err.message
  else if (isGrenacheError(err)) text = `${err.message} (${err.code})`
  else text = `internal error: ${err instanceof Error ? err.message : String(err)}`
  await write(io.stderr, `${program}: error: ${sentence(text)}\n`)
  if (debug && err instanceof Error) await write(io.stderr, `${err.stack ?? ''}\n`)
  return EXIT.failed
}

/** grenache-cli ends every message with a period. */
function sentence(text: string): string {
  return /[.!?]$/.test(text) ? text : `${text}.`
}

export function helpText(entry: CommandEntry, command: Command, program: string): string {
  const examples = command.examples.map(([line, what]) => [line.replaceAll('$0', program), what] as const)
  const width = Math.max(...examples.map(([line]) => line.length)) + 3
  return [
    `${program} ${entry.summary}`,
    '',
    `Usage: ${program} ${command.usage}`,
    '',
    'Options:',
    ...optionRows([...command.options, ...COMMON]),
    '',
    ...(command.notes ? [...command.notes, ''] : []),
    'Examples:',
    ...examples.map(([line, what]) => `  ${line.padEnd(width)}${what}`),
    '',
    `The Grape is -g/-p, else $GRENACHE_GRAPE (host:port or URL), else 127.0.0.1:30002.`,
    'Exit status: 0 done, 1 failed, 2 bad usage. GRENACHE_CLI_DEBUG=1 adds stack traces.',
    '',
  ].join('\n')
}

function topHelp(): string {
  const width = Math.max(...COMMANDS.map((command) => command.name.length)) + 3
  return [
    'grenache: the Grenache command line (keys, DHT items, lookups and calls)',
    '',
    'Usage: grenache COMMAND [OPTION]... [ARGUMENT]...',
    '',
    'Commands:',
    ...COMMANDS.map((command) => `  ${command.name.padEnd(width)}${command.summary}`),
    '',
    'grenache-keygen, grenache-put, grenache-get, grenache-lookup and grenache-announce are the same',
    "commands under grenache-cli's names. `grenache COMMAND --help` describes one.",
    '',
    'Exit status: 0 done, 1 failed, 2 bad usage.',
    '',
  ].join('\n')
}
