import type { Command } from '../command.js'
import { EXIT, UsageError } from '../io.js'
import { generateKeyFiles } from '../keys.js'

export const keygen: Command = {
  usage: '[OPTION]...',
  options: [{ name: 'force', short: 'f', help: 'overwrite the existing key pair' }],
  examples: [
    ['$0', 'create a new key pair'],
    ['$0 -f', 'the same, replacing the existing one'],
  ],
  notes: [
    'The key pair is written to ~/.grenache-cli/ (key: the 64-byte expanded ed25519 secret as 128 hex',
    'digits; key.pub: the public key as 64), where grenache-cli keeps it: both CLIs use the same keys.',
  ],
  async run(line, { io, print, program }) {
    if (line.operands.length > 0)
      throw new UsageError(`unexpected argument ${JSON.stringify(line.operands[0])}`)
    await generateKeyFiles(io.home, line.has('force'))
    await print(`${program}: keypair generated successfully.\n`)
    return EXIT.ok
  },
}
