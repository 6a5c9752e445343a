import type { DatagramEndpoint, DatagramNetwork } from './endpoint.js'
import { type LossyEndpoint, type LossyOptions, lossy } from './lossy.js'

/** A network whose endpoints are `lossy()`: the n-th bound endpoint gets `options(n)` (or the same options with seed + n). */
export interface LossyNetwork extends DatagramNetwork {
  /** Every endpoint bound so far, in order (their `stats` say what was done to them). */
  readonly endpoints: LossyEndpoint[]
}

/** Wraps every endpoint `network` binds in `lossy()`, each with its own seeded PRNG. */
export function lossyNetwork(
  network: DatagramNetwork,
  options: LossyOptions | ((index: number, port: number) => LossyOptions | undefined),
): LossyNetwork {
  const endpoints: LossyEndpoint[] = []
  return {
    endpoints,
    async bind(bindOptions) {
      const endpoint: DatagramEndpoint = await network.bind(bindOptions)
      const index = endpoints.length
      const chosen =
        typeof options === 'function'
          ? options(index, endpoint.address.port)
          : { ...options, seed: (options.seed ?? 1) + index }
      const wrapped = lossy(endpoint, chosen ?? {})
      endpoints.push(wrapped)
      return wrapped
    },
  }
}
