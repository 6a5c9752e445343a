import fc from 'fast-check'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import type { GrenacheError } from '../../runtime/errors.js'
import { settledHandles, socketHandles } from '../helpers/handles.js'
import { createTestnet, type Testnet } from '../helpers/testnet.js'
import {
  budget,
  cases,
  type ProcessWatch,
  runBatches,
  showBytes,
  timeoutFor,
  watchProcess,
} from './harness.js'
import { anyJson, httpCases, jsonBytes } from './http-requests.js'
import { anyOperationData } from './item-data.js'
import { destroyRawSockets, firstResponse, hasWholeResponse, rawExchange } from './raw-tcp.js'

/**
 * The Grape's HTTP API under random and mutated requests: every operation with data of any type,
 * paths the operation rule must refuse, hostile headers (Origin, Host) and broken framing. Each
 * connection gets an HTTP answer from the documented set or is closed, none is left hanging, no
 * handler throws, and the Grape still announces and looks up afterwards.
 */

const TARGET = 'grape-api'
const RUNS = budget(400)

const bodies: fc.Arbitrary<Buffer> = fc.oneof(
  {
    weight: 8,
    arbitrary: fc.record({ rid: anyJson, data: anyOperationData }, { requiredKeys: [] }).map(jsonBytes),
  },
  { weight: 2, arbitrary: anyJson.map(jsonBytes) },
  { weight: 1, arbitrary: fc.uint8Array({ maxLength: 64 }).map((b) => Buffer.from(b)) },
  {
    weight: 1,
    arbitrary: fc.constantFrom(Buffer.alloc(9000, 0x20), Buffer.from('{"rid":"x","data":'), Buffer.alloc(0)),
  },
)

const paths = fc.oneof(
  { weight: 6, arbitrary: fc.constantFrom('/announce', '/lookup', '/put', '/get') },
  {
    weight: 2,
    arbitrary: fc.constantFrom(
      '/Lookup',
      '/-lookup',
      '/lookup_',
      '/LOOKUP',
      '/look-up',
      '/lookup/',
      '/lookup?x=1',
    ),
  },
  {
    weight: 1,
    arbitrary: fc.constantFrom('/', '*', '', '/%00', `/${'a'.repeat(9000)}`, 'http://x/get', '/\u00e9'),
  },
  { weight: 1, arbitrary: fc.webPath() },
)

const browserHeaders = fc.constantFrom(
  'Origin: https://evil.example',
  'Origin: null',
  'Origin: http://127.0.0.1',
  'Sec-Fetch-Site: cross-site',
  'Sec-Fetch-Site: same-origin',
  'Host: grape.example:30001',
  'Host: [::1]:1',
  'Host: 0x7f.1',
)

/** Statuses the API or node:http may answer with; anything else is a finding. */
const ALLOWED = new Set([200, 400, 403, 413, 417, 431, 500])

describe('fuzz: the Grape HTTP API', () => {
  const before = socketHandles()
  const warnings: GrenacheError[] = []
  const statuses = new Map<number, number>()
  let net: Testnet
  let watch: ProcessWatch
  let port: number

  /** A well-formed POST, answered in full. */
  async function post(apiPort: number, op: string, body: unknown): Promise<{ status: number; body: string }> {
    const text = JSON.stringify({ rid: 'good', data: body })
    const request = `POST /${op} HTTP/1.1\r\nHost: 127.0.0.1\r\nContent-Length: ${Buffer.byteLength(text)}\r\n\r\n${text}`
    const outcome = await rawExchange(apiPort, [Buffer.from(request)], {
      quietMs: 5000,
      complete: hasWholeResponse,
    })
    const answer = firstResponse(outcome.received, outcome.closed)
    return { status: answer?.status ?? 0, body: answer?.body.toString() ?? outcome.received.toString() }
  }

  beforeAll(async () => {
    watch = watchProcess()
    net = await createTestnet(2)
    for (const grape of net.grapes) grape.on('warning', (err) => warnings.push(err))
    port = net.grapes[0]?.address.apiPort as number
    expect(await post(port, 'announce', ['fuzz:known', 4321])).toEqual({ status: 200, body: '1' })
  })
  afterAll(async () => {
    watch?.stop()
    destroyRawSockets()
    await net?.close()
    expect(await settledHandles(before, 5000)).toEqual(before)
  })

  it(
    `answers ${RUNS} random and mutated requests from the documented set, none left hanging`,
    async () => {
      const inputs = cases(TARGET, httpCases({ paths, bodies, extraHeaders: browserHeaders }), RUNS)
      await runBatches(inputs, {
        target: TARGET,
        watch,
        concurrency: 8,
        batch: 50,
        show: (c) => showBytes(Buffer.concat(c.parts)),
        async probe({ parts, method }) {
          const outcome = await rawExchange(port, parts, { complete: hasWholeResponse })
          if (!outcome.closed) return 'the connection stayed open 3 s after our half-close'
          if (outcome.received.length === 0) return undefined
          const answer = firstResponse(outcome.received, true)
          if (!answer) return `not an HTTP/1.1 answer: ${showBytes(outcome.received)}`
          statuses.set(answer.status, (statuses.get(answer.status) ?? 0) + 1)
          if (!ALLOWED.has(answer.status)) return `status ${answer.status}`
          const body = answer.body.toString()
          // A HEAD's answer has no body.
          if (answer.status === 500 && method !== 'HEAD' && body !== 'ERR_GRAPE_PAYLOAD_INVALID')
            return `500 ${body}`
          return undefined
        },
        async checkpoint() {
          const found = await post(port, 'lookup', 'fuzz:known')
          if (found.body !== '["127.0.0.1:4321"]') throw new Error(`lookup answered ${JSON.stringify(found)}`)
        },
      })
      // No handler threw and the server never failed (both would be warnings).
      expect(warnings.filter((w) => /^API (handler|server)/.test(w.message))).toEqual([])
      // The cases reached every kind of answer: success, refusals, the limit, bad input.
      for (const status of [200, 400, 403, 413, 500]) expect(statuses.get(status) ?? 0).toBeGreaterThan(0)
      expect(net.grapes[0]?.stats.apiRequestsRefused).toBeGreaterThan(0)

      // Afterwards, an announce on one Grape is found through the other.
      expect(await post(port, 'announce', ['fuzz:after', 5432])).toEqual({ status: 200, body: '1' })
      const other = net.grapes[1]?.address.apiPort as number
      expect(await post(other, 'lookup', 'fuzz:after')).toEqual({ status: 200, body: '["127.0.0.1:5432"]' })
    },
    timeoutFor(5000),
  )
})
