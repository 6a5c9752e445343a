import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http'
import type { AddressInfo } from 'node:net'
import { afterEach, describe, expect, it } from 'vitest'
import { type ErrorCode, GrenacheError } from '../../../runtime/errors.js'
import { decodeAnswer, GrapeClient, type GrapeOperation } from '../../../runtime/link/grape-client.js'
import { createDeadline } from '../../../runtime/util/deadline.js'

const HASH = 'e5f96f6f38320f0f33959cb4d3d656452117aadb'

/** Runs `fn` and returns the GrenacheError it threw. */
function thrown(fn: () => unknown): GrenacheError {
  try {
    fn()
  } catch (err) {
    expect(err).toBeInstanceOf(GrenacheError)
    return err as GrenacheError
  }
  throw new Error('expected a throw')
}

describe('decodeAnswer()', () => {
  describe('200 with a JSON result', () => {
    it('returns a lookup array', () => {
      expect(decodeAnswer('lookup', 200, '["127.0.0.1:1","127.0.0.1:2"]')).toEqual([
        '127.0.0.1:1',
        '127.0.0.1:2',
      ])
      expect(decodeAnswer('lookup', 200, '[]')).toEqual([])
    })

    it('returns an announce count', () => {
      expect(decodeAnswer('announce', 200, '1')).toBe(1)
      expect(decodeAnswer('announce', 200, '0')).toBe(0)
    })

    it('returns a get object', () => {
      const item = { id: 'ab', token: null, v: 'Hello World!' }
      expect(decodeAnswer('get', 200, JSON.stringify(item))).toEqual(item)
    })

    it('returns undefined for an empty body (a get that found nothing)', () => {
      expect(decodeAnswer('get', 200, '')).toBeUndefined()
    })

    it('returns null and booleans as they are', () => {
      expect(decodeAnswer('get', 200, 'null')).toBeNull()
      expect(decodeAnswer('get', 200, 'true')).toBe(true)
    })
  })

  describe('200 with a JSON string', () => {
    it('returns a put key of 40 lower-case hex digits', () => {
      expect(decodeAnswer('put', 200, JSON.stringify(HASH))).toBe(HASH)
    })

    it.each([
      ['upper-case hex', HASH.toUpperCase()],
      ['39 hex digits', HASH.slice(1)],
      ['41 hex digits', `${HASH}0`],
      ['a key with spaces', ` ${HASH}`],
      ['an argument error', 'opts.seq not an integer'],
      ['a value error', 'v must be less than 1000 bytes in put()'],
    ])('rejects a put answered with %s as ERR_GRAPE_REJECTED', (_what, text) => {
      const err = thrown(() => decodeAnswer('put', 200, JSON.stringify(text)))
      expect(err.code).toBe('ERR_GRAPE_REJECTED')
      expect(err.message).toBe(`Grape put: ${text}`)
    })

    it.each<[GrapeOperation]>([['lookup'], ['announce'], ['get']])(
      'rejects any string answered to %s, even a 40-hex one',
      (op) => {
        expect(thrown(() => decodeAnswer(op, 200, JSON.stringify(HASH))).code).toBe('ERR_GRAPE_REJECTED')
      },
    )

    it.each<[string, ErrorCode]>([
      ['No nodes to query', 'ERR_GRAPE_NO_NODES'],
      ['All queries failed', 'ERR_GRAPE_QUERIES_FAILED'],
      ['206 invalid signature', 'ERR_ITEM_INVALID'],
      ['ERR_GRAPE_LOOKUP', 'ERR_GRAPE_REJECTED'],
      ['ERR_GRAPE_ANNOUNCE', 'ERR_GRAPE_REJECTED'],
      ['ERR_GRAPE_SERVICE_PORT', 'ERR_GRAPE_REJECTED'],
      ['ERR_GRAPE_GENERIC', 'ERR_GRAPE_REJECTED'],
      ['ERR_GRAPE_HASH_FORMAT', 'ERR_GRAPE_REJECTED'],
      ['ERR_REQ_NOTFOUND', 'ERR_GRAPE_REJECTED'],
      ['', 'ERR_GRAPE_REJECTED'],
    ])('maps "%s" to %s with the Grape text in the message', (text, code) => {
      for (const op of ['announce', 'lookup', 'put', 'get'] as const) {
        const err = thrown(() => decodeAnswer(op, 200, JSON.stringify(text)))
        expect(err.code, op).toBe(code)
        expect(err.message).toBe(`Grape ${op}: ${text}`)
      }
    })

    it('does not map a Grape text that only looks like a prototype member', () => {
      for (const text of ['constructor', 'toString', '__proto__']) {
        expect(thrown(() => decodeAnswer('announce', 200, JSON.stringify(text))).code, text).toBe(
          'ERR_GRAPE_REJECTED',
        )
      }
    })
  })

  it('rejects a 200 body that is not JSON with ERR_GRAPE_BAD_ANSWER, quoting its start', () => {
    const err = thrown(() => decodeAnswer('lookup', 200, 'ERR_GRAPE_PAYLOAD_INVALID'))
    expect(err.code).toBe('ERR_GRAPE_BAD_ANSWER')
    expect(err.message).toBe('Grape lookup: answer is not JSON: ERR_GRAPE_PAYLOAD_INVALID')
    const long = thrown(() => decodeAnswer('get', 200, `<html>${'x'.repeat(500)}`))
    expect(long.code).toBe('ERR_GRAPE_BAD_ANSWER')
    expect(long.message).toBe(`Grape get: answer is not JSON: <html>${'x'.repeat(94)}`)
  })

  it('maps 413 with its raw text to ERR_GRAPE_PAYLOAD_SIZE', () => {
    const err = thrown(() => decodeAnswer('put', 413, 'ERR_GRAPE_PAYLOAD_SIZE'))
    expect(err.code).toBe('ERR_GRAPE_PAYLOAD_SIZE')
    expect(err.message).toBe('Grape put: ERR_GRAPE_PAYLOAD_SIZE')
    expect(thrown(() => decodeAnswer('put', 413, '')).message).toBe('Grape put: payload too large')
  })

  it('maps 301 to ERR_GRAPE_CAS_MISMATCH and 302 to ERR_GRAPE_SEQ_TOO_LOW, unquoting the Grape text', () => {
    const cas = thrown(() => decodeAnswer('put', 301, '"301 CAS mismatch, re-read and try again"'))
    expect(cas.code).toBe('ERR_GRAPE_CAS_MISMATCH')
    expect(cas.message).toBe('Grape put: 301 CAS mismatch, re-read and try again')
    const seq = thrown(() => decodeAnswer('put', 302, '"302 sequence number less than current"'))
    expect(seq.code).toBe('ERR_GRAPE_SEQ_TOO_LOW')
    expect(seq.message).toBe('Grape put: 302 sequence number less than current')
  })

  it('keeps raw 301 and 302 text that is not a JSON string', () => {
    expect(thrown(() => decodeAnswer('put', 302, 'raw text')).message).toBe('Grape put: raw text')
    expect(thrown(() => decodeAnswer('put', 301, '{"a":1}')).message).toBe('Grape put: {"a":1}')
  })

  it('maps a 500 with raw text to ERR_GRAPE_REJECTED naming the status', () => {
    const invalid = thrown(() => decodeAnswer('put', 500, 'ERR_GRAPE_PAYLOAD_INVALID'))
    expect(invalid.code).toBe('ERR_GRAPE_REJECTED')
    expect(invalid.message).toBe('Grape put: HTTP 500 ERR_GRAPE_PAYLOAD_INVALID')
    const typeError = "Cannot read properties of undefined (reading 'k')"
    expect(thrown(() => decodeAnswer('put', 500, typeError)).message).toBe(`Grape put: HTTP 500 ${typeError}`)
  })

  it.each([400, 404, 503])('maps any other status (%i) to ERR_GRAPE_REJECTED', (status) => {
    const err = thrown(() => decodeAnswer('lookup', status, '"nope"'))
    expect(err.code).toBe('ERR_GRAPE_REJECTED')
    expect(err.message).toBe(`Grape lookup: HTTP ${status} nope`)
  })
})

describe('GrapeClient', () => {
  interface Received {
    method: string | undefined
    url: string | undefined
    contentType: string | undefined
    body: { rid?: unknown; data?: unknown }
  }

  const cleanups: Array<() => Promise<void>> = []

  afterEach(async () => {
    for (const cleanup of cleanups.splice(0).reverse()) await cleanup()
  })

  /** An HTTP server on 127.0.0.1:0 whose requests are handled by `handle`. */
  async function serve(handle: (req: IncomingMessage, res: ServerResponse, received: Received) => void) {
    const requests: Received[] = []
    const server: Server = createServer((req, res) => {
      const chunks: Buffer[] = []
      req.on('data', (chunk: Buffer) => chunks.push(chunk))
      req.on('end', () => {
        const received: Received = {
          method: req.method,
          url: req.url,
          contentType: req.headers['content-type'],
          body: JSON.parse(Buffer.concat(chunks).toString()) as Received['body'],
        }
        requests.push(received)
        handle(req, res, received)
      })
    })
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve))
    cleanups.push(
      () =>
        new Promise<void>((resolve) => {
          server.closeAllConnections()
          server.close(() => resolve())
        }),
    )
    const { port } = server.address() as AddressInfo
    return { url: `http://127.0.0.1:${port}`, requests }
  }

  function clientOf(url: string, maxAttempts: number, connections: number): GrapeClient {
    const c = new GrapeClient({ url: new URL(url), maxAttempts, connections })
    cleanups.push(() => c.destroy())
    return c
  }

  /** Runs one call under a fresh deadline that is disposed afterwards. */
  async function call(
    c: GrapeClient,
    op: GrapeOperation,
    data: unknown,
    retry: 'unsent' | 'idempotent',
    opts: { timeoutMs?: number; signal?: AbortSignal } = {},
  ): Promise<unknown> {
    const deadline = createDeadline(opts, 10_000, `Grape ${op}`)
    try {
      return await c.call(op, data, deadline, retry)
    } finally {
      deadline.dispose()
    }
  }

  describe.each([
    ['a pool of 2 connections', 2],
    ['a connection per call', 0],
  ])('call() over %s', (_, connections) => {
    const client = (url: string, maxAttempts = 3) => clientOf(url, maxAttempts, connections)

    it('posts {rid, data} as JSON to <grape path>/<op> and decodes the answer', async () => {
      const grape = await serve((_req, res) => res.end('["127.0.0.1:1"]'))
      const c = client(`${grape.url}/prefix/`)
      expect(await call(c, 'lookup', 'svc', 'idempotent')).toEqual(['127.0.0.1:1'])
      expect(await call(c, 'lookup', 'svc', 'idempotent')).toEqual(['127.0.0.1:1'])
      expect(grape.requests).toHaveLength(2)
      const [first, second] = grape.requests as [Received, Received]
      expect(first).toMatchObject({ method: 'POST', url: '/prefix/lookup', contentType: 'application/json' })
      expect(first.body.data).toBe('svc')
      expect(first.body.rid).toMatch(/^[0-9a-f-]{36}$/)
      expect(second.body.rid).not.toBe(first.body.rid)
    })

    it('rejects with the decoded Grape error, without retrying it', async () => {
      const grape = await serve((_req, res) => res.end('"No nodes to query"'))
      const c = client(grape.url)
      await expect(call(c, 'announce', ['svc', 1], 'idempotent')).rejects.toMatchObject({
        code: 'ERR_GRAPE_NO_NODES',
      })
      expect(grape.requests).toHaveLength(1)
    })

    it('retries a dropped connection up to maxAttempts for idempotent calls', async () => {
      const grape = await serve((req) => req.socket.destroy())
      const c = client(grape.url, 3)
      const err = await call(c, 'lookup', 'svc', 'idempotent').catch((e: unknown) => e)
      expect(err).toMatchObject({ code: 'ERR_CONNECTION_RESET' })
      expect((err as Error).message).toMatch(new RegExp(`^lookup via ${grape.url}: `))
      expect(grape.requests).toHaveLength(3)
    })

    it('does not retry a dropped connection for other calls', async () => {
      const grape = await serve((req) => req.socket.destroy())
      const c = client(grape.url, 3)
      await expect(call(c, 'put', { v: 'x' }, 'unsent')).rejects.toMatchObject({
        code: 'ERR_CONNECTION_RESET',
      })
      expect(grape.requests).toHaveLength(1)
    })

    it('rejects with ERR_CONNECTION_REFUSED when nothing listens', async () => {
      const closed = createServer()
      await new Promise<void>((resolve) => closed.listen(0, '127.0.0.1', resolve))
      const { port } = closed.address() as AddressInfo
      await new Promise<void>((resolve) => closed.close(() => resolve()))
      const c = client(`http://127.0.0.1:${port}`, 3)
      await expect(call(c, 'lookup', 'svc', 'unsent')).rejects.toMatchObject({
        code: 'ERR_CONNECTION_REFUSED',
      })
    })

    it("rejects with the deadline's ERR_TIMEOUT when the Grape does not answer", async () => {
      const grape = await serve(() => undefined)
      const c = client(grape.url)
      const err = await call(c, 'lookup', 'svc', 'idempotent', { timeoutMs: 200 }).catch((e: unknown) => e)
      expect(err).toBeInstanceOf(GrenacheError)
      expect(err).toMatchObject({ code: 'ERR_TIMEOUT', message: 'Grape lookup: no answer within 200 ms' })
      expect(grape.requests).toHaveLength(1)
    })

    it("rejects with ERR_ABORTED when the caller's signal aborts", async () => {
      const grape = await serve(() => undefined)
      const c = client(grape.url)
      const controller = new AbortController()
      const why = new Error('caller gave up')
      const pending = call(c, 'get', HASH, 'idempotent', { signal: controller.signal })
      await expect.poll(() => grape.requests.length, { timeout: 10_000 }).toBe(1)
      controller.abort(why)
      await expect(pending).rejects.toMatchObject({ code: 'ERR_ABORTED', cause: why })
    })

    it('close() waits for the call in flight', async () => {
      let answer: (() => void) | undefined
      const grape = await serve((_req, res) => {
        answer = () => res.end('["127.0.0.1:1"]')
      })
      const c = client(grape.url)
      const pending = call(c, 'lookup', 'svc', 'idempotent')
      await expect.poll(() => grape.requests.length, { timeout: 10_000 }).toBe(1)
      let closed = false
      const closing = c.close().then(() => {
        closed = true
      })
      await new Promise((resolve) => setTimeout(resolve, 50))
      expect(closed).toBe(false)
      answer?.()
      expect(await pending).toEqual(['127.0.0.1:1'])
      await closing
    })

    it('destroy() fails the call in flight', async () => {
      const grape = await serve(() => undefined)
      const c = client(grape.url, 1)
      const pending = call(c, 'lookup', 'svc', 'idempotent').catch((e: unknown) => e)
      await expect.poll(() => grape.requests.length, { timeout: 10_000 }).toBe(1)
      await c.destroy()
      expect(await pending).toMatchObject({ code: 'ERR_CLOSED' })
    })
  })
})
