import type { DhtNode } from './dht-node.js'
import { decodeGet, decodePut, encodeItem, isRejection } from './item-codec.js'
import type { PeerTable } from './peer-table.js'

/** An HTTP answer of the Grape API: status and body text (undefined = empty body). */
export interface Answer {
  status: number
  body: string | undefined
}

/** The four API operations, each taking the request's `data`. */
export type Operation = 'announce' | 'lookup' | 'put' | 'get'
/** A handler answers at once when it can (a lookup from memory), else with a promise. */
export type Handlers = Record<Operation, (data: unknown) => Answer | Promise<Answer>>

export interface HandlerContext {
  node: DhtNode
  table: PeerTable
  /** A name answered from memory is refreshed in the background once this old. */
  lookupRefreshMs: number
  /** Called when a background refresh fails (nobody waits for it). */
  onRefreshError(error: unknown): void
  /** Aborted when the Grape closes: background refreshes not started yet are dropped. */
  signal?: AbortSignal
}

/**
 * A name answered from memory is refreshed this long after the answer, in ms, not at once: the
 * refresh's datagrams wake the processes of a dozen DHT nodes, and a client's next request (often
 * right behind: a warm lookup after a cold one, a burst) would queue behind them on a busy host.
 * The answer came from memory either way; the refresh is no less useful 50 ms later.
 */
export const BACKGROUND_REFRESH_DELAY_MS = 50

/**
 * A name refreshed by revalidations only gets a full DHT lookup at least this often, in ms: a peer
 * announced to none of the nodes a revalidation asks (the network changed around the name) is
 * found within it, as often as Links announce.
 */
export const FULL_LOOKUP_EVERY_MS = 30_000

const PAYLOAD_INVALID = { status: 500, message: 'ERR_GRAPE_PAYLOAD_INVALID' }
const ok = (result: unknown): Answer => ({ status: 200, body: JSON.stringify(result) })
/** Errors travel as a JSON string with status 200, except BEP 44's 3xx codes (reference G3). */
const fail = (message: string, status = 200): Answer => ({ status, body: JSON.stringify(message) })

/** Maps a DHT error to the reference's answer: 3xx codes become the HTTP status. */
export function dhtFailure(err: unknown): Answer {
  const code = (err as { code?: unknown } | null)?.code
  const message = err instanceof Error ? err.message : String(err)
  return fail(message, typeof code === 'number' && code >= 300 && code < 400 ? code : 200)
}

export function createHandlers(context: HandlerContext): Handlers {
  const { node, table } = context

  // After the answer is written: the refresh's UDP send would otherwise go out first.
  const refreshInBackground = (key: string): void => {
    setImmediate(() => node.refresh(key).catch(context.onRefreshError))
  }
  // One timer per name, however many lookups answered it from memory meanwhile.
  const later = new Map<string, NodeJS.Timeout>()
  context.signal?.addEventListener('abort', () => {
    for (const timer of later.values()) clearTimeout(timer)
    later.clear()
  })
  const refreshLater = (key: string, full: boolean): void => {
    if (later.has(key) || context.signal?.aborted) return
    const timer = setTimeout(() => {
      later.delete(key)
      ;(full ? node.refresh(key) : node.revalidate(key)).catch(context.onRefreshError)
    }, BACKGROUND_REFRESH_DELAY_MS)
    timer.unref()
    later.set(key, timer)
  }

  return {
    lookup(data) {
      if (!data || typeof data !== 'string') return fail('ERR_GRAPE_LOOKUP')
      const key = Buffer.from(data).toString('hex')
      const known = table.get(key)
      // The common case, a name seen recently, is answered without a promise.
      if (known.length > 0 && !table.isStale(key)) {
        if (table.ageOf(key) >= context.lookupRefreshMs) {
          refreshLater(key, table.sinceFullLookup(key) >= FULL_LOOKUP_EVERY_MS)
        }
        return ok(known)
      }
      return node.refresh(key).then(
        () => ok(table.get(key)),
        // A stale name still has its known peers: better those than an error.
        (err: unknown) => (known.length > 0 ? ok(table.get(key)) : dhtFailure(err)),
      )
    },

    async announce(data) {
      if (!data || !Array.isArray(data)) return fail('ERR_GRAPE_ANNOUNCE')
      const [name, port] = data as unknown[]
      // The reference sends any integer and waits 2 s for the silence of nodes that drop it.
      if (typeof port !== 'number' || !Number.isInteger(port) || port < 0 || port > 65535) {
        return fail('ERR_GRAPE_SERVICE_PORT')
      }
      if (typeof name !== 'string') return raw(PAYLOAD_INVALID)
      // An empty info_hash corrupts the DHT's LRU caches; the reference would announce it.
      if (name.length === 0) return fail('ERR_GRAPE_ANNOUNCE')
      const infoHash = Buffer.from(name)
      try {
        const count = await node.announce(infoHash, port)
        // This Grape does not store its own announce, so a name it answers from memory would miss
        // the new peer. Rather than make the worker wait for one more DHT lookup, the name goes
        // stale: the next lookup here waits for a fresh one, started now.
        const key = infoHash.toString('hex')
        if (table.hasLive(key)) {
          table.markStale(key)
          refreshInBackground(key)
        }
        return ok(count)
      } catch (err) {
        return dhtFailure(err)
      }
    },

    async put(data) {
      const request = decodePut(data, node.verify)
      if (isRejection(request)) return request.status === 200 ? fail(request.message) : raw(request)
      try {
        return ok((await node.put(request)).toString('hex'))
      } catch (err) {
        return dhtFailure(err)
      }
    },

    async get(data) {
      const request = decodeGet(data)
      if (isRejection(request)) return request.status === 200 ? fail(request.message) : raw(request)
      try {
        const item = await node.get(request.hash, request.options)
        return item ? ok(encodeItem(item)) : { status: 200, body: undefined }
      } catch (err) {
        return dhtFailure(err)
      }
    },
  }
}

/** A plain-text answer (the reference's 413 and 500 bodies are not JSON). */
export function raw(answer: { status: number; message: string }): Answer {
  return { status: answer.status, body: answer.message }
}
