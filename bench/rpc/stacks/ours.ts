/**
 * Our stack: runtime/peer's RpcClient and RpcServer, with the transport picked by its kind string
 * (runtime/transport/factory.ts). Discovery is a static list (no Grape in the loop); the server
 * runs without a link, so nothing is announced.
 *
 * The runtime is loaded from `dist/runtime` (the tsc build users run) or from its TypeScript source
 * through tsx, as the orchestrator decided (model.ts `decideOursFrom`). tsx compiles with esbuild's
 * keepNames, which wraps every named closure in `__name()` (an `Object.defineProperty` each time
 * the closure is created, about 0.2 µs), a cost the tsc build does not have.
 */
import type { Discovery } from '../../../runtime/peer/index.js'
import { ECHO_KEY, type OursFrom, type Proto } from '../protocol.js'
import { type BenchClient, type EchoServer, UnavailableError } from './types.js'

type PeerModule = typeof import('../../../runtime/peer/index.js')
type ErrorsModule = typeof import('../../../runtime/errors.js')

interface Runtime {
  peer: PeerModule
  errors: ErrorsModule
}

let loaded: Runtime | undefined

/** Loads our runtime once per process, from its source or from dist/. */
async function runtime(from: OursFrom): Promise<Runtime> {
  if (!loaded) {
    const root = from === 'dist' ? '../../../dist/runtime' : '../../../runtime'
    loaded = {
      peer: (await import(`${root}/peer/index.js`)) as PeerModule,
      errors: (await import(`${root}/errors.js`)) as ErrorsModule,
    }
  }
  return loaded
}

/**
 * A Discovery that knows one name (`<key>/<transport>`) and its workers. Like a Link answering from
 * its cache, every lookup resolves at once with the same list.
 */
export class StaticDiscovery implements Discovery {
  readonly #names: ReadonlyMap<string, readonly string[]>
  readonly #errors: ErrorsModule

  constructor(names: ReadonlyMap<string, readonly string[]>, errors: ErrorsModule) {
    this.#names = names
    this.#errors = errors
  }

  async lookup(name: string): Promise<readonly string[]> {
    const addresses = this.#names.get(name)
    if (!addresses) {
      throw new this.#errors.GrenacheError('ERR_LOOKUP_EMPTY', `static discovery does not know ${name}`)
    }
    return addresses
  }

  async startAnnouncing(): Promise<void> {}

  stopAnnouncing(): boolean {
    return false
  }
}

/** The factory refuses a kind it does not build yet: that target is n/a, not a failure. */
function unavailable(err: unknown, proto: Proto, errors: ErrorsModule): never {
  if (errors.isGrenacheError(err) && err.code === 'ERR_INVALID_OPTION' && /transport/i.test(err.message)) {
    throw new UnavailableError(
      `runtime/transport/factory.ts has no '${proto}' transport yet (${err.message})`,
    )
  }
  throw err
}

export async function startOursServer(proto: Proto, port: number, from: OursFrom): Promise<EchoServer> {
  const { peer, errors } = await runtime(from)
  let server: InstanceType<PeerModule['RpcServer']>
  try {
    server = new peer.RpcServer({ listen: [{ transport: proto, port, host: '127.0.0.1' }] })
  } catch (err) {
    unavailable(err, proto, errors)
  }
  server.handle(ECHO_KEY, (request, reply) => reply(null, request.payload))
  const [bound] = await server.start()
  return { host: '127.0.0.1', port: bound?.port ?? port, close: () => server.close() }
}

export async function createOursClient(
  proto: Proto,
  addresses: string[],
  from: OursFrom,
): Promise<BenchClient> {
  const { peer, errors } = await runtime(from)
  const names = new Map([[peer.discoveryName(ECHO_KEY, proto, 'tagged'), addresses]])
  let client: InstanceType<PeerModule['RpcClient']>
  try {
    client = new peer.RpcClient({
      link: new StaticDiscovery(names, errors),
      transport: proto,
      timeoutMs: 10_000,
    })
  } catch (err) {
    unavailable(err, proto, errors)
  }
  const workers = addresses.length
  return {
    request: (payload) => client.request(ECHO_KEY, payload),
    async map(payload) {
      const results = await client.map(ECHO_KEY, payload)
      if (results.length !== workers) throw new Error(`map: ${results.length} results for ${workers} workers`)
      return results.map((result) => {
        if (!result.ok) throw result.error
        return result.value
      })
    },
    close: () => client.close(),
  }
}
