/**
 * A ZeroMQ worker in its own process, for tests that kill one mid-request:
 *   node --import tsx test/runtime/transport/zmq/worker-child.ts [port]
 * Serves `echo` (replies with the payload) and anything else by never replying; prints `port <n>`.
 */
import { ZmqServerTransport } from '../../../../runtime/transport/zmq/index.js'

const server = new ZmqServerTransport({ port: Number(process.argv[2] ?? 0) })
const port = await server.listen((request, reply) => {
  if (request.key === 'echo') reply(null, request.payload)
})
process.stdout.write(`port ${port}\n`)
// Never outlive the test that started us.
setTimeout(() => process.exit(3), 60_000).unref()
