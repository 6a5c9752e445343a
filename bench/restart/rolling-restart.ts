/**
 * Calls that fail during and after a rolling restart of three workers, on a real two-Grape DHT:
 *   npx tsx bench/restart/rolling-restart.ts [--window-ms 120000] [--transport http|ws|zmq]
 * Each worker in turn stops (requests in flight dropped, as a killed process would) and a new one
 * starts on a new port; the DHT keeps the stopped workers' addresses for its peer max-age (120 s by
 * default), so the client's lookups hold three dead addresses beside three live ones (six with
 * `--restarts 2`). Load: 4 loops of idempotent calls and 2 of other calls on one long-lived client,
 * 1 loop of idempotent calls each from a new client (a short-lived process: it knows nothing yet),
 * one `map` a second, from the first stop until `--window-ms` after the last start. Prints a
 * Markdown table. Not a test; asserts nothing.
 */
import { parseArgs } from 'node:util'
import type { GrenacheError } from '../../runtime/errors.js'
import { Grape } from '../../runtime/grape/index.js'
import { Link } from '../../runtime/link/index.js'
import { RpcClient, RpcServer } from '../../runtime/peer/index.js'
import type { TransportKind } from '../../runtime/transport/types.js'

const { values } = parseArgs({
  options: {
    'window-ms': { type: 'string', default: '120000' },
    transport: { type: 'string', default: 'http' },
    restarts: { type: 'string', default: '1' },
  },
})
const windowMs = Number(values['window-ms'])
const transport = values.transport as TransportKind
const restarts = Number(values.restarts)
const KEY = 'restart@1'
const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms))

const grapes = [new Grape({ apiPort: 0, dhtPort: 0, dhtHost: '127.0.0.1', bootstrap: [] })]
const first = await (grapes[0] as Grape).start()
grapes.push(
  new Grape({ apiPort: 0, dhtPort: 0, dhtHost: '127.0.0.1', bootstrap: [`127.0.0.1:${first.dhtPort}`] }),
)
const second = await (grapes[1] as Grape).start()
const workerLink = new Link({ grape: first.url })
const clientLink = new Link({ grape: second.url })

async function startWorker(): Promise<RpcServer> {
  const server = new RpcServer({ link: workerLink, listen: [{ transport }], drainTimeoutMs: 0 })
  server.handle(KEY, (request, reply) => reply(null, request.payload))
  await server.start()
  return server
}

const workers = [await startWorker(), await startWorker(), await startWorker()]
const client = new RpcClient({ link: clientLink, transport })
for (let found = 0; found < 3; await sleep(100)) {
  found = (await clientLink.lookup(`${KEY}/${transport}`).catch(() => [])).length
  if (found < 3) clientLink.invalidate(`${KEY}/${transport}`)
}

const counts = { idempotent: 0, other: 0, fresh: 0, maps: 0, mapOk: 0, mapGone: 0, mapFailed: 0 }
const failures = {
  idempotent: new Map<string, number>(),
  other: new Map<string, number>(),
  fresh: new Map<string, number>(),
}
let running = true
async function loop(idempotent: boolean): Promise<void> {
  const kind = idempotent ? 'idempotent' : 'other'
  while (running) {
    counts[kind]++
    await client.request(KEY, counts[kind], { idempotent, timeoutMs: 2000 }).catch((err: GrenacheError) => {
      failures[kind].set(err.code, (failures[kind].get(err.code) ?? 0) + 1)
    })
    await sleep(2)
  }
}
async function freshLoop(): Promise<void> {
  while (running) {
    counts.fresh++
    const once = new RpcClient({ link: clientLink, transport })
    await once
      .request(KEY, counts.fresh, { idempotent: true, timeoutMs: 2000 })
      .catch((err: GrenacheError) => {
        failures.fresh.set(err.code, (failures.fresh.get(err.code) ?? 0) + 1)
      })
    await once.close()
    await sleep(2)
  }
}
async function mapLoop(): Promise<void> {
  while (running) {
    counts.maps++
    for (const result of await client.map(KEY, 'map', { timeoutMs: 2000 }).catch(() => [])) {
      if (result.ok) counts.mapOk++
      // `gone` is new: an older runtime reports a refused address as a plain failure.
      else if ((result as { gone?: boolean }).gone) counts.mapGone++
      else counts.mapFailed++
    }
    await sleep(1000)
  }
}

const started = Date.now()
const loops = [true, true, true, true, false, false].map((idempotent) => loop(idempotent))
loops.push(mapLoop(), freshLoop())
for (let i = 0; i < workers.length * restarts; i++) {
  await (workers[i % 3] as RpcServer).close()
  await sleep(1000)
  workers[i % 3] = await startWorker()
  await sleep(2000)
}
const restartMs = Date.now() - started
await sleep(windowMs)
running = false
await Promise.all(loops)
clientLink.invalidate(`${KEY}/${transport}`)
const stale = (await clientLink.lookup(`${KEY}/${transport}`)).length

const show = (m: Map<string, number>) => [...m].map(([code, n]) => `${n} ${code}`).join(', ') || '0'
const sum = (m: Map<string, number>) => [...m.values()].reduce((a, b) => a + b, 0)
console.log(
  `${restarts} rolling restart(s) of 3 ${transport} workers (${restartMs} ms), then ${windowMs} ms; addresses found at the end: ${stale}\n`,
)
console.log('| calls | made | failed | by code |\n|---|---|---|---|')
console.log(
  `| idempotent | ${counts.idempotent} | ${sum(failures.idempotent)} | ${show(failures.idempotent)} |`,
)
console.log(
  `| idempotent, a new client each | ${counts.fresh} | ${sum(failures.fresh)} | ${show(failures.fresh)} |`,
)
console.log(`| not idempotent | ${counts.other} | ${sum(failures.other)} | ${show(failures.other)} |`)
console.log(
  `\nmap: ${counts.maps} calls; per address: ${counts.mapOk} ok, ${counts.mapGone} gone, ${counts.mapFailed} failed`,
)

await client.close()
await Promise.all(workers.map((w) => w.close()))
await Promise.all([workerLink.close(), clientLink.close()])
await Promise.all(grapes.map((g) => g.close()))
