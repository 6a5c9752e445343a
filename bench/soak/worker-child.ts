/**
 * The soak suite's worker, in its own process: one RpcServer listening on http, ws and zmq, its
 * echo key announced through a Link to Grape 1 (re-announced on the Link's schedule for the whole
 * run). Spawned by bench/soak/suite.ts; config as one JSON argument.
 */
import { Link } from '../../runtime/link/index.js'
import { RpcServer } from '../../runtime/peer/index.js'
import { childConfig, startChildRuntime } from '../lib/child-runtime.js'
import { ECHO_KEY, type SoakTransport, TRANSPORTS, type WorkerConfig, type WorkerReady } from './protocol.js'

const config = childConfig<WorkerConfig>()
const link = new Link({ grape: config.grape })
const server = new RpcServer({ link, listen: TRANSPORTS.map((transport) => ({ transport })) })
server.handle(ECHO_KEY, (request, reply) => reply(null, request.payload))

const runtime = startChildRuntime({
  methods: {},
  onStop: async () => {
    await server.close()
    await link.close()
  },
})
const bound = await server.start({ timeoutMs: 20_000 })
const ports = Object.fromEntries(bound.map(({ transport, port }) => [transport, port])) as Record<
  SoakTransport,
  number
>
runtime.ready({ ports } satisfies WorkerReady)
