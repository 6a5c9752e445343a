import { isGrenacheError } from '../../errors.js'
import { type Command, grapeText, unreachable, withLink } from '../command.js'
import { GRAPE_OPTIONS, grapeUrl, timeoutMs } from '../grape-address.js'
import { EXIT, UsageError } from '../io.js'
import { entries } from '../lines.js'

export const announce: Command = {
  usage: '[OPTION]... [SERVICE,PORT]...',
  options: [
    { name: 'delimiter', short: 'd', value: 'D', help: 'what separates service and port (default ",")' },
    { name: 'json', short: 'j', help: 'each entry is a JSON document {"data": [service, port]}' },
    ...GRAPE_OPTIONS,
  ],
  examples: [
    ["$0 'rest:net:util,31337'", 'announce rest:net:util on port 31337'],
    ['$0 < services.lst', 'one entry per line of standard input'],
    ['$0 <> /run/grape/announce', 'serve a named pipe: entries are announced as they arrive'],
  ],
  notes: [
    'With no entry argument, entries are read from standard input as they arrive; # and ; start',
    'comments, blank lines are skipped. A bad entry is skipped with a warning. Exit status 0 when at',
    "least one announce was stored by a DHT node. The address announced is the Grape's own.",
  ],
  async run(line, context) {
    const { io } = context
    const delimiter = line.value('delimiter') ?? ','
    if (delimiter === '') throw new UsageError('empty delimiter')
    const json = line.has('json')
    const source = line.operands.length > 0 ? line.operands : entries(io.stdin, io.signal)
    const url = grapeUrl(line, io.env)
    const timeout = timeoutMs(line)
    let stored = false
    await withLink(line, context, async (link) => {
      for await (const text of source) {
        const entry = json ? fromJson(text) : fromText(text, delimiter)
        if (typeof entry === 'string') {
          await context.warn(entry)
          continue
        }
        try {
          const count = await link.announce(entry.service, entry.port)
          if (count > 0) stored = true
          else await context.warn(`service ${entry.service} has not been indexed`)
        } catch (err) {
          // One failed announce must not end a stream that feeds many: say why and go on.
          const reason =
            unreachable(err, url, timeout)?.message ?? (isGrenacheError(err) ? grapeText(err) : String(err))
          await context.warn(`unable to announce service ${entry.service}: ${reason}`)
        }
      }
    })
    return stored ? EXIT.ok : EXIT.failed
  },
}

type Entry = { service: string; port: number } | string

function fromText(text: string, delimiter: string): Entry {
  const [service = '', port = ''] = text.split(delimiter)
  return checked(service.trim(), port.trim())
}

function fromJson(text: string): Entry {
  let document: unknown
  try {
    document = JSON.parse(text)
  } catch {
    return 'invalid JSON document, skipping'
  }
  const data = (document as { data?: unknown } | null)?.data
  if (!Array.isArray(data)) return 'JSON document without a "data" array, skipping'
  const [service, port] = data as unknown[]
  if (typeof service !== 'string') return 'empty service name, skipping'
  return checked(
    service.trim(),
    typeof port === 'number' || typeof port === 'string' ? String(port).trim() : '',
  )
}

function checked(service: string, port: string): Entry {
  if (service === '') return 'empty service name, skipping'
  const number = /^[0-9]+$/.test(port) ? Number(port) : 0
  if (number < 1 || number > 65535) return `invalid port number${port === '' ? '' : ` ${port}`}, skipping`
  return { service, port: number }
}
