import { toGrenacheError } from '../../errors.js'
import { type MapResult, RpcClient } from '../../peer/rpc-client.js'
import type { TransportKind } from '../../transport/types.js'
import type { CommandLine } from '../argv.js'
import { type Command, type CommandContext, withLink } from '../command.js'
import { findAnnounced } from '../find.js'
import { GRAPE_OPTIONS } from '../grape-address.js'
import { CommandFailure, decodeUtf8, EXIT, readAll, UsageError } from '../io.js'
import {
  type CliDiscovery,
  DISCOVERY_OPTION,
  discoveryMode,
  fixedDiscovery,
  staticWorkers,
  TLS_OPTIONS,
  tlsOptions,
  transportKind,
} from '../rpc-options.js'

const KINDS = ['http', 'https', 'ws', 'wss', 'zmq'] as const

const RPC_OPTIONS = [
  { name: 'transport', short: 'T', value: 'KIND', help: 'http (default), https, ws, wss or zmq' },
  {
    name: 'worker',
    short: 'w',
    value: 'HOST:PORT',
    multiple: true as const,
    help: "don't look up: call this worker (repeatable)",
  },
  DISCOVERY_OPTION,
  { name: 'raw', short: 'r', help: 'print a string result as it is, not as JSON' },
  { name: 'pretty', help: 'indent the JSON printed' },
  ...TLS_OPTIONS,
  ...GRAPE_OPTIONS,
]

const NOTES = [
  'JSON is the payload, as JSON text; "-" or none reads it from standard input. Workers are found',
  'through the Grape unless -w names them. Typed services take {"action": ..., "args": [...]}.',
]

export const request: Command = {
  usage: '[OPTION]... SERVICE [JSON]',
  options: RPC_OPTIONS,
  examples: [
    ['$0 rpc_test \'"hello"\'', 'call a worker of rpc_test over HTTP'],
    ['$0 -T ws fibonacci@1 \'{"action":"fib","args":[{"n":10}]}\'', 'a typed service over WebSocket'],
  ],
  notes: NOTES,
  run: (line, context) =>
    call(line, context, async (client, key, payload, timeoutMs, discovery) => {
      const result = await client.request(key, payload, { timeoutMs, discovery })
      await context.print(`${format(result, line)}\n`)
      return EXIT.ok
    }),
}

export const map: Command = {
  usage: '[OPTION]... SERVICE [JSON]',
  options: [
    ...RPC_OPTIONS.slice(0, 2),
    { name: 'limit', value: 'N', help: 'call at most N workers, chosen at random' },
    ...RPC_OPTIONS.slice(2),
  ],
  examples: [['$0 rpc_test \'"ping"\'', 'ask every worker of rpc_test']],
  notes: [
    ...NOTES,
    'Each line is {"worker": "HOST:PORT", "value": ...} or {"worker": ..., "error": {"code", "message"}}.',
    'Exit status 1 when any worker failed.',
  ],
  run: (line, context) => {
    const limitText = line.value('limit')
    if (limitText !== undefined && !/^[1-9][0-9]{0,8}$/.test(limitText)) {
      throw new UsageError(`--limit must be a whole number from 1, got ${JSON.stringify(limitText)}`)
    }
    return call(line, context, async (client, key, payload, timeoutMs, discovery) => {
      const results: MapResult[] = await client.map(key, payload, {
        timeoutMs,
        discovery,
        ...(limitText !== undefined ? { limit: Number(limitText) } : {}),
      })
      for (const result of results) {
        const entry = result.ok
          ? { worker: result.worker, value: result.value ?? null }
          : { worker: result.worker, error: { code: result.error.code, message: result.error.message } }
        await context.print(`${JSON.stringify(entry, null, line.has('pretty') ? 2 : undefined)}\n`)
      }
      return results.every((result) => result.ok) ? EXIT.ok : EXIT.failed
    })
  },
}

type Call = (
  client: RpcClient,
  key: string,
  payload: unknown,
  timeoutMs: number,
  discovery: 'tagged' | 'plain',
) => Promise<number>

/** Parses what request and map share, then runs `body` once per discovery name to try. */
async function call(line: CommandLine, context: CommandContext, body: Call): Promise<number> {
  const [key, text, ...extra] = line.operands
  if (key === undefined || key === '') throw new UsageError('missing SERVICE')
  if (extra.length > 0)
    throw new UsageError(`unexpected argument ${JSON.stringify(extra[0])}: quote the JSON payload`)
  const transport: TransportKind = transportKind(line, KINDS, 'http')
  const tls = tlsOptions(line, transport === 'https' || transport === 'wss')
  const workers = staticWorkers(line)
  const mode: CliDiscovery = workers.length > 0 ? 'plain' : discoveryMode(line)
  const payload = await readPayload(text, context.io.stdin)
  return withLink(line, context, async (link, timeoutMs) => {
    // The lookup first, on its own: its failures are the Grape's, whatever follows is a worker's.
    const discovery =
      workers.length > 0 ? 'plain' : await findAnnounced(link, key, transport, mode, timeoutMs, 'worker')
    const client = new RpcClient({
      link: workers.length > 0 ? fixedDiscovery(workers) : link,
      transport,
      timeoutMs,
      ...(tls ? { tls } : {}),
    })
    try {
      return await body(client, key, payload, timeoutMs, discovery)
    } catch (err) {
      const error = toGrenacheError(err)
      throw new CommandFailure(`${error.message} (${error.code})`)
    } finally {
      await client.close()
    }
  })
}

async function readPayload(text: string | undefined, stdin: CommandContext['io']['stdin']): Promise<unknown> {
  let source = text
  if (source === undefined || source === '-') {
    if (source === undefined && stdin.isTTY) throw new UsageError('missing JSON payload')
    source = decodeUtf8(await readAll(stdin))
    if (source === undefined) throw new UsageError('the payload on standard input is not UTF-8 text')
  }
  try {
    return JSON.parse(source)
  } catch (err) {
    throw new UsageError(`the payload is not JSON: ${(err as Error).message}`)
  }
}

function format(result: unknown, line: CommandLine): string {
  if (typeof result === 'string' && line.has('raw')) return result
  return JSON.stringify(result ?? null, null, line.has('pretty') ? 2 : undefined)
}
