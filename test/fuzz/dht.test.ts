import { createHash } from 'node:crypto'
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest'
import { type BencodeInput, encodeBencode } from '../../runtime/grape/bencode.js'
import { Grape } from '../../runtime/grape/index.js'
import { checkKrpcMessage } from '../../runtime/grape/krpc-check.js'
import { settledHandles, socketHandles } from '../helpers/handles.js'
import { KrpcProbe, plainAnswer } from '../helpers/krpc.js'
import { loopbackGrape } from '../helpers/testnet.js'
import {
  budget,
  cases,
  type ProcessWatch,
  runBatches,
  showBytes,
  timeoutFor,
  watchProcess,
} from './harness.js'
import { answerCase, datagram } from './krpc-messages.js'

/**
 * The Grape's DHT port under random and mutated KRPC: queries sent to it, and answers to the
 * queries it makes itself. bittorrent-dht trusts the type of every field, so a single bad packet
 * used to end the process; the guard in front of it (runtime/grape/dht-guard.ts) must refuse or
 * drop each one, and the Grape must still answer pings and lookups afterwards.
 */

async function post(url: string, op: string, data: unknown): Promise<{ status: number; body: string }> {
  const response = await fetch(`${url}/${op}`, {
    method: 'POST',
    body: JSON.stringify({ rid: 'test', data }),
    headers: { connection: 'close' },
  })
  return { status: response.status, body: await response.text() }
}

const sha1 = (bytes: Uint8Array) => createHash('sha1').update(bytes).digest()

describe('fuzz: the DHT port', () => {
  const before = socketHandles()
  const grapes: Grape[] = []
  let probe: KrpcProbe
  let watch: ProcessWatch

  beforeAll(async () => {
    watch = watchProcess()
    probe = await KrpcProbe.open()
  })
  afterEach(async () => {
    probe.answerer = plainAnswer
    await Promise.all(grapes.splice(0).map((grape) => grape.close()))
  })
  afterAll(async () => {
    watch?.stop()
    await probe?.close()
    expect(await settledHandles(before)).toEqual(before)
  })

  async function startGrape(options: Parameters<typeof loopbackGrape>[0] = {}): Promise<Grape> {
    const grape = new Grape(loopbackGrape(options))
    grapes.push(grape)
    await grape.start()
    return grape
  }

  const QUERIES = budget(3000)

  it(
    `takes ${QUERIES} random and mutated datagrams: each counted, no crash, and the Grape still answers lookups`,
    async () => {
      const announcer = await startGrape()
      const grape = await startGrape({ bootstrap: [`127.0.0.1:${announcer.address.dhtPort}`] })
      const port = grape.address.dhtPort
      const datagrams = cases('dht-queries', datagram, QUERIES)
      await runBatches(datagrams, {
        target: 'dht-queries',
        watch,
        concurrency: 1,
        batch: 50,
        show: showBytes,
        probe: async (bytes) => void (await probe.send(port, bytes)),
        async checkpoint() {
          if (!(await probe.ping(port, 5000))) throw new Error('the Grape did not answer a ping')
        },
      })
      // Every datagram was counted as the checks judge it, and a good share reached the DHT.
      const verdicts = datagrams.map((bytes) => checkKrpcMessage(bytes))
      const refused = verdicts.filter((v) => !v.ok && v.reply).length
      const dropped = verdicts.filter((v) => !v.ok && !v.reply).length
      expect(grape.stats).toEqual({
        dhtQueriesRefused: refused,
        dhtMessagesDropped: dropped,
        dhtHandlerErrors: 0,
        apiRequestsRefused: 0,
        dhtRevalidations: 0,
        dhtRevalidationFallbacks: 0,
      })
      expect({ refused, dropped, passed: QUERIES - refused - dropped }).toEqual({
        refused: expect.toSatisfy((n: number) => n > QUERIES / 4),
        dropped: expect.toSatisfy((n: number) => n > QUERIES / 10),
        passed: expect.toSatisfy((n: number) => n > QUERIES / 10),
      })

      expect(await post(announcer.address.url, 'announce', ['fuzzed:service', 4321])).toEqual({
        status: 200,
        body: '1',
      })
      expect(await post(grape.address.url, 'lookup', 'fuzzed:service')).toEqual({
        status: 200,
        body: '["127.0.0.1:4321"]',
      })
    },
    timeoutFor(2000),
  )

  /** API calls, each making the Grape query the probe, which answers at random (and then well). */
  const CALLS = budget(300)

  it(
    `makes ${CALLS} lookups, gets and puts answered with random and mutated answers: no crash`,
    async () => {
      const answers = cases('dht-answers', answerCase, CALLS * 4)
      let next = 0
      probe.answerer = (q, id) => {
        const { message, edits } = answers[next++ % answers.length] as (typeof answers)[number]
        const bytes = encodeBencode({ ...(message as Record<string, BencodeInput>), t: q.t as Buffer })
        for (const [at, byte] of edits) bytes[at % bytes.length] = byte
        return [bytes, ...plainAnswer(q, id)]
      }
      const grape = await startGrape({ bootstrap: [`127.0.0.1:${probe.socket.address().port}`] })
      const { url } = grape.address
      const call = (n: number) => {
        if (n % 3 === 0) return post(url, 'lookup', `fuzz:${n}`)
        if (n % 3 === 1) return post(url, 'get', sha1(Buffer.from(`${n}`)).toString('hex'))
        return post(url, 'put', { v: `value ${n}` })
      }
      await runBatches(
        Array.from({ length: CALLS }, (_, n) => n),
        {
          target: 'dht-answers',
          watch,
          concurrency: 10,
          batch: 30,
          show: (n) => `call ${n} (${['lookup', 'get', 'put'][n % 3]}), answers up to ${next}`,
          async probe(n) {
            const { status } = await call(n)
            // A node's BEP 44 error (3xx) becomes the HTTP status, as the reference does (G3).
            return status === 200 || (status >= 300 && status < 400) ? undefined : `answered HTTP ${status}`
          },
          async checkpoint() {
            if (!(await probe.ping(grape.address.dhtPort))) throw new Error('the Grape did not answer a ping')
          },
        },
      )
      expect(grape.stats.dhtHandlerErrors).toBe(0)
      expect(grape.stats.dhtMessagesDropped).toBeGreaterThan(0)
      expect((await post(url, 'lookup', 'still:here')).status).toBe(200)
    },
    timeoutFor(2000),
  )
})
