import { type ParseArgsConfig, parseArgs } from 'node:util'
import { isGrenacheError } from '../errors.js'
import { packageVersion } from '../util/package-version.js'
import { type GrapeOptions, resolveGrapeOptions } from './grape-options.js'

/** What `grape <argv>` should do: run a Grape, print help or the version, or fail with a message. */
export type GrapeArgs =
  | { kind: 'run'; options: GrapeOptions }
  | { kind: 'help'; text: string }
  | { kind: 'version'; text: string }
  | { kind: 'error'; message: string }

type OptionKey = Exclude<keyof GrapeOptions, 'verify'>

interface Flag {
  /** The `GrapeOptions` field the flag sets. */
  key: OptionKey
  /** Every spelling, without dashes, as the reference's yargs accepts them (`b` is `-b` and `--b`). */
  names: readonly string[]
  kind: 'integer' | 'string' | 'list'
  required?: true
  help: string
}

/** The reference CLI's flags (grenache-grape 1.0.0 `bin/grape.js`) plus ours, in help order. */
const FLAGS: readonly Flag[] = [
  flag('dhtPort', 'dp dht_port', 'integer', 'UDP port of the DHT node; 0 picks a free one', true),
  flag('apiPort', 'aph api_port', 'integer', 'port of the HTTP API; 0 picks a free one', true),
  flag('bootstrap', 'bn bootstrap', 'list', "DHT nodes, 'host:port,...'; '' = isolated", true),
  flag('host', 'b bind', 'string', 'address the API binds (default 127.0.0.1)'),
  flag('dhtHost', 'dht_host', 'string', 'address the DHT binds (default 0.0.0.0)'),
  flag('dhtConcurrency', 'dc dht_concurrency', 'integer', 'parallel DHT queries per lookup (default 16)'),
  flag('dhtMaxTables', 'dht_maxTables', 'integer', 'routing tables for recent keys (default 5000)'),
  flag('dhtMaxValues', 'dht_maxValues', 'integer', 'DHT items stored here (default 5000)'),
  flag('dhtPeerMaxAgeMs', 'dpa dht_peer_maxAge', 'integer', 'announced peer kept, ms (default 120000)'),
  flag('dhtNodeLivenessMs', 'dnl dht_nodeLiveness', 'integer', 'quiet bucket re-check, ms (default 300000)'),
  flag('maxPayloadBytes', 'check_maxPayloadSize', 'integer', 'largest API body, bytes (default 8192)'),
  flag('lookupCacheMaxAgeMs', 'cache_maxAge', 'integer', 'seen peer answers lookups, ms (default dpa/2)'),
  flag('lookupRefreshMs', 'lookup_refresh', 'integer', 're-ask the DHT after, ms (default 1000)'),
  flag('allowedOrigins', 'allowed_origins', 'list', "browser origins let in, 'https://a.example,...' or '*'"),
  flag('allowedHosts', 'allowed_hosts', 'list', "Host names let in besides IPs and localhost, or '*'"),
]

function flag(key: OptionKey, names: string, kind: Flag['kind'], help: string, required = false): Flag {
  return { key, names: names.split(' '), kind, help, ...(required ? { required: true as const } : {}) }
}

const USAGE = "Usage: grape --dp <dht-port> --aph <http-api-port> --bn <host:port,...|''> [options]"

const EXAMPLES = [
  "grape --dp 20001 --aph 30001 --bn '127.0.0.1:20002,127.0.0.1:20003'",
  "grape --dp 20002 --aph 40001 --bn '127.0.0.1:20001' -b 127.0.0.1",
  "grape --dp 0 --aph 0 --bn '' --dht_host 127.0.0.1    # isolated, free ports, loopback only",
]

// Every value flag is `multiple` so that a flag given twice (or under both names) is caught
// instead of silently keeping one of them.
const PARSE_OPTIONS: NonNullable<ParseArgsConfig['options']> = {
  help: { type: 'boolean', short: 'h' },
  version: { type: 'boolean', short: 'V' },
  ...Object.fromEntries(
    FLAGS.flatMap((flag) => flag.names.map((name) => [name, { type: 'string', multiple: true }])),
  ),
}

/**
 * Parses the `grape` command line (without `node` and the script). Pure apart from reading this
 * package's version on `--version`. Absent flags are left out of `options`, so the Grape applies
 * its documented defaults (the reference 1.0.0 CLI overwrote them with `undefined`, bug G1).
 * Values are checked with `resolveGrapeOptions`, so messages match the library's, naming the flag.
 */
export function parseGrapeArgs(argv: readonly string[]): GrapeArgs {
  let values: Record<string, string[] | boolean | undefined>
  try {
    values = parseArgs({
      args: shortEquals(argv),
      options: PARSE_OPTIONS,
      strict: true,
      allowPositionals: false,
    }).values as typeof values
  } catch (err) {
    return { kind: 'error', message: parseErrorMessage(err) }
  }
  if (values.help) return { kind: 'help', text: helpText() }
  if (values.version) return { kind: 'version', text: packageVersion() }

  const options: Record<string, unknown> = {}
  const missing: string[] = []
  for (const flag of FLAGS) {
    const given = flag.names.flatMap((name) => (values[name] as string[] | undefined) ?? [])
    if (given.length > 1) return error(`${display(flag)} was given ${given.length} times; give it once`)
    const text = given[0]
    if (text === undefined) {
      if (flag.required) missing.push(display(flag))
      continue
    }
    options[flag.key] = convert(flag, text)
  }
  if (missing.length > 0) {
    const hint = missing.includes('--bn/--bootstrap') ? " (--bn '' gives an isolated node)" : ''
    return error(`missing required flag${missing.length > 1 ? 's' : ''} ${missing.join(', ')}${hint}`)
  }
  try {
    resolveGrapeOptions(options as unknown as GrapeOptions)
  } catch (err) {
    if (isGrenacheError(err, 'ERR_INVALID_OPTION')) return error(renameOption(err.message))
    throw err
  }
  return { kind: 'run', options: options as unknown as GrapeOptions }
}

/** The `--help` text: usage, every flag with its aliases, examples. */
export function helpText(): string {
  const rows: [string, string][] = [
    ...FLAGS.map((flag): [string, string] => [
      `${display(flag, ', ')}${flag.kind === 'string' ? ' <host>' : flag.kind === 'list' ? ' <list>' : ' <n>'}`,
      `${flag.help}${flag.required ? ' [required]' : ''}`,
    ]),
    ['-h, --help', 'print this help and exit'],
    ['-V, --version', 'print the version and exit'],
  ]
  const width = Math.max(...rows.map(([left]) => left.length)) + 2
  return [
    USAGE,
    '',
    'Starts a Grape: one BitTorrent DHT node plus the HTTP API that Grenache Links talk to.',
    '',
    'Options:',
    ...rows.map(([left, right]) => `  ${left.padEnd(width)}${right}`),
    '',
    "With -b, the Grape also stores its own announces under that address, as the reference's does.",
    '',
    'Examples:',
    ...EXAMPLES.map((line) => `  ${line}`),
    '',
    'When ready it prints one line to stdout:',
    '  grape: api http://<host>:<api-port>, dht <dht-host>:<dht-port>, <n> DHT nodes',
    'Exit codes: 0 closed on SIGINT/SIGTERM (or help, version), 1 failed to start or close, 2 bad flags.',
    '',
  ].join('\n')
}

function error(message: string): GrapeArgs {
  return { kind: 'error', message }
}

/** One-letter flags and the long name `util.parseArgs` knows them by (`b` is its own long name). */
const SHORT_NAMES: Record<string, string> = { b: 'b', h: 'help', V: 'version' }

/**
 * yargs reads `-b=host` as `-b host`; `util.parseArgs` would take `=host` as the value (or, for
 * `-h=x`, as more one-letter flags). So `-X=v` becomes `--long=v`, up to a `--`.
 */
function shortEquals(argv: readonly string[]): string[] {
  const end = argv.indexOf('--')
  return argv.map((arg, i) => {
    const long = /^-([a-zA-Z])=/.test(arg) ? SHORT_NAMES[arg[1] as string] : undefined
    return long !== undefined && (end === -1 || i < end) ? `--${long}${arg.slice(2)}` : arg
  })
}

/** `--dp/--dht_port`, `-b/--bind`: how messages name a flag. */
function display(flag: Flag, separator = '/'): string {
  return flag.names.map((name) => (name.length === 1 ? `-${name}` : `--${name}`)).join(separator)
}

/**
 * Numbers are converted only when they look like decimal numbers, so that `abc`, `''` or `0x10`
 * reach the option check as the text given (`got "abc"`), never as a surprising 0 or NaN.
 */
function convert(flag: Flag, text: string): unknown {
  if (flag.kind === 'string') return text
  // Spaces after commas are forgiven; empty items are dropped, as the reference does.
  if (flag.kind === 'list')
    return text
      .split(',')
      .map((item) => item.trim())
      .filter((item) => item !== '')
  return /^-?\d+(\.\d+)?$/.test(text) ? Number(text) : text
}

/** `options.apiPort must be …` → `--aph/--api_port must be …`; `options.bootstrap[1]` → `… item 2`. */
function renameOption(message: string): string {
  return message.replace(/^options\.(\w+)(?:\[(\d+)\])?/, (whole, key: string, index?: string) => {
    const flag = FLAGS.find((candidate) => candidate.key === key)
    if (!flag) return whole
    return index === undefined ? display(flag) : `${display(flag)} item ${Number(index) + 1}`
  })
}

/** Rewords `util.parseArgs`'s errors into one line that names the flag and the rule. */
function parseErrorMessage(err: unknown): string {
  const code = (err as { code?: unknown }).code
  const message = err instanceof Error ? err.message : String(err)
  const quoted = /'([^']*)'/.exec(message)?.[1] ?? ''
  // parseArgs names `-b` as `--b`, its long form here.
  const name = quoted.replace(/ <value>$/, '').replace(/^--(\w)$/, '-$1')
  switch (code) {
    case 'ERR_PARSE_ARGS_UNKNOWN_OPTION':
      return `unknown flag ${name}`
    case 'ERR_PARSE_ARGS_UNEXPECTED_POSITIONAL':
      // The argument itself may hold a quote: take everything up to the sentence's end.
      return `unexpected argument "${/'(.*)'\. /s.exec(message)?.[1] ?? quoted}": grape takes only flags`
    case 'ERR_PARSE_ARGS_INVALID_OPTION_VALUE':
      if (/does not take an argument/.test(message)) return `${name} takes no value`
      return `${name} needs a value (write ${name}=<value> for a value starting with "-")`
    default:
      return message
  }
}
