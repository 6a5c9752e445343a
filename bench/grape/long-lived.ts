import { performance } from 'node:perf_hooks'
import { setTimeout as sleep } from 'node:timers/promises'
import { Link } from '../../runtime/link/index.js'
import type { GrapeApi } from './grape-api.js'
import type { Impl, LongLivedParams, LongLivedResult } from './protocol.js'
import { createReferenceLink, referenceLookup } from './reference-link.js'

interface LookupClient {
  lookup(name: string): Promise<readonly string[]>
  close(): Promise<void>
}

/** A long-lived client Link of the implementation under test, on the Grape at `url`. */
function lookupClient(impl: Impl, url: string): LookupClient {
  if (impl === 'ours') {
    const link = new Link({ grape: url })
    return { lookup: (name) => link.lookup(name), close: () => link.close() }
  }
  const link = createReferenceLink(url)
  return {
    lookup: (name) => referenceLookup(link, name),
    close: async () => {
      link.stop()
    },
  }
}

/**
 * A client Link, created once, polls a fresh name every `pollMs` (failing: nothing is announced
 * yet); after `preAnnounceMs` the worker announces through Grape 1. Measures the announce ack →
 * the Link's first successful lookup. The reference Link caches the empty answer for 10 s (O5).
 */
export async function runLongLived(announceApi: GrapeApi, params: LongLivedParams): Promise<LongLivedResult> {
  const client = lookupClient(params.impl, params.lookupUrl)
  const expected = `127.0.0.1:${params.port}`
  let ackAt: number | undefined
  let polls = 0
  let pollsBeforeAnnounce = 0
  let lastError: string | undefined
  const poller = (async (): Promise<number | undefined> => {
    for (;;) {
      const begin = performance.now()
      if (ackAt !== undefined && begin > ackAt + params.capMs) return undefined
      polls++
      if (ackAt === undefined) pollsBeforeAnnounce++
      try {
        if ((await client.lookup(params.name)).includes(expected)) return performance.now()
      } catch (err) {
        lastError = (err as { code?: string; message?: string })?.code ?? (err as Error)?.message
      }
      await sleep(Math.max(0, begin + params.pollMs - performance.now()))
    }
  })()
  try {
    await sleep(params.preAnnounceMs)
    await announceApi.announce(params.name, params.port)
    ackAt = performance.now()
    const foundAt = await poller
    // A poll sent just before the ack can return the worker before the ack is read: count it as 0.
    const visibleMs = foundAt === undefined ? null : Math.max(0, foundAt - ackAt)
    return { visibleMs, polls, pollsBeforeAnnounce, lastError }
  } finally {
    await client.close()
  }
}
