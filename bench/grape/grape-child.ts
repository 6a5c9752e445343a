/**
 * One Grape in its own process: ours (runtime/grape) or the reference (grenache-grape 1.0.0), DHT
 * and API on 127.0.0.1, bootstrapped only from the other Grape of the pair. Spawned by
 * bench/grape/pair.ts; config as one JSON argument.
 */
import { setTimeout as sleep } from 'node:timers/promises'
import { Grape } from '../../runtime/grape/index.js'
import { childConfig, startChildRuntime } from '../lib/child-runtime.js'
import type { GrapeChildConfig, GrapeReady } from './protocol.js'

interface RunningGrape {
  nodeCount(): number
  close(): Promise<void>
}

const config = childConfig<GrapeChildConfig>()
let running: RunningGrape | undefined

const runtime = startChildRuntime({
  methods: {
    /** Resolves with the node count once the Grape knows `count` DHT nodes (bounded). */
    async waitNodes({ count, timeoutMs }: { count: number; timeoutMs: number }) {
      const deadline = Date.now() + timeoutMs
      while ((running?.nodeCount() ?? 0) < count) {
        if (Date.now() > deadline)
          throw new Error(`knows ${running?.nodeCount()} DHT nodes after ${timeoutMs} ms`)
        await sleep(5)
      }
      return running?.nodeCount()
    },
  },
  onStop: async () => {
    await running?.close()
  },
})

if (config.impl === 'ours') {
  const grape = new Grape({
    apiPort: config.apiPort,
    dhtPort: config.dhtPort,
    dhtHost: '127.0.0.1',
    bootstrap: config.bootstrap,
  })
  running = { nodeCount: () => grape.nodeCount, close: () => grape.close() }
  await grape.start()
} else {
  const { startReferenceGrape } = await import('./reference-grape.js')
  const grape = await startReferenceGrape({
    dht_port: config.dhtPort,
    api_port: config.apiPort,
    host: '127.0.0.1',
    dht_bootstrap: config.bootstrap,
  })
  running = {
    nodeCount: () => grape.node.nodes.count(),
    close: () => new Promise<void>((resolve) => grape.stop(() => resolve())),
  }
}
const ready: GrapeReady = { url: `http://127.0.0.1:${config.apiPort}`, dhtPort: config.dhtPort }
runtime.ready(ready)
