/**
 * The load generator of the DHT suite, in its own process: raw Grape API calls over one undici
 * Pool per Grape (the same client for both implementations). Spawned by bench/dht/suite.ts.
 */
import { performance } from 'node:perf_hooks'
import { GrapeApi } from '../grape/grape-api.js'
import { startChildRuntime } from '../lib/child-runtime.js'
import type { AnnounceParams, AnnounceResult, LookupParams, LookupResult } from './protocol.js'

const apis = new Map<string, GrapeApi>()

function api(url: string): GrapeApi {
  let client = apis.get(url)
  if (!client) {
    // c=8 spread over many Grapes: a few connections each are plenty.
    client = new GrapeApi(url, 4)
    apis.set(url, client)
  }
  return client
}

function urlOf(urls: string[], index: number): string {
  const url = urls[index]
  if (url === undefined) throw new Error(`no Grape ${index}`)
  return url
}

/** Each name in turn: announce, then back-to-back lookups on another Grape until it is there. */
async function announce(params: AnnounceParams): Promise<AnnounceResult> {
  const result: AnnounceResult = { announceMs: [], visibleMs: [], polls: 0, errors: 0, firstError: undefined }
  for (const { name, port, announceOn, visibleOn } of params.announcements) {
    const begin = performance.now()
    try {
      await api(urlOf(params.urls, announceOn)).announce(name, port)
    } catch (err) {
      result.errors++
      result.firstError ??= (err as Error).message
      result.announceMs.push(Number.NaN)
      result.visibleMs.push(Number.NaN)
      continue
    }
    const ack = performance.now()
    result.announceMs.push(ack - begin)
    const expected = `127.0.0.1:${port}`
    const lookupApi = api(urlOf(params.urls, visibleOn))
    let visible = Number.NaN
    while (performance.now() - ack < params.capMs) {
      result.polls++
      const peers = await lookupApi.lookup(name).catch(() => [] as string[])
      if (peers.includes(expected)) {
        visible = performance.now() - ack
        break
      }
    }
    result.visibleMs.push(visible)
  }
  return result
}

/** Closed loop with `concurrency` lookups in flight; each task asked `repeat` times in a row. */
async function lookups(params: LookupParams): Promise<LookupResult> {
  const result: LookupResult = {
    ms: Array.from({ length: params.repeat }, () => []),
    found: Array.from({ length: params.repeat }, () => 0),
    errors: 0,
    firstError: undefined,
    elapsedMs: 0,
  }
  let next = 0
  const worker = async () => {
    while (next < params.tasks.length) {
      const task = params.tasks[next++]
      if (!task) break
      const client = api(urlOf(params.urls, task.grape))
      const expected = `127.0.0.1:${task.port}`
      for (let r = 0; r < params.repeat; r++) {
        const begin = performance.now()
        try {
          const peers = await client.lookup(task.name)
          ;(result.ms[r] as number[]).push(performance.now() - begin)
          if (peers.includes(expected)) result.found[r] = (result.found[r] ?? 0) + 1
        } catch (err) {
          result.errors++
          result.firstError ??= (err as Error).message
        }
      }
    }
  }
  const begin = performance.now()
  await Promise.all(Array.from({ length: params.concurrency }, worker))
  result.elapsedMs = performance.now() - begin
  return result
}

const runtime = startChildRuntime({
  methods: {
    announce,
    lookups,
    /** Opens a connection to every Grape, so that no figure pays for a TCP handshake. */
    async connect({ urls }: { urls: string[] }) {
      await Promise.all(
        urls.map((url) =>
          api(url)
            .call('lookup', 'bench:dht:connect')
            .catch(() => undefined),
        ),
      )
      return urls.length
    },
  },
  onStop: async () => {
    await Promise.all([...apis.values()].map((client) => client.close()))
  },
})
runtime.ready({ pid: process.pid })
