/**
 * The `grenache` CLI with the reference packages: what its put wrote, the reference Link reads; it
 * stores and reads through reference Grapes in one DHT with ours; it calls reference workers and
 * listens to a reference publisher, found under their plain names.
 */
import { mkdirSync, writeFileSync } from 'node:fs'
import { join } from 'node:path'
import { setTimeout as delay } from 'node:timers/promises'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { Grape } from '../../runtime/grape/grape.js'
import { ensureCliBuilt, killAllCli, runCli, startCli, tempHome } from '../helpers/cli.js'
import {
  freePort,
  type ReferenceLink,
  referenceLink,
  type StartedReferenceGrape,
  startReferenceGrape,
} from '../helpers/reference.js'
import {
  onLoopback,
  promised,
  type ReferencePeer,
  referenceHttp,
  referenceWs,
} from '../helpers/reference-peers.js'
import { loopbackGrape, waitForNodes } from '../helpers/testnet.js'

const VECTOR_SECRET =
  'e06d3183d14159228433ed599221b80bd0a5ce8352e4bdf0262f76786ef1c74db7e7a9fea2c0eb269d61e3b38e450a22e754941ac78479d6c54e1faf6037881d'
const VECTOR_PUBLIC = '77ff84905a91936367c01360803104f92432fcd904a43511876df5cdf3e7e548'

/** One DHT: a reference Grape (with verify, as an embedding program passes it) and one of ours. */
let theirs: StartedReferenceGrape
let ours: Grape
let ourUrl: string
const home = tempHome()
const links: ReferenceLink[] = []
const peers: ReferencePeer[] = []
const via = (url: string): NodeJS.ProcessEnv => ({ HOME: home.home, GRENACHE_GRAPE: url })

function theirLink(url: string): ReferenceLink {
  const link = referenceLink(url)
  links.push(link)
  return link
}

beforeAll(async () => {
  ensureCliBuilt()
  theirs = await startReferenceGrape()
  ours = new Grape(loopbackGrape({ bootstrap: [`127.0.0.1:${theirs.dhtPort}`] }))
  ourUrl = (await ours.start()).url
  await waitForNodes(ours, 1)
  const dir = join(home.home, '.grenache-cli')
  mkdirSync(dir, { recursive: true })
  writeFileSync(join(dir, 'key'), VECTOR_SECRET)
  writeFileSync(join(dir, 'key.pub'), VECTOR_PUBLIC)
}, 240_000)

afterAll(async () => {
  killAllCli()
  for (const peer of peers) peer.stop()
  for (const link of links) link.stop()
  await ours?.close()
  await theirs?.stop()
  home.remove()
})

describe('DHT items across implementations', () => {
  it('what our put stored, the reference Link reads: immutable, and mutable with a salt', async () => {
    const put = await runCli('grenache-put', ['stored by grenache put'], { env: via(ourUrl) })
    expect(put.code).toBe(0)
    const item = await promised<{ v: string }>((cb) => theirLink(ourUrl).get(put.stdout.trim(), cb))
    expect(item.v).toBe('stored by grenache put')

    const mutable = await runCli('grenache-put', ['-m', '-s', 'interop:link', '-n', '3', 'signed é'], {
      env: via(ourUrl),
    })
    expect(mutable.code).toBe(0)
    const read = await promised<{ v: string; seq: number; k: string }>((cb) =>
      theirLink(theirs.url).get({ hash: mutable.stdout.trim(), salt: 'interop:link' }, cb),
    )
    expect(read).toMatchObject({ v: 'signed é', seq: 3, k: VECTOR_PUBLIC })
  })

  it('puts through a reference Grape and gets through ours, and the other way round', async () => {
    for (const [from, to] of [
      [theirs.url, ourUrl],
      [ourUrl, theirs.url],
    ] as const) {
      const salt = `interop:${from === ourUrl ? 'ours' : 'theirs'}`
      const put = await runCli('grenache-put', ['-m', '-s', salt, `from ${from}`], { env: via(from) })
      expect(put).toMatchObject({ code: 0, stderr: '' })
      const get = await runCli('grenache-get', ['-s', salt, put.stdout.trim()], { env: via(to) })
      expect(get).toMatchObject({ code: 0, stdout: `from ${from}\n` })
    }
  })

  it('a stock reference Grape (no verify) refuses mutable items: "All queries failed", exit 1', async () => {
    // Two stock Grapes on their own: the put goes to the other one, which cannot verify.
    const stock = await startReferenceGrape([], { verify: false })
    const neighbour = await startReferenceGrape([`127.0.0.1:${stock.dhtPort}`], { verify: false })
    try {
      await expect.poll(() => neighbour.grape.node.nodes.count(), { timeout: 10_000 }).toBeGreaterThan(0)
      const put = await runCli('grenache-put', ['-m', '-s', 'interop:stock', 'x'], {
        env: via(neighbour.url),
      })
      expect(put).toMatchObject({ code: 1, stdout: '', stderr: 'grenache-put: error: All queries failed.\n' })
      const immutable = await runCli('grenache-put', ['immutable works'], { env: via(neighbour.url) })
      expect(immutable).toMatchObject({ code: 0, stdout: expect.stringMatching(/^[0-9a-f]{40}\n$/) })
    } finally {
      await neighbour.stop()
      await stock.stop()
    }
  })
})

describe('reference workers and publishers', () => {
  for (const [transport, kind] of [
    ['http', referenceHttp],
    ['ws', referenceWs],
  ] as const) {
    it(`request and map reach a reference ${transport} worker under its plain name`, async () => {
      const link = theirLink(theirs.url)
      const peer = new kind.PeerRPCServer(link, { timeout: 300_000 })
      peers.push(peer)
      peer.init()
      const port = await freePort()
      const service = onLoopback(() => peer.transport('server').listen(port))
      service.on('request', (_rid, _key, payload, handler) => handler.reply(null, { theirs: payload }))
      await promised((cb) => link.announce(`cli_ref_${transport}`, service.port, {}, cb))

      const request = await runCli(
        'grenache',
        ['request', '-T', transport, `cli_ref_${transport}`, '{"a":1}'],
        {
          env: via(ourUrl),
        },
      )
      expect(request).toMatchObject({ code: 0, stdout: '{"theirs":{"a":1}}\n', stderr: '' })
      const map = await runCli('grenache', ['map', '-T', transport, `cli_ref_${transport}`, '2'], {
        env: via(ourUrl),
      })
      expect(map).toMatchObject({ code: 0, stdout: `{"worker":"127.0.0.1:${port}","value":{"theirs":2}}\n` })
    })
  }

  it('sub prints what a reference PeerPub publishes', async () => {
    const link = theirLink(theirs.url)
    const publisher = new referenceWs.PeerPub(link, {})
    peers.push(publisher)
    publisher.init()
    const port = await freePort()
    const service = onLoopback(() => publisher.transport('server').listen(port))
    await promised((cb) => link.announce('cli_ref_feed', port, {}, cb))
    const sub = startCli('grenache', ['sub', '-n', '1', 'cli_ref_feed'], {
      env: via(ourUrl),
      keepStdin: true,
    })
    for (let i = 0; sub.child.exitCode === null && i < 200; i++) {
      service.pub?.('{"price":1}')
      await delay(50)
    }
    expect(await sub.result).toMatchObject({ code: 0, stdout: '{"price":1}\n' })
  })
})
