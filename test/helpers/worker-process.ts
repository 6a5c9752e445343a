/**
 * A worker in its own process, for tests that kill one mid-request:
 *   node --import tsx test/helpers/worker-process.ts <transport>
 * Serves `echo` (replies with the payload) and `hang` (never replies) without announcing, and
 * prints `port <n>` once it listens.
 */
import { RpcServer } from '../../runtime/peer/index.js'
import type { TransportKind } from '../../runtime/transport/types.js'
import { tls } from '../fixtures/tls/index.js'

const kind = process.argv[2] as TransportKind
const secure = kind === 'https' || kind === 'wss'
const server = new RpcServer({ listen: [{ transport: kind, ...(secure ? { tls: tls.server } : {}) }] })
server.handle('echo', (request, reply) => reply(null, request.payload))
server.handle('hang', () => undefined)
const [endpoint] = await server.start()
process.stdout.write(`port ${endpoint?.port}\n`)
// Never outlive the test that started us.
setTimeout(() => process.exit(3), 60_000).unref()
process.on('SIGTERM', () => server.close().then(() => process.exit(0)))
