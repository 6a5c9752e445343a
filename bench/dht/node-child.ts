/**
 * A process hosting several Grapes of one implementation (ours or grenache-grape 1.0.0), DHT and
 * API on 127.0.0.1, each bootstrapped only from the 127.0.0.1 list in its config. The Grapes start
 * one after the other, as an operator's script would `await grape.start()` in a loop. Spawned by
 * bench/dht/suite.ts; config as one JSON argument.
 */
import { join } from 'node:path'
import { performance } from 'node:perf_hooks'
import { setTimeout as sleep } from 'node:timers/promises'
import { pathToFileURL } from 'node:url'
import { childConfig, startChildRuntime } from '../lib/child-runtime.js'
import { ROOT } from '../lib/children.js'
import { GRAPE_BUNDLE } from './ours-from.js'
import type { NodeChildConfig, NodeChildReady } from './protocol.js'

interface RunningGrape {
  url: string
  dhtPort: number
  nodeCount(): number
  close(): Promise<void>
}

const config = childConfig<NodeChildConfig>()
const running: RunningGrape[] = []
const MB = 1024 * 1024
// Before anything of the Grape is loaded: what the process costs without it.
const baseRssMb = process.memoryUsage().rss / MB

const runtime = startChildRuntime({
  methods: {
    /** Resolves once every Grape here knows at least `count` DHT nodes (bounded by `timeoutMs`). */
    async waitNodes({ count, timeoutMs }: { count: number; timeoutMs: number }) {
      const deadline = Date.now() + timeoutMs
      const least = () => Math.min(...running.map((grape) => grape.nodeCount()))
      while (least() < count) {
        if (Date.now() > deadline) throw new Error(`a Grape knows ${least()} DHT nodes after ${timeoutMs} ms`)
        await sleep(10)
      }
      return least()
    },
    async nodeCounts() {
      return running.map((grape) => grape.nodeCount())
    },
  },
  onStop: async () => {
    await Promise.all(running.map((grape) => grape.close()))
  },
})

const startMs: number[] = []
if (config.impl === 'ours') {
  // Both by path, so that bundling this file (see node-child-bundle.ts) leaves our Grape out of it.
  const { Grape }: typeof import('../../runtime/grape/index.js') = await import(
    pathToFileURL(join(ROOT, config.from === 'dist' ? GRAPE_BUNDLE : 'runtime/grape/index.ts')).href
  )
  for (const { apiPort, dhtPort, bootstrap } of config.grapes) {
    const grape = new Grape({ apiPort, dhtPort, dhtHost: '127.0.0.1', bootstrap })
    const begin = performance.now()
    const address = await grape.start()
    startMs.push(performance.now() - begin)
    running.push({
      url: address.url,
      dhtPort: address.dhtPort,
      nodeCount: () => grape.nodeCount,
      close: () => grape.close(),
    })
  }
} else {
  const { startReferenceGrape } = await import('../grape/reference-grape.js')
  for (const { apiPort, dhtPort, bootstrap } of config.grapes) {
    const begin = performance.now()
    const grape = await startReferenceGrape({
      dht_port: dhtPort,
      api_port: apiPort,
      host: '127.0.0.1',
      dht_bootstrap: bootstrap,
    })
    startMs.push(performance.now() - begin)
    const node = grape.node as unknown as { nodes: { count(): number }; address(): { port: number } }
    running.push({
      url: `http://127.0.0.1:${apiPort}`,
      dhtPort: node.address().port,
      nodeCount: () => node.nodes.count(),
      close: () => new Promise<void>((resolve) => grape.stop(() => resolve())),
    })
  }
}

const ready: NodeChildReady = {
  pid: process.pid,
  grapes: running.map(({ url, dhtPort }) => ({ url, dhtPort })),
  startMs,
  readyMs: performance.now(),
  baseRssMb,
}
runtime.ready(ready)
