import { connect, type Socket } from 'node:net'
import { Agent, request } from 'undici'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import type { GrenacheError } from '../../../runtime/errors.js'
import { settledHandles, socketHandles } from '../../helpers/handles.js'
import { createTestnet, type Testnet } from '../../helpers/testnet.js'

/**
 * Our Grape under a barrage of bad input on its HTTP API: each request gets the answer the
 * compatibility checklist gives (grenache-wire.md §2.2, §9), nothing crashes or hangs, and
 * afterwards the same Grape still announces and looks up correctly.
 */

interface Answer {
  status: number
  body: string
}

const body = (data: unknown): string => JSON.stringify({ rid: 'bad-input', data })
const ok = (text: string): Answer => ({ status: 200, body: text })
const quoted = (message: string): Answer => ok(JSON.stringify(message))
const payloadInvalid: Answer = { status: 500, body: 'ERR_GRAPE_PAYLOAD_INVALID' }
const payloadSize: Answer = { status: 413, body: 'ERR_GRAPE_PAYLOAD_SIZE' }

const K = 'ab'.repeat(32)
const SIG = 'cd'.repeat(64)

interface RawResult {
  /** Everything the server sent, as latin1 text. */
  text: string
  /** The server closed the connection before `waitMs`. */
  closed: boolean
}

/** Every raw socket a test opened, so the suite can destroy leftovers before checking handles. */
const sockets = new Set<Socket>()

/** Opens a TCP connection to the API. */
function openRaw(port: number): Socket {
  const socket = connect(port, '127.0.0.1')
  sockets.add(socket)
  socket.on('close', () => sockets.delete(socket))
  socket.on('error', () => undefined)
  return socket
}

/** Writes `parts` one after the other (a few ms apart) and collects the answer until close or `waitMs`. */
function rawExchange(port: number, parts: (string | Buffer)[], waitMs = 5000): Promise<RawResult> {
  return new Promise((resolve) => {
    const socket = openRaw(port)
    let text = ''
    const timer = setTimeout(() => {
      socket.destroy()
      resolve({ text, closed: false })
    }, waitMs)
    socket.on('data', (chunk: Buffer) => {
      text += chunk.toString('latin1')
    })
    socket.on('close', () => {
      clearTimeout(timer)
      resolve({ text, closed: true })
    })
    socket.on('connect', async () => {
      for (const part of parts) {
        if (!socket.writable) return
        socket.write(part)
        await new Promise((r) => setTimeout(r, 2))
      }
    })
  })
}

/** A complete request with a Content-Length, as raw text. */
const post = (path: string, text: string, headers = ''): string =>
  `POST ${path} HTTP/1.1\r\nHost: grape\r\nContent-Length: ${Buffer.byteLength(text)}\r\n${headers}\r\n${text}`

/** Status line and body of a raw HTTP/1.1 answer. */
function parseRaw(text: string): Answer {
  const [head = '', rest = ''] = text.split('\r\n\r\n', 2)
  const status = Number(/^HTTP\/1\.1 (\d{3}) /.exec(head)?.[1] ?? 0)
  return { status, body: rest }
}

describe('our Grape API under bad input', () => {
  const before = socketHandles()
  const agent = new Agent()
  const warnings: GrenacheError[] = []
  let net: Testnet
  let url: string
  let port: number

  const exchange = async (path: string, text: string, method = 'POST'): Promise<Answer> => {
    const response = await request(`${url}${path}`, { method, body: text, dispatcher: agent })
    return { status: response.statusCode, body: await response.body.text() }
  }

  beforeAll(async () => {
    // The raw requests below say `Host: grape`: a DNS name, accepted only when allowed.
    net = await createTestnet(2, { allowedHosts: ['grape'] })
    for (const grape of net.grapes) grape.on('warning', (err) => warnings.push(err))
    url = net.urls[0] as string
    port = net.grapes[0]?.address.apiPort as number
  })
  afterAll(async () => {
    for (const socket of sockets) socket.destroy()
    await agent.close()
    await net?.close()
    expect(await settledHandles(before, 5000)).toEqual(before)
  })

  describe('oversized bodies', () => {
    it('answers 413 ERR_GRAPE_PAYLOAD_SIZE (raw text) to a Content-Length over 8192 without reading the body, and closes', async () => {
      const result = await rawExchange(port, [
        'POST /put HTTP/1.1\r\nHost: grape\r\nContent-Length: 100000\r\n\r\n{"rid":"x","data":{"v":"',
      ])
      expect(result.closed).toBe(true)
      expect(parseRaw(result.text)).toEqual(payloadSize)
    })

    it('answers 413 to a chunked body that grows past 8192 bytes, and closes', async () => {
      const chunk = `3e8\r\n${'x'.repeat(1000)}\r\n`
      const result = await rawExchange(port, [
        'POST /lookup HTTP/1.1\r\nHost: grape\r\nTransfer-Encoding: chunked\r\n\r\n',
        ...Array.from({ length: 30 }, () => chunk),
        '0\r\n\r\n',
      ])
      expect(result.closed).toBe(true)
      expect(parseRaw(result.text)).toEqual(payloadSize)
    })

    it('answers 413 to a fully sent 8193-byte body and 20 KB, 1 MB bodies', async () => {
      const frame = JSON.stringify({ rid: '', data: 'x' })
      const of = (bytes: number) => JSON.stringify({ rid: 'x'.repeat(bytes - frame.length), data: 'x' })
      expect(await exchange('/lookup', of(8193))).toEqual(payloadSize)
      expect(await exchange('/lookup', of(20_000))).toEqual(payloadSize)
      expect(await exchange('/put', body({ v: 'x'.repeat(1024 * 1024) }))).toEqual(payloadSize)
      expect(await exchange('/lookup', of(8192))).toEqual(ok('[]'))
    })

    it('accepts a chunked body under the limit', async () => {
      const text = body('api-input:nobody')
      const result = await rawExchange(port, [
        'POST /lookup HTTP/1.1\r\nHost: grape\r\nTransfer-Encoding: chunked\r\nConnection: close\r\n\r\n',
        `${text.length.toString(16)}\r\n${text}\r\n`,
        '0\r\n\r\n',
      ])
      expect(parseRaw(result.text)).toEqual(ok('[]'))
    })
  })

  describe('bodies that are not JSON', () => {
    it.each([
      ['bad JSON', '{nope'],
      ['an empty body', ''],
      ['a truncated object', '{"rid":"x","data":'],
      ['a byte-order mark', `\ufeff${body('x')}`],
      ['a NUL byte', '\u0000'],
      ['plain text', 'lookup rpc_test'],
      ['two JSON documents', `${body('a')}${body('b')}`],
    ])('answers %s with 500 ERR_GRAPE_PAYLOAD_INVALID (raw text)', async (_name, text) => {
      expect(await exchange('/lookup', text)).toEqual(payloadInvalid)
    })

    it('decodes invalid UTF-8 in a name to U+FFFD (Buffer#toString, as the reference) and looks it up', async () => {
      const invalid = Buffer.from('{"rid":"x","data":"\u00ff\u00fe\u00fd"}', 'latin1')
      const result = await rawExchange(port, [
        `POST /lookup HTTP/1.1\r\nHost: grape\r\nContent-Length: ${invalid.length}\r\nConnection: close\r\n\r\n`,
        invalid,
      ])
      // latin1 bytes 0xff 0xfe 0xfd are not UTF-8: Node decodes them as three U+FFFD.
      expect(parseRaw(result.text)).toEqual(ok('[]'))
    })
  })

  describe('wrong types for every operation', () => {
    const cases: [string, string, string, Answer][] = [
      ['lookup', 'without data', '{"rid":"x"}', quoted('ERR_GRAPE_LOOKUP')],
      ['lookup', 'of ""', body(''), quoted('ERR_GRAPE_LOOKUP')],
      ['lookup', 'of 0', body(0), quoted('ERR_GRAPE_LOOKUP')],
      ['lookup', 'of false', body(false), quoted('ERR_GRAPE_LOOKUP')],
      ['lookup', 'of null', body(null), quoted('ERR_GRAPE_LOOKUP')],
      ['lookup', 'of []', body([]), quoted('ERR_GRAPE_LOOKUP')],
      ['lookup', 'of {}', body({}), quoted('ERR_GRAPE_LOOKUP')],
      ['announce', 'without data', '{"rid":"x"}', quoted('ERR_GRAPE_ANNOUNCE')],
      ['announce', 'of a string', body('svc'), quoted('ERR_GRAPE_ANNOUNCE')],
      ['announce', 'of a number', body(1234), quoted('ERR_GRAPE_ANNOUNCE')],
      ['announce', 'of an object', body({ name: 'svc', port: 1234 }), quoted('ERR_GRAPE_ANNOUNCE')],
      ['announce', 'of []', body([]), quoted('ERR_GRAPE_SERVICE_PORT')],
      ['announce', 'with port "1234"', body(['svc', '1234']), quoted('ERR_GRAPE_SERVICE_PORT')],
      ['announce', 'with port 1.5', body(['svc', 1.5]), quoted('ERR_GRAPE_SERVICE_PORT')],
      [
        'announce',
        'with port NaN (null in JSON)',
        body(['svc', Number.NaN]),
        quoted('ERR_GRAPE_SERVICE_PORT'),
      ],
      ['announce', 'with port 1e300', '{"data":["svc",1e300]}', quoted('ERR_GRAPE_SERVICE_PORT')],
      ['announce', 'with port 70000', body(['svc', 70000]), quoted('ERR_GRAPE_SERVICE_PORT')],
      ['announce', 'with port -1', body(['svc', -1]), quoted('ERR_GRAPE_SERVICE_PORT')],
      ['announce', 'with port [1234]', body(['svc', [1234]]), quoted('ERR_GRAPE_SERVICE_PORT')],
      ['put', 'without data', '{"rid":"x"}', payloadInvalid],
      ['put', 'of null', body(null), payloadInvalid],
      ['put', 'of {}', body({}), quoted('opts.v not given')],
      ['put', 'of a number', body(7), quoted('opts.v not given')],
      ['put', 'with v null', body({ v: null }), payloadInvalid],
      ['put', 'with a numeric k', body({ v: 'x', k: 5, sig: SIG, seq: 1 }), payloadInvalid],
      ['put', 'with an object k', body({ v: 'x', k: { a: 1 }, sig: SIG, seq: 1 }), payloadInvalid],
      ['put', 'with a numeric sig', body({ v: 'x', k: K, sig: 5, seq: 1 }), payloadInvalid],
      ['put', 'with an object salt', body({ v: 'x', k: K, sig: SIG, seq: 1, salt: {} }), payloadInvalid],
      [
        'put',
        'with a short k',
        body({ v: 'x', k: 'abcd', sig: SIG, seq: 1 }),
        quoted('opts.k ed25519 public key must be 32 bytes'),
      ],
      [
        'put',
        'without sig',
        body({ v: 'x', k: K, seq: 1 }),
        quoted('opts.sign function or options.sig signature is required for mutable put'),
      ],
      [
        'put',
        'without seq',
        body({ v: 'x', k: K, sig: SIG }),
        quoted('opts.seq not provided for a mutable update'),
      ],
      ['put', 'with seq "1"', body({ v: 'x', k: K, sig: SIG, seq: '1' }), quoted('opts.seq not an integer')],
      [
        'put',
        'with cas "1"',
        body({ v: 'x', k: K, sig: SIG, seq: 1, cas: '1' }),
        quoted('opts.cas must be an integer if provided'),
      ],
      [
        'put',
        'with a 65-byte salt',
        body({ v: 'x', k: K, sig: SIG, seq: 1, salt: 's'.repeat(65) }),
        quoted('opts.salt is > 64 bytes long'),
      ],
      [
        'put',
        'with a 1000-byte v',
        body({ v: 'x'.repeat(1000) }),
        quoted('v must be less than 1000 bytes in put()'),
      ],
      [
        'put',
        'with a forged signature',
        body({ v: 'x', k: K, sig: SIG, seq: 1 }),
        quoted('206 invalid signature'),
      ],
      ['get', 'without data', '{"rid":"x"}', payloadInvalid],
      ['get', 'of null', body(null), payloadInvalid],
      ['get', 'of {}', body({}), quoted('ERR_GRAPE_GENERIC')],
      ['get', 'of 123', body(123), quoted('ERR_GRAPE_GENERIC')],
      ['get', 'of [1, 2]', body([1, 2]), quoted('ERR_GRAPE_GENERIC')],
      ['get', 'of {hash: 5}', body({ hash: 5 }), quoted('ERR_GRAPE_GENERIC')],
      ['get', 'with a numeric salt', body({ hash: '00'.repeat(20), salt: 5 }), payloadInvalid],
      ['get', 'of a missing 40-hex hash', body('00'.repeat(20)), ok('')],
    ]

    it.each(cases)('/%s %s', async (op, _name, text, expected) => {
      expect(await exchange(`/${op}`, text)).toEqual(expected)
    })
  })

  describe('unknown operations', () => {
    it.each([
      '/',
      '/foo',
      '/lookup/',
      '/LOOKUP',
      '/lookup?name=x',
      '//lookup',
      '/__proto__',
      '/constructor',
      '/toString',
      '/hasOwnProperty',
      '/valueOf',
      '/handlePeerLookup',
      '/announce/extra',
      `/${'a'.repeat(4000)}`,
      '/%00lookup',
      '/..%2flookup',
    ])('answers %s with 200 "ERR_REQ_NOTFOUND"', async (path) => {
      expect(await exchange(path, body('x'))).toEqual(quoted('ERR_REQ_NOTFOUND'))
    })
  })

  describe('non-hex hashes', () => {
    it('answers 20 /get requests with non-hex hashes, one after the other, with "ERR_GRAPE_HASH_FORMAT"', async () => {
      const hashes = [
        'zz',
        '',
        'g'.repeat(40),
        'a'.repeat(39),
        'a'.repeat(41),
        '0x'.repeat(20),
        '[1,2]',
        '"zz"',
      ]
      for (let i = 0; i < 20; i++) {
        const hash = hashes[i % hashes.length] as string
        const data = i % 2 === 0 ? hash : { hash }
        expect(await exchange('/get', body(data)), `request ${i}: ${JSON.stringify(data)}`).toEqual(
          quoted('ERR_GRAPE_HASH_FORMAT'),
        )
      }
    })

    it('answers 20 concurrent ones the same way', async () => {
      const answers = await Promise.all(Array.from({ length: 20 }, () => exchange('/get', body('zz'))))
      expect(answers).toEqual(Array.from({ length: 20 }, () => quoted('ERR_GRAPE_HASH_FORMAT')))
    })
  })

  describe('broken clients', () => {
    it.each([
      ['binary garbage', '\u0000\u0001\u0002garbage\r\n\r\n'],
      ['a request line without a version', 'HELLO WORLD\r\n\r\n'],
      ['an HTTP/2 preface', 'PRI * HTTP/2.0\r\n\r\nSM\r\n\r\n'],
      ['a negative Content-Length', 'POST /lookup HTTP/1.1\r\nHost: grape\r\nContent-Length: -5\r\n\r\n'],
      [
        'both Content-Length and chunked',
        'POST /lookup HTTP/1.1\r\nHost: grape\r\nContent-Length: 5\r\nTransfer-Encoding: chunked\r\n\r\n0\r\n\r\n',
      ],
      [
        'a bad chunk size',
        'POST /lookup HTTP/1.1\r\nHost: grape\r\nTransfer-Encoding: chunked\r\n\r\nzz\r\nabc\r\n',
      ],
    ])('answers %s with a bare 400 and closes the connection', async (_name, bytes) => {
      expect(await rawExchange(port, [bytes])).toEqual({
        text: 'HTTP/1.1 400 Bad Request\r\nConnection: close\r\n\r\n',
        closed: true,
      })
    })

    it('survives clients that disconnect in the middle of a body, of the headers, and while waiting for an answer', async () => {
      const cut = async (parts: string[]) => {
        const socket = openRaw(port)
        await new Promise<void>((resolve) => socket.once('connect', () => resolve()))
        for (const part of parts) socket.write(part)
        await new Promise((r) => setTimeout(r, 20))
        const closed = new Promise<void>((resolve) => socket.once('close', () => resolve()))
        socket.destroy()
        await closed
      }
      await Promise.all([
        cut(['POST /put HTTP/1.1\r\nHost: grape\r\nContent-Length: 500\r\n\r\n{"rid":"x","data":{"v":"ab']),
        cut([
          'POST /lookup HTTP/1.1\r\nHost: grape\r\nTransfer-Encoding: chunked\r\n\r\n10\r\n{"rid":"x","data',
        ]),
        cut(['POST /announce HTTP/1.1\r\nHost: gr']),
        cut([post('/lookup', body('api-input:gone'))]),
        cut([post('/announce', body(['api-input:gone', 4000]))]),
      ])
      expect(await exchange('/lookup', body('api-input:nobody'))).toEqual(ok('[]'))
    })

    it('answers two pipelined requests on one connection, in order', async () => {
      const first = body('api-input:nobody')
      const second = '{}'
      const result = await rawExchange(
        port,
        [post('/lookup', first) + post('/lookup', second, 'Connection: close\r\n')],
        5000,
      )
      expect(result.closed).toBe(true)
      const answers = result.text.split(/(?=HTTP\/1\.1 )/).map(parseRaw)
      expect(answers).toEqual([ok('[]'), quoted('ERR_GRAPE_LOOKUP')])
    })

    it('answers 200 concurrent bad requests of every kind without dropping one', async () => {
      const kinds: [string, string, Answer][] = [
        ['/lookup', '{nope', payloadInvalid],
        ['/get', body('zz'), quoted('ERR_GRAPE_HASH_FORMAT')],
        ['/announce', body(['svc', '1']), quoted('ERR_GRAPE_SERVICE_PORT')],
        ['/put', body({ v: null }), payloadInvalid],
        ['/nope', body(1), quoted('ERR_REQ_NOTFOUND')],
      ]
      const answers = await Promise.all(
        Array.from({ length: 200 }, (_, i) => {
          const [path, text] = kinds[i % kinds.length] as [string, string, Answer]
          return exchange(path, text)
        }),
      )
      expect(answers).toEqual(
        Array.from({ length: 200 }, (_, i) => (kinds[i % kinds.length] as [string, string, Answer])[2]),
      )
    })
  })

  describe('afterwards', () => {
    it('still announces and looks up correctly through both Grapes', async () => {
      expect(await exchange('/announce', body(['api-input:alive', 4999]))).toEqual(ok('1'))
      expect(await exchange('/lookup', body('api-input:alive'))).toEqual(ok('["127.0.0.1:4999"]'))
      const other = await request(`${net.urls[1]}/lookup`, {
        method: 'POST',
        body: body('api-input:alive'),
        dispatcher: agent,
      })
      expect({ status: other.statusCode, body: await other.body.text() }).toEqual(ok('["127.0.0.1:4999"]'))
    })

    it('still stores and reads an item', async () => {
      const put = await exchange('/put', body({ v: 'still here' }))
      expect(put.status).toBe(200)
      const get = await exchange('/get', body(JSON.parse(put.body)))
      expect(JSON.parse(get.body)).toMatchObject({ v: 'still here' })
    })

    it('reported no handler failure: every bad input was answered by validation, not by a caught exception', () => {
      expect(warnings.filter((warning) => /API/.test(warning.message))).toEqual([])
    })
  })
})
