import { toGrenacheError } from '../../errors.js'
import { SubClient, type SubMessage } from '../../peer/sub-client.js'
import type { CommandLine } from '../argv.js'
import { type Command, withLink } from '../command.js'
import { findAnnounced } from '../find.js'
import { GRAPE_OPTIONS } from '../grape-address.js'
import { CommandFailure, EXIT, UsageError } from '../io.js'
import { DISCOVERY_OPTION, discoveryMode, TLS_OPTIONS, tlsOptions, transportKind } from '../rpc-options.js'

const KINDS = ['ws', 'wss', 'zmq'] as const

export const sub: Command = {
  usage: '[OPTION]... NAME',
  options: [
    { name: 'transport', short: 'T', value: 'KIND', help: 'ws (default), wss or zmq' },
    {
      name: 'topic',
      value: 'PREFIX',
      multiple: true,
      help: 'zmq: receive only topics starting so (repeatable)',
    },
    { name: 'count', short: 'n', value: 'N', help: 'exit 0 after N messages' },
    { name: 'json', help: 'print each message as {"topic", "data"} JSON (binary data as base64)' },
    DISCOVERY_OPTION,
    ...TLS_OPTIONS,
    ...GRAPE_OPTIONS.map((option) =>
      option.name === 'timeout'
        ? { ...option, help: 'exit after MS milliseconds (1 if -n N messages had not come by then)' }
        : option,
    ),
  ],
  examples: [
    ['$0 rates', 'print what the WebSocket publishers of rates send'],
    ['$0 -T zmq --topic btc -n 1 rates', 'wait for one message on a topic starting with btc'],
  ],
  notes: ['Runs until SIGINT or SIGTERM (exit 0), -n messages, or --timeout.'],
  async run(line, context) {
    const name = line.operands[0]
    if (name === undefined || name === '') throw new UsageError('missing NAME')
    if (line.operands.length > 1)
      throw new UsageError(`unexpected argument ${JSON.stringify(line.operands[1])}`)
    const transport = transportKind(line, KINDS, 'ws')
    const tls = tlsOptions(line, transport === 'wss')
    const topics = line.values('topic')
    if (topics.length > 0 && transport !== 'zmq') throw new UsageError('--topic applies to zmq only')
    const count = parseCount(line)
    const limitMs = line.has('timeout') ? Number(line.value('timeout')) : undefined
    const mode = discoveryMode(line)
    const json = line.has('json')

    return withLink(line, context, async (link, timeoutMs) => {
      const discovery = await findAnnounced(link, name, transport, mode, timeoutMs, 'publisher')
      const client = new SubClient({
        link,
        name,
        transport,
        discovery,
        ...(tls ? { tls } : {}),
        ...(topics.length > 0 ? { topics } : {}),
      })
      try {
        await client.start({ timeoutMs, signal: context.io.signal })
      } catch (err) {
        if (context.io.signal.aborted) return EXIT.ok
        const error = toGrenacheError(err)
        throw new CommandFailure(`cannot subscribe to ${name}: ${error.message} (${error.code})`)
      }
      return receive(client, context.print, count, limitMs, context.io.signal, json)
    })
  },
}

function parseCount(line: CommandLine): number | undefined {
  const text = line.value('count')
  if (text === undefined) return undefined
  if (!/^[1-9][0-9]{0,8}$/.test(text))
    throw new UsageError(`-n/--count must be a whole number from 1, got ${JSON.stringify(text)}`)
  return Number(text)
}

async function receive(
  client: SubClient,
  print: (text: string) => Promise<void>,
  count: number | undefined,
  limitMs: number | undefined,
  signal: AbortSignal,
  json: boolean,
): Promise<number> {
  const onAbort = (): void => void client.close()
  signal.addEventListener('abort', onAbort, { once: true })
  let timedOut = false
  const timer =
    limitMs === undefined
      ? undefined
      : setTimeout(() => {
          timedOut = true
          void client.close()
        }, limitMs)
  let received = 0
  try {
    for await (const message of client) {
      await print(`${json ? asJson(message) : asText(message)}\n`)
      if (count !== undefined && ++received >= count) return EXIT.ok
    }
    if (timedOut && count !== undefined && !signal.aborted) {
      throw new CommandFailure(`${received} of ${count} messages came within ${limitMs} ms`)
    }
    return EXIT.ok
  } finally {
    if (timer) clearTimeout(timer)
    signal.removeEventListener('abort', onAbort)
    await client.close()
  }
}

function asText(message: SubMessage): string {
  return typeof message.data === 'string' ? message.data : message.data.toString('utf8')
}

function asJson(message: SubMessage): string {
  const data =
    typeof message.data === 'string'
      ? message.data
      : (() => {
          const text = message.data.toString('utf8')
          return Buffer.from(text).equals(message.data) ? text : { base64: message.data.toString('base64') }
        })()
  return JSON.stringify({ topic: message.topic ?? null, data })
}
