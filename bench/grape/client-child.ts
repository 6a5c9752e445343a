/**
 * The load generator of the Grape suite, in its own process: raw Grape API calls over an undici
 * Pool (the same client for both implementations) and the long-lived Link scenario. Spawned by
 * bench/grape/suite.ts.
 */
import { setTimeout as sleep } from 'node:timers/promises'
import { startChildRuntime } from '../lib/child-runtime.js'
import { GrapeApi } from './grape-api.js'
import { runLongLived } from './long-lived.js'
import { runLookupLoad } from './lookup-load.js'
import type { LongLivedParams, LookupLoadParams, PrepareParams, VisibilityParams } from './protocol.js'
import { runVisibility } from './visibility.js'

const apis = new Map<string, GrapeApi>()

/** One pool per Grape, with a connection for every request in flight. */
function api(url: string): GrapeApi {
  let client = apis.get(url)
  if (!client) {
    client = new GrapeApi(url, 16)
    apis.set(url, client)
  }
  return client
}

const runtime = startChildRuntime({
  methods: {
    /** Announces every name on Grape 1 and waits until Grape 2 returns each one. */
    async prepare(params: PrepareParams) {
      const begin = Date.now()
      await Promise.all(
        params.names.map((name, i) => api(params.announceUrl).announce(name, params.ports[i] as number)),
      )
      for (const [i, name] of params.names.entries()) {
        const expected = `127.0.0.1:${params.ports[i]}`
        while (!(await api(params.lookupUrl).lookup(name)).includes(expected)) {
          if (Date.now() - begin > params.timeoutMs)
            throw new Error(`${name} not visible after ${params.timeoutMs} ms`)
          await sleep(5)
        }
      }
      return Date.now() - begin
    },
    lookupLoad: (params: LookupLoadParams) => runLookupLoad(api(params.url), params),
    visibility: (params: VisibilityParams) =>
      runVisibility(api(params.announceUrl), api(params.lookupUrl), params),
    longLived: (params: LongLivedParams) => runLongLived(api(params.announceUrl), params),
  },
  onStop: async () => {
    await Promise.all([...apis.values()].map((client) => client.close()))
  },
})
runtime.ready({ pid: process.pid })
