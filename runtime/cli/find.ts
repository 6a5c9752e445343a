import { isGrenacheError } from '../errors.js'
import type { Link } from '../link/link.js'
import { discoveryName } from '../peer/discovery.js'
import type { TransportKind } from '../transport/types.js'
import { grapeText } from './command.js'
import { CommandFailure } from './io.js'
import type { CliDiscovery } from './rpc-options.js'

/**
 * Which name the peers of `key` are announced under: `<key>/<transport>` (ours), else the key as
 * it is (reference peers) when `mode` is auto. The lookup runs here, on its own, so that its
 * failures read as the Grape's; the Link caches the answer for the call that follows.
 */
export async function findAnnounced(
  link: Link,
  key: string,
  transport: TransportKind,
  mode: CliDiscovery,
  timeoutMs: number,
  what: 'worker' | 'publisher',
): Promise<'tagged' | 'plain'> {
  const modes = mode === 'auto' ? (['tagged', 'plain'] as const) : [mode]
  for (const each of modes) {
    try {
      await link.lookup(discoveryName(key, transport, each), { timeoutMs })
      return each
    } catch (err) {
      if (isGrenacheError(err, 'ERR_LOOKUP_EMPTY')) continue
      if (isGrenacheError(err) && err.code.startsWith('ERR_GRAPE_')) throw new CommandFailure(grapeText(err))
      throw err
    }
  }
  const names = modes.map((each) => JSON.stringify(discoveryName(key, transport, each))).join(' or ')
  throw new CommandFailure(`no ${what} of ${key} is announced (looked up ${names})`)
}
