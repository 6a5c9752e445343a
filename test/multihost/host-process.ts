/**
 * One "host" of the namespace test, run inside a network namespace with `ip netns exec`. It reads
 * commands as JSON lines on stdin (`{"id", "op", ...args}`) and answers each with one JSON line
 * (`{"id", "ok": true, "result"}` or `{"id", "ok": false, "code", "message"}`). Everything talks to
 * the Grape of its namespace at http://127.0.0.1:30001, as a program on that host would.
 * `{"op": "exit"}` (or stdin closing) closes everything and exits.
 */
import { createRequire } from 'node:module'
import { hostname } from 'node:os'
import { createInterface } from 'node:readline'
import { OrderBookPublisher, OrderBookReplica } from '../../generated/index.js'
import { createSigner, generateKeyPair } from '../../runtime/bep44/ed25519.js'
import { toGrenacheError } from '../../runtime/errors.js'
import { Link } from '../../runtime/link/index.js'
import { PubServer, RpcClient, RpcServer, SubClient, type SubMessage } from '../../runtime/peer/index.js'
import type { TransportKind } from '../../runtime/transport/types.js'
import { referenceHttp } from '../helpers/reference-peers.js'
import { orderBookWorkload, publish, until } from '../helpers/replication.js'

const GRAPE = 'http://127.0.0.1:30001'
const require = createRequire(import.meta.url)
const ReferenceLink = require('grenache-nodejs-link') as new (conf: object) => { start(): void; stop(): void }

const link = new Link({ grape: GRAPE })
const label = process.env.GG_HOST ?? hostname()
const closers: Array<() => Promise<unknown> | unknown> = [() => link.close()]
const clients = new Map<string, RpcClient>()
const subs = new Map<string, { sub: SubClient; seen: string[] }>()
const publishers = new Map<
  string,
  { publisher: OrderBookPublisher; next: ReturnType<typeof orderBookWorkload> }
>()
const replicas = new Map<string, OrderBookReplica>()

type Args = Record<string, unknown>

function client(transport: TransportKind, discovery: 'tagged' | 'plain' = 'tagged'): RpcClient {
  const key = `${transport}/${discovery}`
  let found = clients.get(key)
  if (!found) {
    found = new RpcClient({ link, transport, discovery, timeoutMs: 10_000 })
    clients.set(key, found)
    closers.push(() => found?.close())
  }
  return found
}

const ops: Record<string, (args: Args) => Promise<unknown>> = {
  /** A worker of `name` on `transports`, answering where it runs; `host` only when given. */
  async serve(args) {
    const transports = args.transports as TransportKind[]
    const server = new RpcServer({
      link,
      listen: transports.map((transport) => ({
        transport,
        ...(typeof args.host === 'string' ? { host: args.host } : {}),
      })),
    })
    const plain = args.plain === true
    server.handle(
      args.name as string,
      (request, reply) => reply(null, { host: label, echo: request.payload }),
      {
        discovery: plain ? 'plain' : 'tagged',
        ...(plain ? { transport: transports[0] as TransportKind } : {}),
      },
    )
    try {
      await server.start({ timeoutMs: 15_000 })
      closers.push(() => server.close())
      return server.bound
    } catch (err) {
      await server.close()
      throw err
    }
  },
  async lookup(args) {
    return link.lookup(args.name as string, { timeoutMs: 10_000 })
  },
  async request(args) {
    return client(args.transport as TransportKind).request(args.name as string, args.payload, {
      idempotent: true,
    })
  },
  async map(args) {
    const results = await client(args.transport as TransportKind).map(args.name as string, args.payload)
    return results.map((result) =>
      result.ok ? result.value : { error: result.error.code, worker: result.worker },
    )
  },
  /** The reference client (grenache-nodejs-http through grenache-nodejs-link) calling `name`. */
  async referenceRequest(args) {
    const referenceLink = new ReferenceLink({ grape: GRAPE })
    referenceLink.start()
    const peer = new referenceHttp.PeerRPCClient(referenceLink, {})
    peer.init()
    try {
      return await new Promise((resolve, reject) =>
        peer.request(args.name as string, args.payload, { timeout: 10_000 }, (err, data) =>
          err ? reject(err) : resolve(data),
        ),
      )
    } finally {
      peer.stop()
      referenceLink.stop()
    }
  },
  /** A PubServer publishing `message` every 50 ms until exit: subscribers may connect any time. */
  async publish(args) {
    const server = new PubServer({
      link,
      name: args.name as string,
      transport: args.transport as 'ws' | 'zmq',
    })
    closers.push(() => server.close())
    await server.start({ timeoutMs: 15_000 })
    const timer = setInterval(() => server.publish(`${args.message} from ${label}`), 50)
    // Closed in reverse: the timer stops before the server it publishes on.
    closers.push(() => clearInterval(timer))
    return { port: server.port }
  },
  async sub(args) {
    const name = args.name as string
    const sub = new SubClient({ link, name, transport: args.transport as 'ws' | 'zmq' })
    const entry = { sub, seen: [] as string[] }
    sub.on('sub:message', (message: SubMessage) => entry.seen.push(String(message.data)))
    subs.set(name, entry)
    closers.push(() => sub.close())
    await sub.start({ timeoutMs: 15_000 })
    await until(() => entry.seen.length > 0, `a message of ${name}`, 15_000)
    return entry.seen[0]
  },
  async putMutable(args) {
    const keys = generateKeyPair()
    const signer = createSigner(keys.secretKey, keys.publicKey)
    const { hash, seq } = await link.putMutable(args.value as string, {
      signer,
      salt: args.salt as string,
      timeoutMs: 10_000,
    })
    return { hash, seq }
  },
  async get(args) {
    const item = await link.get(args.hash as string, {
      salt: args.salt as string,
      cache: false,
      timeoutMs: 10_000,
    })
    return item && { v: item.v, seq: item.seq }
  },
  /** A feed publisher, announced through the Link unless `announce: false` (replicas then name it). */
  async publisher(args) {
    const publisher = new OrderBookPublisher({
      ...(args.announce === false ? {} : { link }),
      ...(typeof args.host === 'string' ? { host: args.host } : {}),
      transport: { kind: args.kind as 'multicast' | 'unicast' },
    })
    closers.push(() => publisher.close())
    publishers.set(args.tag as string, { publisher, next: orderBookWorkload(Number(args.seed ?? 15)) })
    const address = await publisher.start()
    return { control: `${address.host}:${address.port}`, info: publisher.info }
  },
  async apply(args) {
    const { publisher, next } = publishers.get(args.tag as string) as {
      publisher: OrderBookPublisher
      next: ReturnType<typeof orderBookWorkload>
    }
    await publish(publisher, next, Number(args.count), 100)
    const { seq, digest, leaves } = publisher.stats
    return { seq, digest, leaves }
  },
  /** A replica that finds the feed through the Link, or at `publisher` (`host:port`). */
  async replica(args) {
    const replica = new OrderBookReplica(
      typeof args.publisher === 'string'
        ? { publisher: args.publisher, transport: { kind: 'unicast' } }
        : { link },
    )
    closers.push(() => replica.close())
    replicas.set(args.tag as string, replica)
    await replica.start({ timeoutMs: 20_000 })
    await replica.synced({ timeoutMs: 20_000 })
    return { seq: replica.seq }
  },
  async replicaAt(args) {
    const replica = replicas.get(args.tag as string) as OrderBookReplica
    await until(() => replica.seq >= Number(args.seq), `seq ${args.seq}`, 20_000)
    const { digest, leaves, gaps, resyncs } = replica.stats
    return { seq: replica.seq, digest, leaves, gaps, resyncs }
  },
}

const say = (value: unknown): void => {
  process.stdout.write(`${JSON.stringify(value)}\n`)
}

say({ id: 0, ok: true, result: { ready: label } })
for await (const line of createInterface({ input: process.stdin })) {
  const { id, op, ...args } = JSON.parse(line) as { id: number; op: string } & Args
  if (op === 'exit') break
  const run = ops[op]
  if (!run) {
    say({ id, ok: false, code: 'ERR_INVALID_ARGUMENT', message: `no op ${op}` })
    continue
  }
  run(args).then(
    (result) => say({ id, ok: true, result }),
    (err: unknown) => {
      const error = toGrenacheError(err)
      say({ id, ok: false, code: error.code, message: error.message })
    },
  )
}
for (const close of closers.reverse()) await close()
process.exit(0)
