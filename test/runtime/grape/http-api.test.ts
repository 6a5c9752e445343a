import { request, type Server } from 'node:http'
import type { AddressInfo } from 'node:net'
import { afterEach, describe, expect, it } from 'vitest'
import { createApiGuard } from '../../../runtime/grape/api-guard.js'
import type { Answer, Handlers, Operation } from '../../../runtime/grape/handlers.js'
import { type ApiServerOptions, createApiServer, operationOf } from '../../../runtime/grape/http-api.js'
import { resolveServerLimits } from '../../../runtime/transport/shared/server-limits.js'

describe('operationOf()', () => {
  it.each<[string, Operation]>([
    ['/lookup', 'lookup'],
    ['/announce', 'announce'],
    ['/put', 'put'],
    ['/get', 'get'],
  ])('resolves %s', (url, op) => {
    expect(operationOf(url)).toBe(op)
  })

  it.each(['/Lookup', '/-lookup', '/_lookup', '/lookup_', '/lookup-', '/_-lookup-_'])(
    'resolves %s to lookup, as the reference camelCase does',
    (url) => {
      expect(operationOf(url)).toBe('lookup')
    },
  )

  it('resolves a capitalised name of every operation', () => {
    expect(operationOf('/Announce')).toBe('announce')
    expect(operationOf('/Put')).toBe('put')
    expect(operationOf('/Get')).toBe('get')
  })

  it.each([
    '/LOOKUP',
    '/lookUp',
    '/look-up',
    '/look_up',
    '/lookup/',
    '/lookup?x=1',
    '/lookup#x',
    '//lookup',
    'lookup',
    '/',
    '',
    '/nope',
    '/lookups',
    '/handlePeerLookup',
    '/api/lookup',
  ])('resolves %j to nothing', (url) => {
    expect(operationOf(url)).toBeUndefined()
  })

  it('resolves undefined to nothing', () => {
    expect(operationOf(undefined)).toBeUndefined()
  })
})

describe('createApiServer()', () => {
  let server: Server | undefined

  afterEach(async () => {
    const s = server
    server = undefined
    if (s) {
      s.closeAllConnections()
      await new Promise<void>((resolve) => s.close(() => resolve()))
    }
  })

  interface Reply {
    status: number
    body: string
    headers: Record<string, string | string[] | undefined>
  }

  /** Starts the API on 127.0.0.1:0 with handlers that record their data and answer `answer`. */
  async function start(
    answer: (op: Operation, data: unknown) => Promise<Answer>,
    maxPayloadBytes = 8192,
    extra: Pick<ApiServerOptions, 'guard' | 'onRefused'> = {},
  ) {
    const calls: Array<[Operation, unknown]> = []
    const errors: unknown[] = []
    const handler = (op: Operation) => (data: unknown) => {
      calls.push([op, data])
      return answer(op, data)
    }
    const handlers: Handlers = {
      announce: handler('announce'),
      lookup: handler('lookup'),
      put: handler('put'),
      get: handler('get'),
    }
    server = createApiServer({
      handlers,
      maxPayloadBytes,
      onError: (err) => errors.push(err),
      limits: resolveServerLimits({}, 5000),
      ...extra,
    })
    const s = server
    await new Promise<void>((resolve) => s.listen(0, '127.0.0.1', resolve))
    const { port } = s.address() as AddressInfo
    const post = (
      path: string,
      body: string,
      method = 'POST',
      framing: 'length' | 'chunked' = 'length',
      more: Record<string, string> = {},
    ) =>
      new Promise<Reply>((resolve, reject) => {
        const headers = {
          ...(framing === 'length'
            ? { 'content-length': Buffer.byteLength(body) }
            : { 'transfer-encoding': 'chunked' }),
          ...more,
        }
        const req = request({ host: '127.0.0.1', port, path, method, headers, agent: false }, (res) => {
          const chunks: Buffer[] = []
          res.on('data', (chunk: Buffer) => chunks.push(chunk))
          res.on('end', () =>
            resolve({
              status: res.statusCode ?? 0,
              body: Buffer.concat(chunks).toString(),
              headers: res.headers,
            }),
          )
          res.on('error', reject)
        })
        req.on('error', reject)
        req.end(body)
      })
    return { calls, errors, post }
  }

  it("passes the request's data to the handler and writes its status and body, without Content-Type", async () => {
    const api = await start(async () => ({ status: 200, body: '["127.0.0.1:1"]' }))
    const reply = await api.post('/Lookup', JSON.stringify({ rid: 'r1', data: 'svc' }))
    expect(reply.status).toBe(200)
    expect(reply.body).toBe('["127.0.0.1:1"]')
    expect(reply.headers['content-type']).toBeUndefined()
    expect(api.calls).toEqual([['lookup', 'svc']])
  })

  it('answers 403 with the refusal of its guard, closes the connection, and never calls a handler', async () => {
    const refusals: unknown[] = []
    const api = await start(async () => ({ status: 200, body: '1' }), 8192, {
      guard: createApiGuard({ allowedOrigins: [], allowedHosts: [], host: '127.0.0.1' }),
      onRefused: (refusal) => refusals.push(refusal),
    })
    const browser = { origin: 'http://evil.example', 'content-type': 'text/plain', host: 'evil.example' }
    const reply = await api.post('/announce', JSON.stringify({ data: ['svc', 1] }), 'POST', 'length', browser)
    expect(reply).toMatchObject({
      status: 403,
      body: 'ERR_GRAPE_ORIGIN: Origin "http://evil.example" is not in allowedOrigins (--allowed_origins)',
    })
    expect(reply.headers).toMatchObject({ connection: 'close', 'x-content-type-options': 'nosniff' })
    const rebound = await api.post('/announce', '{"data":["svc",1]}', 'POST', 'length', {
      host: 'evil.example',
    })
    expect(rebound).toMatchObject({
      status: 403,
      body: expect.stringMatching(/^ERR_GRAPE_HOST: Host "evil.example"/),
    })
    expect(refusals).toMatchObject([{ code: 'ERR_GRAPE_ORIGIN' }, { code: 'ERR_GRAPE_HOST' }])
    expect(api.calls).toEqual([])
    expect(await api.post('/announce', '{"data":["svc",1]}')).toMatchObject({ status: 200, body: '1' })
    expect(api.calls).toEqual([['announce', ['svc', 1]]])
  })

  it('writes 3xx statuses from the handler as they are', async () => {
    const api = await start(async () => ({ status: 302, body: '"302 sequence number less than current"' }))
    const reply = await api.post('/put', JSON.stringify({ data: { v: 'x' } }))
    expect(reply.status).toBe(302)
    expect(reply.body).toBe('"302 sequence number less than current"')
  })

  it('writes an empty body when the handler has none', async () => {
    const api = await start(async () => ({ status: 200, body: undefined }))
    const reply = await api.post('/get', JSON.stringify({ data: 'a'.repeat(40) }))
    expect(reply).toMatchObject({ status: 200, body: '' })
  })

  it('ignores the method', async () => {
    const api = await start(async () => ({ status: 200, body: '1' }))
    const reply = await api.post('/announce', JSON.stringify({ data: ['svc', 1] }), 'GET')
    expect(reply.body).toBe('1')
    expect(api.calls).toEqual([['announce', ['svc', 1]]])
  })

  it('answers 200 "ERR_REQ_NOTFOUND" to a path that names no operation', async () => {
    const api = await start(async () => ({ status: 200, body: '1' }))
    for (const path of ['/lookup/', '/nope', '/lookup?x=1']) {
      expect(await api.post(path, JSON.stringify({ data: 'svc' }))).toMatchObject({
        status: 200,
        body: '"ERR_REQ_NOTFOUND"',
      })
    }
    expect(api.calls).toEqual([])
  })

  it('answers 500 with the raw text ERR_GRAPE_PAYLOAD_INVALID to a body that is not JSON, or is null', async () => {
    const api = await start(async () => ({ status: 200, body: '1' }))
    for (const body of ['', 'not json', 'null']) {
      expect(await api.post('/lookup', body), body).toMatchObject({
        status: 500,
        body: 'ERR_GRAPE_PAYLOAD_INVALID',
      })
    }
    expect(api.calls).toEqual([])
  })

  it('hands no data to the handler for a JSON body that is a number, a string or a boolean, as the reference', async () => {
    const api = await start(async () => ({ status: 200, body: '1' }))
    for (const body of ['5', '"text"', 'true']) {
      expect(await api.post('/lookup', body), body).toMatchObject({ status: 200, body: '1' })
    }
    expect(api.calls).toHaveLength(3)
    expect(api.calls).toEqual([
      ['lookup', undefined],
      ['lookup', undefined],
      ['lookup', undefined],
    ])
  })

  it('answers 413 with the raw text ERR_GRAPE_PAYLOAD_SIZE to a body over maxPayloadBytes', async () => {
    const api = await start(async () => ({ status: 200, body: '1' }), 100)
    const fits = JSON.stringify({ data: 'x'.repeat(100 - 11) })
    expect(fits.length).toBe(100)
    expect(await api.post('/lookup', fits)).toMatchObject({ status: 200, body: '1' })
    const tooLarge = JSON.stringify({ data: 'x'.repeat(100 - 10) })
    expect(await api.post('/lookup', tooLarge)).toMatchObject({ status: 413, body: 'ERR_GRAPE_PAYLOAD_SIZE' })
    expect(api.calls).toHaveLength(1)
  })

  it('answers 413 to a streamed body without Content-Length once it grows over maxPayloadBytes', async () => {
    const api = await start(async () => ({ status: 200, body: '1' }), 100)
    const fits = JSON.stringify({ data: 'x'.repeat(100 - 11) })
    expect(await api.post('/lookup', fits, 'POST', 'chunked')).toMatchObject({ status: 200, body: '1' })
    const tooLarge = JSON.stringify({ data: 'x'.repeat(100 - 10) })
    expect(await api.post('/lookup', tooLarge, 'POST', 'chunked')).toMatchObject({
      status: 413,
      body: 'ERR_GRAPE_PAYLOAD_SIZE',
    })
    expect(api.calls).toHaveLength(1)
  })

  it('answers 500 ERR_GRAPE_INTERNAL when a handler fails, reports it and keeps serving', async () => {
    const boom = new Error('bug')
    let fail = true
    const api = await start(async () => {
      if (fail) throw boom
      return { status: 200, body: '2' }
    })
    expect(await api.post('/announce', JSON.stringify({ data: ['svc', 1] }))).toMatchObject({
      status: 500,
      body: 'ERR_GRAPE_INTERNAL',
    })
    expect(api.errors).toEqual([boom])
    fail = false
    expect(await api.post('/announce', JSON.stringify({ data: ['svc', 1] }))).toMatchObject({ body: '2' })
  })
})
