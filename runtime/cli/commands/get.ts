import { isGrenacheError } from '../../errors.js'
import { itemProblem, saltBytes } from '../../link/items.js'
import { type Command, grapeText, withLink } from '../command.js'
import { GRAPE_OPTIONS } from '../grape-address.js'
import { CommandFailure, EXIT, UsageError } from '../io.js'
import { checkSalt } from '../values.js'

const OUTPUTS = ['value', 'raw', 'id', 'write'] as const

export const get: Command = {
  usage: '[OPTION]... HASH',
  options: [
    { name: 'value', short: 'v', help: 'print the value (the default)' },
    { name: 'raw', short: 'r', help: "print the Grape's whole answer, as one line of JSON" },
    { name: 'id', short: 'i', help: 'print the id of the DHT node that answered' },
    { name: 'write', short: 'w', help: 'print the write token (nothing when the Grape had the item itself)' },
    { name: 'salt', short: 's', value: 'SALT', help: 'salt the mutable item was stored with' },
    ...GRAPE_OPTIONS,
  ],
  examples: [
    ["$0 '81c2a8157780989af9a16661324fafbd7803877d'", 'print the value stored under this key'],
    ["$0 -s 'sys:mem:available' 633def0b4349e2ed5bfbe0a5a1bb34e622f8c20d", 'a salted mutable item'],
  ],
  notes: [
    'What comes back is verified before anything is printed: the value must hash to HASH (immutable),',
    'or the key and salt must hash to HASH and the signature must verify (mutable). If several of',
    '-v, -r, -i, -w are given, the last one wins.',
  ],
  async run(line, context) {
    const [given, ...extra] = line.operands
    if (given === undefined) throw new UsageError('missing HASH')
    if (extra.length > 0)
      throw new UsageError(`unexpected argument ${JSON.stringify(extra[0])}: give one HASH`)
    if (!/^[0-9a-fA-F]{40}$/.test(given)) throw new UsageError(`invalid hash provided: ${given}`)
    const hash = given.toLowerCase()
    const salt = checkSalt(line.value('salt'))
    const output =
      line.given.findLast((g) => (OUTPUTS as readonly string[]).includes(g.name))?.name ?? 'value'

    const item = await withLink(line, context, async (link) => {
      try {
        return await link.get(hash, { verify: false, ...(salt !== undefined ? { salt } : {}) })
      } catch (err) {
        if (isGrenacheError(err) && err.code.startsWith('ERR_GRAPE_'))
          throw new CommandFailure(grapeText(err))
        throw err
      }
    })
    if (item === null) throw new CommandFailure(`hash ${hash} not found`)
    if (salt !== undefined && typeof item.salt === 'string' && item.salt !== salt) {
      throw new CommandFailure('salt mismatch')
    }
    const problem = itemProblem(hash, item, saltBytes(salt))
    if (problem) {
      const text = problem.kind === 'signature' ? 'cannot verify challenge buffer' : 'unexpected value'
      throw new CommandFailure(`${text}: ${problem.why}`)
    }
    switch (output) {
      case 'raw':
        await context.print(`${JSON.stringify(item)}\n`)
        break
      case 'id':
        await context.print(`${item.id}\n`)
        break
      case 'write':
        if (typeof item.token === 'string') await context.print(`${item.token}\n`)
        break
      default:
        await context.print(`${item.v}\n`)
    }
    return EXIT.ok
  },
}
