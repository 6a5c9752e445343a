import { createHash } from 'node:crypto'
import { once } from 'node:events'
import fc from 'fast-check'
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest'
import type { GrenacheError } from '../../../runtime/errors.js'
import { type BencodeDict, type BencodeInput, encodeBencode } from '../../../runtime/grape/bencode.js'
import { Grape } from '../../../runtime/grape/index.js'
import { checkKrpcMessage } from '../../../runtime/grape/krpc-check.js'
import { settledHandles, socketHandles } from '../../helpers/handles.js'
import { bencodeValue, KrpcProbe, krpcError, plainAnswer, query } from '../../helpers/krpc.js'
import { loopbackGrape } from '../../helpers/testnet.js'

async function post(url: string, op: string, data: unknown): Promise<{ status: number; body: string }> {
  const response = await fetch(`${url}/${op}`, {
    method: 'POST',
    body: JSON.stringify({ rid: 'test', data }),
    headers: { connection: 'close' },
  })
  return { status: response.status, body: await response.text() }
}

const sha1 = (bytes: Uint8Array) => createHash('sha1').update(bytes).digest()

describe('DhtGuard', () => {
  const before = socketHandles()
  let probe: KrpcProbe
  const grapes: Grape[] = []

  beforeAll(async () => {
    probe = await KrpcProbe.open()
  })
  afterEach(async () => {
    probe.answerer = plainAnswer
    await Promise.all(grapes.splice(0).map((grape) => grape.close()))
  })
  afterAll(async () => {
    await probe.close()
    expect(await settledHandles(before)).toEqual(before)
  })

  async function startGrape(options: Parameters<typeof loopbackGrape>[0] = {}): Promise<Grape> {
    const grape = new Grape(loopbackGrape(options))
    grapes.push(grape)
    await grape.start()
    return grape
  }

  /** A token from the Grape at `port` for the probe's address, fetched with a `get`. */
  async function tokenFrom(port: number): Promise<Buffer> {
    const answer = await probe.ask(port, query('get', { target: Buffer.alloc(20, 9) }))
    return (answer?.r as BencodeDict | undefined)?.token as Buffer
  }

  describe('in front of a Grape, one malformed query', () => {
    let grape: Grape
    let port: number
    beforeAll(async () => {
      grape = new Grape(loopbackGrape())
      await grape.start()
      port = grape.address.dhtPort
    })
    afterAll(async () => {
      await grape.close()
    })

    it.each<[string, Record<string, unknown>, string]>([
      ['a get whose target is an integer', query('get', { target: 5 }), '`a.target`'],
      ['a get_peers whose info_hash is an integer', query('get_peers', { info_hash: 5 }), '`a.info_hash`'],
      ['a find_node whose target is an integer', query('find_node', { target: 5 }), '`a.target`'],
      [
        'a find_node whose target is a list',
        query('find_node', { target: [Buffer.alloc(20)] }),
        '`a.target`',
      ],
      [
        'an announce_peer whose token is an integer',
        query('announce_peer', { info_hash: 'svc', port: 1000, token: 5 }),
        '`a.token`',
      ],
      ['a put whose token is a list', query('put', { v: 'x', token: [1] }), '`a.token`'],
    ])('%s is answered 203 naming the field, and the Grape keeps serving', async (_what, message, field) => {
      const refused = grape.stats.dhtQueriesRefused
      const answer = await probe.ask(port, message)
      expect(krpcError(answer)).toEqual([203, expect.stringContaining(field)])
      expect(grape.stats.dhtQueriesRefused).toBe(refused + 1)
      expect(await probe.ping(port)).toBe(true)
    })

    it('a mutable put with k but no sig (token fetched first) is answered 203', async () => {
      const token = await tokenFrom(port)
      expect(token).toHaveLength(20)
      const answer = await probe.ask(port, query('put', { v: 'x', token, k: Buffer.alloc(32, 1), seq: 1 }))
      expect(krpcError(answer)).toEqual([203, expect.stringContaining('`a.sig`')])
      expect(await probe.ping(port)).toBe(true)
    })

    it('a put of a dictionary past 1000 bytes encoded is answered 205 and not stored', async () => {
      const token = await tokenFrom(port)
      const v = { a: 'x'.repeat(7000) }
      const answer = await probe.ask(port, query('put', { v, token }))
      expect(krpcError(answer)).toEqual([205, 'data payload too large'])
      const stored = await probe.ask(port, query('get', { target: sha1(encodeBencode(v)) }))
      expect(stored?.r).toBeDefined()
      expect((stored?.r as BencodeDict | undefined)?.v).toBeUndefined()
    })

    it('a well-formed put still goes through, and is read back', async () => {
      const token = await tokenFrom(port)
      const v = { a: 'x'.repeat(900) }
      const answer = await probe.ask(port, query('put', { v, token }))
      expect(answer?.y?.toString()).toBe('r')
      const stored = await probe.ask(port, query('get', { target: sha1(encodeBencode(v)) }))
      const read = (stored?.r as BencodeDict | undefined)?.v as BencodeDict | undefined
      expect(read?.a).toEqual(Buffer.from(v.a))
    })

    it('drops a datagram whose y is a dictionary with a toString key, counts it and warns', async () => {
      const dropped = grape.stats.dhtMessagesDropped
      const warned = once(grape, 'warning') as Promise<[GrenacheError]>
      await probe.send(port, Buffer.from('d1:t2:aa1:yd8:toString1:xee'))
      const [warning] = await warned
      expect(warning).toMatchObject({ code: 'ERR_DECODE', message: expect.stringContaining('dropped') })
      expect(grape.stats.dhtMessagesDropped).toBe(dropped + 1)
      expect(await probe.ping(port)).toBe(true)
    })

    it('never needed to catch a throw from the DHT', () => {
      expect(grape.stats.dhtHandlerErrors).toBe(0)
    })
  })

  it('a verify function that throws (the embedder’s own) is reported, not fatal', async () => {
    const grape = await startGrape({
      verify: () => {
        throw new Error('verify is broken')
      },
    })
    const port = grape.address.dhtPort
    const token = await tokenFrom(port)
    const warned = once(grape, 'warning') as Promise<[GrenacheError]>
    const put = query('put', { v: 'x', token, k: Buffer.alloc(32, 1), sig: Buffer.alloc(64, 2), seq: 1 })
    await probe.send(port, encodeBencode({ ...put, t: probe.nextTid() } as BencodeInput))
    const [warning] = await warned
    expect(warning).toMatchObject({ code: 'ERR_ITEM_INVALID', message: 'verify threw: verify is broken' })
    expect(await probe.ping(port)).toBe(true)
  })

  describe('answers from the nodes it queries', () => {
    it('drops an error whose e holds a dictionary with a toString key (bootstrap answer)', async () => {
      probe.answerer = (q, id) => [
        Buffer.concat([
          Buffer.from('d1:eli201ed8:toString1:xee1:t'),
          encodeBencode(q.t as Buffer),
          Buffer.from('1:y1:ee'),
        ]),
        ...plainAnswer(q, id),
      ]
      const grape = await startGrape({ bootstrap: [`127.0.0.1:${probe.socket.address().port}`] })
      expect(grape.stats.dhtMessagesDropped).toBeGreaterThan(0)
      expect(grape.nodeCount).toBe(1)
    })

    it('drops an answer whose r.id is not a string, from a node in the routing table', async () => {
      const grape = await startGrape({ bootstrap: [`127.0.0.1:${probe.socket.address().port}`] })
      expect(grape.nodeCount).toBe(1)
      probe.answerer = (q, id) => [
        encodeBencode({ t: q.t as Buffer, y: 'r', r: { id: [1] } }),
        ...plainAnswer(q, id),
      ]
      const dropped = grape.stats.dhtMessagesDropped
      expect(await post(grape.address.url, 'lookup', 'a name nobody announced')).toEqual({
        status: 200,
        body: '[]',
      })
      expect(grape.stats.dhtMessagesDropped).toBeGreaterThan(dropped)
    })
  })

  describe('fuzz (seeded, bounded)', () => {
    const METHODS = ['ping', 'find_node', 'get_peers', 'announce_peer', 'get', 'put', 'vote']
    // Of queries and answers; not `nodes`, whose addresses the Grape would go on to query.
    const FIELDS = [
      ...['id', 'target', 'info_hash', 'token', 'port', 'implied_port'],
      ...['v', 'k', 'sig', 'seq', 'salt', 'cas', 'values'],
    ]
    /** Mostly a value of the right type for some field, else anything. */
    const field: fc.Arbitrary<BencodeInput> = fc.oneof(
      {
        weight: 3,
        arbitrary: fc.constantFrom<BencodeInput>(
          Buffer.alloc(20, 1),
          Buffer.alloc(32, 2),
          Buffer.alloc(64, 3),
          'x',
          1,
          4000,
        ),
      },
      { weight: 1, arbitrary: bencodeValue },
    )
    const args = fc
      .tuple(
        fc.record(Object.fromEntries(FIELDS.map((name) => [name, field])), { requiredKeys: [] }),
        fc.nat(9),
      )
      .map(([a, n]) => (n < 8 ? { ...a, id: Buffer.alloc(20, 0x5a) } : a))
    /** A query of every method, fields of any type; now and then a field that is no query's. */
    const structured = fc.record(
      {
        t: fc.oneof(
          { weight: 9, arbitrary: fc.uint8Array({ minLength: 1, maxLength: 4 }).map((b) => Buffer.from(b)) },
          { weight: 1, arbitrary: bencodeValue },
        ),
        y: fc.oneof(
          { weight: 8, arbitrary: fc.constant<BencodeInput>('q') },
          { weight: 2, arbitrary: fc.constantFrom<BencodeInput>('r', 'e') },
          { weight: 1, arbitrary: bencodeValue },
        ),
        q: fc.oneof({ weight: 9, arbitrary: fc.constantFrom<BencodeInput>(...METHODS) }, bencodeValue),
        a: fc.oneof({ weight: 9, arbitrary: args }, bencodeValue),
        r: fc.oneof(args, bencodeValue),
        e: bencodeValue,
      },
      { requiredKeys: ['t', 'y'] },
    )
    /** Each field a response may carry, mostly of its type, else anything. */
    const typed = (arbitrary: fc.Arbitrary<BencodeInput>) =>
      fc.oneof({ weight: 9, arbitrary }, { weight: 1, arbitrary: bencodeValue })
    const response = fc.record(
      {
        id: typed(fc.constantFrom(Buffer.alloc(20, 0x5a), Buffer.alloc(20, 1))),
        token: typed(fc.uint8Array({ maxLength: 20 }).map((b) => Buffer.from(b))),
        values: typed(fc.array(fc.uint8Array({ minLength: 6, maxLength: 6 }).map((b) => Buffer.from(b)))),
        v: bencodeValue,
        k: typed(fc.constant(Buffer.alloc(32, 2))),
        sig: typed(fc.constant(Buffer.alloc(64, 3))),
        seq: typed(fc.integer()),
      },
      { requiredKeys: [] },
    )
    /** An answer to a query: mostly a response with fields of any type, or an error. */
    const answer = fc.record(
      {
        y: fc.oneof(
          { weight: 8, arbitrary: fc.constant<BencodeInput>('r') },
          { weight: 1, arbitrary: fc.constant<BencodeInput>('e') },
          { weight: 1, arbitrary: bencodeValue },
        ),
        r: fc.oneof({ weight: 9, arbitrary: response }, bencodeValue),
        e: fc.oneof(fc.tuple(fc.integer({ min: 200, max: 400 }), fc.string()), bencodeValue),
      },
      { requiredKeys: ['y'] },
    )
    /** Byte edits of an encoded message: overwrite, cut, or splice in a random byte. */
    const mutated = fc
      .tuple(structured, fc.array(fc.tuple(fc.nat(), fc.nat(255), fc.nat(2)), { minLength: 1, maxLength: 3 }))
      .map(([message, edits]) => {
        let bytes = encodeBencode(message as BencodeInput)
        for (const [at, byte, how] of edits) {
          const i = at % bytes.length
          if (how === 0) bytes[i] = byte
          else if (how === 1) bytes = bytes.subarray(0, i)
          else bytes = Buffer.concat([bytes.subarray(0, i), Buffer.of(byte), bytes.subarray(i)])
          if (bytes.length === 0) bytes = Buffer.of(byte)
        }
        return bytes
      })
    const datagram = fc.oneof(
      { weight: 6, arbitrary: structured.map((m) => encodeBencode(m as BencodeInput)) },
      { weight: 3, arbitrary: mutated },
      { weight: 1, arbitrary: fc.uint8Array({ minLength: 1, maxLength: 64 }) },
    )

    /** 3000 datagrams, in batches of 50; each batch ends with a ping the Grape must answer. */
    const QUERY_BUDGET = 3000
    const BATCH = 50

    it(`sends ${QUERY_BUDGET} random and mutated datagrams: no crash, and the Grape still answers lookups`, async () => {
      const announcer = await startGrape()
      const grape = await startGrape({ bootstrap: [`127.0.0.1:${announcer.address.dhtPort}`] })
      const port = grape.address.dhtPort
      const datagrams = fc.sample(datagram, { seed: 0x66757a7a, numRuns: QUERY_BUDGET })
      for (let i = 0; i < datagrams.length; i += BATCH) {
        for (const bytes of datagrams.slice(i, i + BATCH)) await probe.send(port, bytes)
        expect(await probe.ping(port, 5000)).toBe(true)
      }
      // Every datagram was counted as the checks judge it, and a good share reached the DHT.
      const verdicts = datagrams.map((bytes) => checkKrpcMessage(bytes))
      const refused = verdicts.filter((v) => !v.ok && v.reply).length
      const dropped = verdicts.filter((v) => !v.ok && !v.reply).length
      expect(grape.stats).toEqual({
        dhtQueriesRefused: refused,
        dhtMessagesDropped: dropped,
        dhtHandlerErrors: 0,
        apiRequestsRefused: 0,
      })
      expect({ refused, dropped, passed: QUERY_BUDGET - refused - dropped }).toEqual({
        refused: expect.toSatisfy((n: number) => n > QUERY_BUDGET / 4),
        dropped: expect.toSatisfy((n: number) => n > QUERY_BUDGET / 10),
        passed: expect.toSatisfy((n: number) => n > QUERY_BUDGET / 10),
      })

      expect(await post(announcer.address.url, 'announce', ['fuzzed:service', 4321])).toEqual({
        status: 200,
        body: '1',
      })
      expect(await post(grape.address.url, 'lookup', 'fuzzed:service')).toEqual({
        status: 200,
        body: '["127.0.0.1:4321"]',
      })
    })

    /** 300 API calls, each answered by the probe with a random or mutated answer, then a good one. */
    const ANSWER_BUDGET = 300

    it(`answers ${ANSWER_BUDGET} lookups, gets and puts with random and mutated answers: no crash`, async () => {
      const answers = fc.sample(
        fc.oneof(
          { weight: 2, arbitrary: answer.map((m) => ({ message: m, edits: [] as [number, number][] })) },
          {
            weight: 1,
            arbitrary: fc.record({
              message: answer,
              edits: fc.array(fc.tuple(fc.nat(), fc.nat(255)), { minLength: 1, maxLength: 3 }),
            }),
          },
        ),
        { seed: 0x616e7377, numRuns: ANSWER_BUDGET * 4 },
      )
      let next = 0
      probe.answerer = (q, id) => {
        const { message, edits } = answers[next++ % answers.length] as (typeof answers)[number]
        const bytes = encodeBencode({ ...(message as Record<string, BencodeInput>), t: q.t as Buffer })
        for (const [at, byte] of edits) bytes[at % bytes.length] = byte
        return [bytes, ...plainAnswer(q, id)]
      }
      const grape = await startGrape({ bootstrap: [`127.0.0.1:${probe.socket.address().port}`] })
      const { url } = grape.address
      for (let i = 0; i < ANSWER_BUDGET; i += 10) {
        await Promise.all(
          Array.from({ length: 10 }, (_, j) => {
            const n = i + j
            if (n % 3 === 0) return post(url, 'lookup', `fuzz:${n}`)
            if (n % 3 === 1) return post(url, 'get', sha1(Buffer.from(`${n}`)).toString('hex'))
            return post(url, 'put', { v: `value ${n}` })
          }),
        )
      }
      expect(grape.stats.dhtHandlerErrors).toBe(0)
      expect(grape.stats.dhtMessagesDropped).toBeGreaterThan(0)
      expect(await probe.ping(grape.address.dhtPort)).toBe(true)
      expect((await post(url, 'lookup', 'still:here')).status).toBe(200)
    })
  })
})
