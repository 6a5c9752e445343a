import { isGrenacheError } from '../../errors.js'
import { type Command, grapeText, withLink } from '../command.js'
import { GRAPE_OPTIONS } from '../grape-address.js'
import { CommandFailure, EXIT, UsageError } from '../io.js'
import { entries } from '../lines.js'

/** The order grenache-cli prints selections in, whatever the order of the flags. */
const SELECTIONS = ['all', 'first', 'last', 'random'] as const

export const lookup: Command = {
  usage: '[OPTION]... SERVICE...',
  options: [
    { name: 'all', short: 'a', help: 'print every peer, on one line separated by spaces' },
    { name: 'first', short: 'f', help: 'print the first peer' },
    { name: 'last', short: 'l', help: 'print the last peer' },
    { name: 'random', short: 'r', help: 'print a peer chosen at random (the default)' },
    ...GRAPE_OPTIONS,
  ],
  examples: [
    ["$0 'rest:net:util'", 'a random peer of rest:net:util'],
    ["$0 -a 'rest:api:v2'", 'every peer of rest:api:v2'],
    ['$0 < services.lst', 'one service per line of standard input'],
  ],
  notes: [
    'Each selection prints its own line, in the order -a, -f, -l, -r. A service without peers gets a',
    'warning. Exit status 0 when at least one line was printed. With no SERVICE, names are read from',
    'standard input, one per line (# and ; start comments).',
  ],
  async run(line, context) {
    const { io } = context
    if (line.operands.length === 0 && io.stdin.isTTY) throw new UsageError('missing SERVICE')
    const wanted = SELECTIONS.filter((selection) => line.has(selection))
    if (wanted.length === 0) wanted.push('random')
    const names = line.operands.length > 0 ? line.operands : entries(io.stdin, io.signal)
    let printed = false
    await withLink(line, context, async (link) => {
      for await (const name of names) {
        if (name === '') {
          await context.warn('empty service name, skipping')
          continue
        }
        let peers: readonly string[]
        try {
          peers = await link.lookup(name)
        } catch (err) {
          if (isGrenacheError(err, 'ERR_LOOKUP_EMPTY')) {
            await context.warn(`service ${name} not available`)
            continue
          }
          if (isGrenacheError(err) && err.code.startsWith('ERR_GRAPE_'))
            throw new CommandFailure(grapeText(err))
          throw err
        }
        for (const selection of wanted) await context.print(`${select(peers, selection)}\n`)
        printed = true
      }
    })
    return printed ? EXIT.ok : EXIT.failed
  },
}

function select(peers: readonly string[], selection: (typeof SELECTIONS)[number]): string {
  switch (selection) {
    case 'all':
      return peers.join(' ')
    case 'first':
      return peers[0] as string
    case 'last':
      return peers[peers.length - 1] as string
    case 'random':
      return peers[Math.floor(Math.random() * peers.length)] as string
  }
}
