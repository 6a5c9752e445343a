import { readFileSync } from 'node:fs'
import type { Discovery, DiscoveryMode } from '../peer/discovery.js'
import type { TlsOptions } from '../transport/types.js'
import type { CommandLine, OptionSpec } from './argv.js'
import { parsePort } from './grape-address.js'
import { UsageError } from './io.js'

/** How a command finds workers or publishers: the discovery name first, then the plain name. */
export type CliDiscovery = DiscoveryMode | 'auto'

export const DISCOVERY_OPTION: OptionSpec = {
  name: 'discovery',
  value: 'MODE',
  help: 'auto (default): SERVICE/<transport>, then SERVICE; tagged; plain (reference peers)',
}

export const TLS_OPTIONS: readonly OptionSpec[] = [
  { name: 'ca', value: 'FILE', help: 'https/wss: the CA (PEM) that signed the peer certificate' },
  { name: 'cert', value: 'FILE', help: 'https/wss: a client certificate (PEM), for mutual TLS' },
  { name: 'key', value: 'FILE', help: 'https/wss: the key (PEM) of --cert' },
]

export function discoveryMode(line: CommandLine): CliDiscovery {
  const mode = line.value('discovery') ?? 'auto'
  if (mode !== 'auto' && mode !== 'tagged' && mode !== 'plain') {
    throw new UsageError(`--discovery must be auto, tagged or plain, got ${JSON.stringify(mode)}`)
  }
  return mode
}

/** `-T KIND`, one of `allowed`. */
export function transportKind<const K extends string>(
  line: CommandLine,
  allowed: readonly K[],
  fallback: K,
): K {
  const kind = line.value('transport') ?? fallback
  if (!(allowed as readonly string[]).includes(kind)) {
    throw new UsageError(`-T/--transport must be one of ${allowed.join(', ')}, got ${JSON.stringify(kind)}`)
  }
  return kind as K
}

/** `--ca/--cert/--key` read from disk; undefined when none is given. */
export function tlsOptions(line: CommandLine, secure: boolean): TlsOptions | undefined {
  const files = { ca: line.value('ca'), cert: line.value('cert'), key: line.value('key') }
  const given = Object.entries(files).filter(([, path]) => path !== undefined)
  if (given.length === 0) return undefined
  if (!secure) throw new UsageError(`--${given[0]?.[0]} applies to https, wss only`)
  if ((files.cert === undefined) !== (files.key === undefined))
    throw new UsageError('--cert and --key go together')
  const tls: TlsOptions = {}
  for (const [name, path] of given) {
    try {
      tls[name as 'ca' | 'cert' | 'key'] = readFileSync(path as string)
    } catch (err) {
      throw new UsageError(`cannot read --${name} ${path}: ${(err as Error).message}`)
    }
  }
  return tls
}

/** `-w HOST:PORT`, repeatable: workers to call without asking a Grape. */
export function staticWorkers(line: CommandLine): string[] {
  return line.values('worker').map((address) => {
    const colon = address.lastIndexOf(':')
    const host = address.slice(0, colon)
    if (colon < 1 || host === '')
      throw new UsageError(`worker address must be HOST:PORT, got ${JSON.stringify(address)}`)
    return `${host}:${parsePort(address.slice(colon + 1), 'worker port number')}`
  })
}

/** A `Discovery` that knows a fixed list of addresses, for `-w`. */
export function fixedDiscovery(addresses: readonly string[]): Discovery {
  return {
    lookup: async () => addresses,
    peek: () => addresses,
    startAnnouncing: () => Promise.reject(new Error('a fixed worker list cannot announce')),
    stopAnnouncing: () => false,
  }
}
