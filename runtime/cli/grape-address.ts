import type { CommandLine, OptionSpec } from './argv.js'
import { UsageError } from './io.js'

/** grenache-cli's defaults: a Grape on this machine, API port 30002. */
const DEFAULT_HOST = '127.0.0.1'
const DEFAULT_PORT = 30002
/** grenache-cli gives curl `max-time 10`. */
const DEFAULT_TIMEOUT_MS = 10_000

/** The options every command that talks to a Grape takes. */
export const GRAPE_OPTIONS: readonly OptionSpec[] = [
  { name: 'grape', short: 'g', value: 'HOST', help: `Grape hostname (default ${DEFAULT_HOST})` },
  { name: 'port', short: 'p', value: 'PORT', help: `Grape API port (default ${DEFAULT_PORT})` },
  { name: 'tls', short: 't', help: 'https to the Grape (through a TLS-terminating proxy)' },
  { name: 'timeout', value: 'MS', help: `give up after MS milliseconds (default ${DEFAULT_TIMEOUT_MS})` },
]

/** The environment variable that names the Grape when no flag does: `host:port` or a URL. */
export const GRAPE_ENV = 'GRENACHE_GRAPE'

/**
 * The Grape's URL: `-g`/`-p`/`-t` win, then `$GRENACHE_GRAPE` (`127.0.0.1:30001` or
 * `http://127.0.0.1:30001`), then grenache-cli's `127.0.0.1:30002`.
 */
export function grapeUrl(line: CommandLine, env: NodeJS.ProcessEnv): string {
  let scheme = 'http'
  let host = DEFAULT_HOST
  let port = DEFAULT_PORT
  const fromEnv = env[GRAPE_ENV]?.trim()
  if (fromEnv) {
    const url = parseEnvUrl(fromEnv)
    scheme = url.protocol.slice(0, -1)
    host = url.hostname
    port = url.port === '' ? (scheme === 'https' ? 443 : 80) : parsePort(url.port, `${GRAPE_ENV} port number`)
  }
  const hostFlag = line.value('grape')
  if (hostFlag !== undefined) {
    if (hostFlag === '') throw new UsageError('empty Grape hostname')
    host = hostFlag
  }
  const portFlag = line.value('port')
  if (portFlag !== undefined) port = parsePort(portFlag, 'Grape port number')
  if (line.has('tls')) scheme = 'https'
  const bracketed = host.includes(':') && !host.startsWith('[') ? `[${host}]` : host
  return `${scheme}://${bracketed}:${port}`
}

function parseEnvUrl(text: string): URL {
  const withScheme = /^[a-z]+:\/\//i.test(text) ? text : `http://${text}`
  let url: URL
  try {
    url = new URL(withScheme)
  } catch {
    throw new UsageError(`${GRAPE_ENV} must be host:port or an http(s) URL, got ${JSON.stringify(text)}`)
  }
  if (url.protocol !== 'http:' && url.protocol !== 'https:') {
    throw new UsageError(`${GRAPE_ENV} must be an http or https URL, got ${JSON.stringify(text)}`)
  }
  return url
}

/** A port as grenache-cli checks it, with its messages (but 65536 is "too big", not "zero"). */
export function parsePort(text: string, what: string): number {
  if (!/^[0-9]+$/.test(text)) throw new UsageError(`invalid ${what}`)
  const port = Number(text)
  if (port === 0) throw new UsageError(`${what} must be greater than zero`)
  if (port > 65535) throw new UsageError(`${what} too big`)
  return port
}

/** `--timeout MS`, default 10 s. */
export function timeoutMs(line: CommandLine): number {
  const text = line.value('timeout')
  if (text === undefined) return DEFAULT_TIMEOUT_MS
  if (!/^[0-9]+$/.test(text) || Number(text) < 1 || Number(text) > 2_147_483_647) {
    throw new UsageError(
      `--timeout must be a whole number of milliseconds from 1 to 2147483647, got ${JSON.stringify(text)}`,
    )
  }
  return Number(text)
}
