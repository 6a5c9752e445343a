import fc from 'fast-check'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { settledHandles, socketHandles } from '../helpers/handles.js'
import {
  budget,
  cases,
  mutated,
  type ProcessWatch,
  runBatches,
  showBytes,
  timeoutFor,
  watchProcess,
} from './harness.js'
import { httpCases } from './http-requests.js'
import { destroyRawSockets, firstResponse, hasWholeResponse, rawExchange } from './raw-tcp.js'
import { envelopeProblem, type FuzzWorker, randomBytes, requestText, startFuzzWorker } from './rpc-worker.js'

/**
 * The RPC HTTP server under random and mutated requests: envelopes of any types for every kind of
 * handler, other shapes, bodies past the limit, gzip, the reference's `_gr` header, broken framing
 * and headers. Every answer is an HTTP status from the documented set whose body is a reply
 * envelope, no connection is left hanging, and our client is still served afterwards.
 */

const TARGET = 'rpc-http'
const RUNS = budget(400)

const bodies = fc.oneof(
  { weight: 6, arbitrary: requestText },
  { weight: 2, arbitrary: mutated(requestText) },
  { weight: 1, arbitrary: randomBytes },
)

const paths = fc.oneof(
  { weight: 4, arbitrary: fc.constant('/') },
  { weight: 1, arbitrary: fc.constantFrom('/ws', '*', '/%zz', `/${'p'.repeat(9000)}`) },
  { weight: 1, arbitrary: fc.webPath() },
)

/** The reference's stream mode names rid and key in a `_gr` header. */
const grHeaders = fc.oneof(
  fc.constantFrom(
    '_gr: ["rid-1","echo"]',
    '_gr: [null,"late"]',
    '_gr: [0, 5]',
    '_gr: {"a":1}',
    '_gr: not json',
    '_gr:',
  ),
  fc.jsonValue({ maxDepth: 1 }).map((v) => `_gr: ${JSON.stringify(v)}`),
)

/** What the server and node:http answer with. */
const ALLOWED = new Set([200, 400, 413, 417, 431, 500])

describe('fuzz: the RPC HTTP server', () => {
  const before = socketHandles()
  const statuses = new Map<number, number>()
  let worker: FuzzWorker
  let watch: ProcessWatch

  beforeAll(async () => {
    watch = watchProcess()
    worker = await startFuzzWorker('http')
  })
  afterAll(async () => {
    watch?.stop()
    destroyRawSockets()
    await worker?.close()
    expect(await settledHandles(before, 5000)).toEqual(before)
  })

  it(
    `answers ${RUNS} random and mutated requests with reply envelopes, none left hanging`,
    async () => {
      const inputs = cases(TARGET, httpCases({ paths, bodies, extraHeaders: grHeaders }), RUNS)
      let good = 0
      await runBatches(inputs, {
        target: TARGET,
        watch,
        concurrency: 8,
        batch: 50,
        show: (c) => showBytes(Buffer.concat(c.parts)),
        async probe({ parts, method, gzipped }) {
          const outcome = await rawExchange(worker.port, parts, { complete: hasWholeResponse })
          if (!outcome.closed) return 'the connection stayed open 3 s after our half-close'
          if (outcome.received.length === 0) return undefined
          const answer = firstResponse(outcome.received, true)
          if (!answer) return `not an HTTP/1.1 answer: ${showBytes(outcome.received)}`
          statuses.set(answer.status, (statuses.get(answer.status) ?? 0) + 1)
          if (!ALLOWED.has(answer.status)) return `status ${answer.status}`
          // A HEAD's answer has no body, a gzip request's is gzipped; node:http's own answers (417,
          // 400 to an HTTP/1.1 request without Host) have an empty one.
          if (method === 'HEAD' || gzipped || !answer.whole || answer.body.length === 0) return undefined
          const problem = envelopeProblem(answer.body.toString())
          return problem === undefined ? undefined : `${answer.status}: ${problem}`
        },
        checkpoint: () => worker.good(good++),
      })
      for (const status of [200, 400, 413]) expect(statuses.get(status) ?? 0).toBeGreaterThan(0)
      await worker.good(-1)
    },
    timeoutFor(4000),
  )
})
