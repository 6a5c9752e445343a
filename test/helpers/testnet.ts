import { once } from 'node:events'
import { Grape, type GrapeOptions } from '../../runtime/grape/index.js'
import { Link, type LinkOptions } from '../../runtime/link/index.js'

/** N Grapes on 127.0.0.1 (ports picked by the OS), bootstrapped from the first, plus their Links. */
export interface Testnet {
  grapes: Grape[]
  /** API URL of each Grape. */
  urls: string[]
  /** A Link to Grape `index`, closed with the testnet. */
  link(index?: number, options?: Omit<LinkOptions, 'grape'>): Link
  close(): Promise<void>
}

/** Loopback-only options for a test Grape. */
export function loopbackGrape(options: Partial<GrapeOptions> = {}): GrapeOptions {
  return { apiPort: 0, dhtPort: 0, dhtHost: '127.0.0.1', bootstrap: [], ...options }
}

/**
 * Starts `size` Grapes and waits until each knows every other one (bounded), so that announces
 * and puts reach every node. `options` apply to every Grape.
 */
export async function createTestnet(size = 2, options: Partial<GrapeOptions> = {}): Promise<Testnet> {
  const grapes: Grape[] = []
  const links: Link[] = []
  const testnet: Testnet = {
    grapes,
    urls: [],
    link(index = 0, linkOptions = {}) {
      const link = new Link({ ...linkOptions, grape: testnet.urls[index] as string })
      links.push(link)
      return link
    },
    async close() {
      await Promise.all(links.map((link) => link.close()))
      await Promise.all(grapes.map((grape) => grape.close()))
    },
  }
  try {
    const first = new Grape(loopbackGrape(options))
    grapes.push(first)
    const firstAddress = await first.start()
    testnet.urls.push(firstAddress.url)
    for (let i = 1; i < size; i++) {
      const grape = new Grape(loopbackGrape({ bootstrap: [`127.0.0.1:${firstAddress.dhtPort}`], ...options }))
      grapes.push(grape)
      testnet.urls.push((await grape.start()).url)
    }
    await Promise.all(grapes.map((grape) => waitForNodes(grape, size - 1)))
    return testnet
  } catch (err) {
    await testnet.close()
    throw err
  }
}

/** Resolves once `grape` has at least `count` DHT nodes; rejects after `timeoutMs`. */
export async function waitForNodes(grape: Grape, count: number, timeoutMs = 10_000): Promise<void> {
  const signal = AbortSignal.timeout(timeoutMs)
  while (grape.nodeCount < count) {
    try {
      await once(grape, 'node', { signal })
    } catch {
      throw new Error(`a Grape knows ${grape.nodeCount} DHT nodes after ${timeoutMs} ms, expected ${count}`)
    }
  }
}
