import { createHash } from 'node:crypto'
import { once } from 'node:events'
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest'
import type { GrenacheError } from '../../../runtime/errors.js'
import { type BencodeDict, type BencodeInput, encodeBencode } from '../../../runtime/grape/bencode.js'
import { Grape } from '../../../runtime/grape/index.js'
import { settledHandles, socketHandles } from '../../helpers/handles.js'
import { KrpcProbe, krpcError, plainAnswer, query } from '../../helpers/krpc.js'
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

// The seeded fuzz of the DHT port (random and mutated datagrams and answers) is test/fuzz/dht.test.ts.
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
    await grape.joined()
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
})
