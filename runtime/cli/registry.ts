import type { Command } from './command.js'

/** One command as `grenache --help` lists it; its module is loaded only when it runs. */
export interface CommandEntry {
  /** `put`: `grenache put`. */
  name: string
  /** grenache-cli's name for it, when it has one (`grenache-put`). */
  alias?: string
  /** The help's first line, as grenache-cli words it. */
  summary: string
  load(): Promise<Command>
}

/**
 * Every command. A command line is a process of its own, so what it loads is what it costs:
 * `grenache put` loads neither ws nor zeromq nor the RPC client (see docs/cli.md, Start-up).
 */
export const COMMANDS: readonly CommandEntry[] = [
  {
    name: 'keygen',
    alias: 'grenache-keygen',
    summary: 'generates and manages authentication keys',
    load: async () => (await import('./commands/keygen.js')).keygen,
  },
  {
    name: 'put',
    alias: 'grenache-put',
    summary: 'sends a PUT request to the DHT',
    load: async () => (await import('./commands/put.js')).put,
  },
  {
    name: 'get',
    alias: 'grenache-get',
    summary: 'sends a GET request to the DHT',
    load: async () => (await import('./commands/get.js')).get,
  },
  {
    name: 'lookup',
    alias: 'grenache-lookup',
    summary: 'finds the peers that expose a service',
    load: async () => (await import('./commands/lookup.js')).lookup,
  },
  {
    name: 'announce',
    alias: 'grenache-announce',
    summary: 'announces services to the DHT',
    load: async () => (await import('./commands/announce.js')).announce,
  },
  {
    name: 'request',
    summary: 'sends a request to one worker of a service and prints its answer as JSON',
    load: async () => (await import('./commands/request.js')).request,
  },
  {
    name: 'map',
    summary: 'sends a request to every worker of a service and prints one line per worker',
    load: async () => (await import('./commands/request.js')).map,
  },
  {
    name: 'sub',
    summary: 'prints what the publishers of a name send, one message per line',
    load: async () => (await import('./commands/sub.js')).sub,
  },
  {
    name: 'feed',
    summary: 'joins a replicated state feed and prints each delta as a JSON line',
    load: async () => (await import('./commands/feed.js')).feed,
  },
]
