import fc from 'fast-check'
import { RpcClient, RpcServer } from '../../runtime/peer/index.js'
import type { TransportKind } from '../../runtime/transport/types.js'
import { StaticDiscovery } from '../helpers/static-discovery.js'
import { anyJson, jsonBytes } from './http-requests.js'

/**
 * The worker every RPC fuzz target runs: one `RpcServer` on one transport, with handlers that
 * answer each way a handler can (at once, later, with an error, by throwing, twice, with a result
 * JSON cannot encode), and a client that makes the good request after each batch.
 */

/** Small, so that the fuzz reaches the over-limit path without megabytes per case. */
export const MAX_PAYLOAD_BYTES = 4096

export const KEYS = ['echo', 'late', 'fail', 'throw', 'twice', 'cyclic'] as const

export interface FuzzWorker {
  server: RpcServer
  port: number
  /** A request through our client must come back unchanged (the server still serves). */
  good(n: number): Promise<void>
  close(): Promise<void>
}

export async function startFuzzWorker(transport: TransportKind): Promise<FuzzWorker> {
  const server = new RpcServer({
    listen: [{ transport, maxPayloadBytes: MAX_PAYLOAD_BYTES }],
    drainTimeoutMs: 1000,
  })
  server.handle('echo', (request, reply) => reply(null, request.payload))
  server.handle('late', (request, reply) => void setTimeout(() => reply(null, request.payload), 5))
  server.handle('fail', (_request, reply) => reply(new Error('ERR_FUZZ: the handler failed')))
  server.handle('throw', () => {
    throw new Error('the handler threw')
  })
  server.handle('twice', (request, reply) => {
    reply(null, request.payload)
    reply(null, 'again')
  })
  server.handle('cyclic', (_request, reply) => {
    const value: Record<string, unknown> = {}
    value.self = value
    reply(null, value)
  })
  const [bound] = await server.start()
  const port = bound?.port as number
  const discovery = new StaticDiscovery().add(`echo/${transport}`, `127.0.0.1:${port}`)
  const client = new RpcClient({ link: discovery, transport, timeoutMs: 5000 })
  return {
    server,
    port,
    async good(n) {
      const payload = { good: n, text: 'still serving' }
      const result = await client.request('echo', payload)
      if (JSON.stringify(result) !== JSON.stringify(payload)) {
        throw new Error(`echo answered ${JSON.stringify(result)}`)
      }
    },
    async close() {
      await client.close()
      await server.close()
    },
  }
}

/** A request's key: mostly one the worker handles, else any string or any JSON. */
const key = fc.oneof(
  { weight: 6, arbitrary: fc.constantFrom<unknown>(...KEYS) },
  { weight: 1, arbitrary: fc.constantFrom<unknown>('', '*', 'echo/http', 'unknown') },
  { weight: 1, arbitrary: anyJson },
)

/** A request frame's JSON text: `[rid, key, payload]` of any types, other shapes, or an over-limit one. */
export const requestText: fc.Arbitrary<Buffer> = fc.oneof(
  { weight: 8, arbitrary: fc.tuple(anyJson, key, anyJson).map(jsonBytes) },
  { weight: 1, arbitrary: fc.tuple(anyJson, key).map(jsonBytes) },
  { weight: 2, arbitrary: anyJson.map(jsonBytes) },
  {
    weight: 1,
    arbitrary: fc
      .tuple(
        fc.string({ maxLength: 8 }),
        fc.integer({ min: MAX_PAYLOAD_BYTES - 40, max: 3 * MAX_PAYLOAD_BYTES }),
      )
      .map(([rid, size]) => jsonBytes([rid, 'echo', 'x'.repeat(size)])),
  },
)

/** Any bytes for a frame: the request texts, their bytes mutated elsewhere, or random bytes. */
export const randomBytes = fc.uint8Array({ maxLength: 96 }).map((b) => Buffer.from(b))

/**
 * Undefined when `text` is a reply envelope `[rid, error | null, result]` (what every answer of
 * an RPC server must be), else why not.
 */
export function envelopeProblem(text: string): string | undefined {
  let value: unknown
  try {
    value = JSON.parse(text)
  } catch {
    return `the answer is not JSON: ${text.slice(0, 200)}`
  }
  if (!Array.isArray(value) || value.length !== 3)
    return `the answer is not [rid, error, result]: ${text.slice(0, 200)}`
  if (value[1] !== null && typeof value[1] !== 'string')
    return `the error is not a string or null: ${text.slice(0, 200)}`
  return undefined
}
