/**
 * One echo server (worker) of one stack in its own process, on 127.0.0.1. Spawned by
 * bench/rpc/suite.ts with a `ServerChildConfig` as its JSON argument. Reports `ServerReady`: the
 * bound address, or why this stack cannot serve the protocol (yet).
 */
import { childConfig, startChildRuntime } from '../lib/child-runtime.js'
import type { ServerChildConfig, ServerReady } from './protocol.js'
import { type EchoServer, UnavailableError } from './stacks/types.js'

const config = childConfig<ServerChildConfig>()
let server: EchoServer | undefined

const runtime = startChildRuntime({
  methods: {},
  onStop: async () => {
    await server?.close()
  },
})

async function start(): Promise<EchoServer> {
  const { stack, proto } = config.target
  if (stack === 'ours')
    return (await import('./stacks/ours.js')).startOursServer(proto, config.port, config.oursFrom)
  if (stack === 'ref') return (await import('./stacks/reference.js')).startReferenceServer(proto, config.port)
  return (await import('./stacks/raw.js')).startRawServer(proto, config.port)
}

let ready: ServerReady
try {
  server = await start()
  // Loopback only: refuse to serve on anything else.
  if (server.host !== '127.0.0.1') {
    await server.close()
    throw new Error(`the server bound ${server.host}, not 127.0.0.1`)
  }
  ready = { available: true, port: server.port, host: server.host }
} catch (err) {
  if (!(err instanceof UnavailableError)) throw err
  ready = { available: false, reason: err.message }
}
runtime.ready(ready)
