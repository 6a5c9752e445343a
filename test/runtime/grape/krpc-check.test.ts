import fc from 'fast-check'
import { describe, expect, it } from 'vitest'
import { type BencodeInput, encodeBencode } from '../../../runtime/grape/bencode.js'
import { checkKrpcMessage, valueSize } from '../../../runtime/grape/krpc-check.js'
import { bencodeValue } from '../../helpers/krpc.js'

const t = Buffer.from('aa')
const id = Buffer.alloc(20, 1)
const token = Buffer.alloc(20, 2)
const k = Buffer.alloc(32, 3)
const sig = Buffer.alloc(64, 4)

const check = (message: BencodeInput) => checkKrpcMessage(encodeBencode(message))
const ask = (q: string, a: Record<string, BencodeInput>) => check({ t, y: 'q', q, a: { id, ...a } })
/** The verdict of a query refused with `code` and a message containing `text`. */
const refused = (text: string, code = 203) => ({
  ok: false,
  reason: expect.stringContaining(text),
  reply: { t, code, message: expect.stringContaining(text) },
})

describe('checkKrpcMessage()', () => {
  describe('passes well-formed messages on', () => {
    it.each<[string, Record<string, BencodeInput>]>([
      ['ping', {}],
      ['find_node', { target: id }],
      ['get_peers', { info_hash: Buffer.from('a service name of any length') }],
      ['announce_peer', { info_hash: Buffer.from('svc'), port: 4000, token }],
      ['announce_peer', { info_hash: Buffer.from('svc'), implied_port: 1, token }],
      ['get', { target: id }],
      ['put', { v: Buffer.alloc(1000), token }],
      ['put', { v: { a: [1, 'b'] }, token }],
      ['put', { v: 'x', token, k, sig, seq: 3, salt: 'salt', cas: 2 }],
      ['sample_infohashes', { target: 5 }],
    ])('%s %j', (q, a) => {
      expect(ask(q, a)).toMatchObject({ ok: true, query: true, t })
    })

    it('responses and errors', () => {
      const r = { id, nodes: Buffer.alloc(26), values: [Buffer.alloc(6)], token, v: { x: 1 }, k, sig, seq: 1 }
      expect(check({ t, y: 'r', r })).toMatchObject({ ok: true, query: false, t: undefined })
      expect(check({ t, y: 'e', e: [201, 'A Generic Error Ocurred'] })).toMatchObject({ ok: true })
    })
  })

  describe('answers malformed queries with a KRPC error naming the rule', () => {
    it.each<[string, string, Record<string, BencodeInput>, string]>([
      ['a get whose target is an integer', 'get', { target: 5 }, '`a.target`'],
      ['a get with no target', 'get', {}, '`a.target`'],
      ['a get_peers whose info_hash is an integer', 'get_peers', { info_hash: 5 }, '`a.info_hash`'],
      ['a get_peers whose info_hash is empty', 'get_peers', { info_hash: '' }, '`a.info_hash`'],
      ['a find_node whose target is an integer', 'find_node', { target: 5 }, '`a.target`'],
      ['a find_node whose target is a list', 'find_node', { target: [id] }, '`a.target`'],
      [
        'an announce_peer whose token is an integer',
        'announce_peer',
        { info_hash: 's', port: 1, token: 5 },
        '`a.token`',
      ],
      ['an announce_peer without a port', 'announce_peer', { info_hash: 's', token }, '`a.port`'],
      [
        'an announce_peer with port 70000',
        'announce_peer',
        { info_hash: 's', port: 70_000, token },
        '`a.port`',
      ],
      ['a put whose token is a dictionary', 'put', { v: 'x', token: { a: 1 } }, '`a.token`'],
      ['a put without v', 'put', { token }, '`a.v`'],
      ['a put with k but no sig', 'put', { v: 'x', token, k, seq: 1 }, '`a.sig`'],
      ['a put with sig but no k', 'put', { v: 'x', token, sig, seq: 1 }, '`a.k`'],
      ['a put with a 31-byte k', 'put', { v: 'x', token, k: k.subarray(1), sig, seq: 1 }, '`a.k`'],
      ['a put with a mutable item and no seq', 'put', { v: 'x', token, k, sig }, '`a.seq`'],
      ['a put with a list salt', 'put', { v: 'x', token, k, sig, seq: 1, salt: [1] }, '`a.salt`'],
      [
        'a put with a 65-byte salt',
        'put',
        { v: 'x', token, k, sig, seq: 1, salt: 's'.repeat(65) },
        '`a.salt`',
      ],
      ['a put with a string cas', 'put', { v: 'x', token, k, sig, seq: 1, cas: '1' }, '`a.cas`'],
    ])('%s', (_what, q, a, field) => {
      expect(ask(q, a)).toEqual(refused(field))
    })

    it.each<[string, BencodeInput]>([
      ['no q', { t, y: 'q', a: { id } }],
      ['an integer q', { t, y: 'q', q: 5, a: { id } }],
      ['no a', { t, y: 'q', q: 'ping' }],
      ['a list a', { t, y: 'q', q: 'ping', a: [id] }],
      ['no a.id', { t, y: 'q', q: 'ping', a: {} }],
      ['a 19-byte a.id', { t, y: 'q', q: 'ping', a: { id: id.subarray(1) } }],
    ])('a query with %s', (_what, message) => {
      expect(check(message)).toEqual(refused('a query needs'))
    })

    it('a key named __proto__ anywhere, which the DHT would read as a prototype', () => {
      // JSON.parse makes `__proto__` an own key, as our decoder does.
      const v = JSON.parse('{"a": [{"__proto__": "x"}]}') as BencodeInput
      expect(ask('put', { v, token })).toEqual(refused('__proto__'))
    })

    it('answers 205 to a value past 1000 bytes: a string by its bytes, anything else encoded', () => {
      expect(ask('put', { v: Buffer.alloc(1001), token })).toEqual(refused('too large', 205))
      const dict = { a: 'x'.repeat(7000) }
      expect(ask('put', { v: dict, token })).toEqual(refused('too large', 205))
      expect(ask('put', { v: Array(400).fill('ab'), token })).toEqual(refused('too large', 205))
      expect(valueSize({ a: 'x'.repeat(990) })).toBe(999)
    })
  })

  describe('drops what cannot be answered', () => {
    it.each<[string, Uint8Array]>([
      ['bytes that are not bencode', Buffer.from('d1:y')],
      ['an empty datagram', Buffer.alloc(0)],
      ['a list', encodeBencode([1, 2])],
      ['a y that is a dictionary with a toString key', Buffer.from('d1:t2:aa1:yd8:toString1:xee')],
      ['a query without t', encodeBencode({ y: 'q', q: 'ping', a: { id } })],
      ['a query whose t is an integer', encodeBencode({ t: 5, y: 'q', q: 'ping', a: { id } })],
      ['an unknown y', encodeBencode({ t, y: 'x' })],
      ['a response without r', encodeBencode({ t, y: 'r' })],
      ['a response whose r.id is a list', encodeBencode({ t, y: 'r', r: { id: [1] } })],
      ['a response whose r.values holds an integer', encodeBencode({ t, y: 'r', r: { id, values: [5] } })],
      ['a response whose r.sig is an integer', encodeBencode({ t, y: 'r', r: { id, sig: 5 } })],
      ['an error whose e holds a dictionary', encodeBencode({ t, y: 'e', e: [201, { toString: 'x' }] })],
      ['an error whose e is a string', encodeBencode({ t, y: 'e', e: 'oops' })],
    ])('%s', (_what, datagram) => {
      expect(checkKrpcMessage(datagram)).toEqual({ ok: false, reason: expect.any(String), reply: undefined })
    })
  })

  it('never throws, whatever the bytes (seeded)', () => {
    fc.assert(
      fc.property(
        fc.oneof(
          bencodeValue.map((v) => encodeBencode(v)),
          fc.uint8Array({ maxLength: 80 }),
        ),
        (bytes) => {
          expect(checkKrpcMessage(bytes)).toHaveProperty('ok')
        },
      ),
      { seed: 0x6b727063, numRuns: 2000 },
    )
  })
})
