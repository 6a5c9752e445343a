import { isGrenacheError } from '../../errors.js'
import { type Command, grapeText, withLink } from '../command.js'
import { GRAPE_OPTIONS } from '../grape-address.js'
import { CommandFailure, EXIT } from '../io.js'
import { readSigner } from '../keys.js'
import { checkSalt, checkValue, parseCounter, readValue } from '../values.js'

export const put: Command = {
  usage: '[OPTION]... VALUE...',
  options: [
    { name: 'mutable', short: 'm', help: 'store a mutable item, signed with ~/.grenache-cli/key' },
    { name: 'salt', short: 's', value: 'SALT', help: 'salt of the mutable item (at most 64 bytes)' },
    { name: 'number', short: 'n', value: 'SEQ', help: 'sequence number (default: microseconds since 1970)' },
    { name: 'cas', short: 'c', value: 'SEQ', help: 'compare and swap: the sequence number to replace' },
    ...GRAPE_OPTIONS,
  ],
  examples: [
    ["$0 'foo'", 'store the value foo'],
    ["$0 -m 'foo'", 'the same, as a mutable item'],
    ["$0 -m -s 'sys:mem:available' 42", 'a mutable item under a salt'],
    ['uptime -p | $0 -m', 'the value from standard input'],
  ],
  notes: [
    'VALUE is the arguments joined by spaces, or standard input (without its trailing newlines) when',
    'there is none or it is "-". It is stored as UTF-8 text of at most 999 bytes. Prints the key.',
  ],
  async run(line, context) {
    const mutable = line.has('mutable')
    const salt = checkSalt(line.value('salt'))
    const seq = parseCounter(line.value('number'), 'sequence number')
    const cas = parseCounter(line.value('cas'), 'compare and swap number')
    if (!mutable && (salt !== undefined || seq !== undefined || cas !== undefined)) {
      await context.warn('-s, -n and -c apply to mutable items (-m) only: ignored')
    }
    const value = await readValue(line.operands, context.io.stdin)
    checkValue(value)
    const signer = mutable ? await readSigner(context.io.home) : undefined
    const hash = await withLink(line, context, async (link) => {
      try {
        if (!signer) return await link.put(value)
        return (
          await link.putMutable(value, {
            signer,
            ...(seq !== undefined ? { seq } : {}),
            ...(salt !== undefined ? { salt } : {}),
            ...(cas !== undefined ? { cas } : {}),
          })
        ).hash
      } catch (err) {
        if (isGrenacheError(err, 'ERR_GRAPE_BAD_ANSWER') && /expected [0-9a-f]{40}$/.test(err.message)) {
          throw new CommandFailure('unexpected hash value')
        }
        if (isGrenacheError(err) && err.code.startsWith('ERR_GRAPE_'))
          throw new CommandFailure(grapeText(err))
        throw err
      }
    })
    await context.print(`${hash}\n`)
    return EXIT.ok
  },
}
