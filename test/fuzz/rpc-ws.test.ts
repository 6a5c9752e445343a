import { once } from 'node:events'
import fc from 'fast-check'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import WebSocket from 'ws'
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
  within,
} from './harness.js'
import { httpCases } from './http-requests.js'
import { destroyRawSockets, firstResponse, hasWholeResponse, rawExchange } from './raw-tcp.js'
import { envelopeProblem, type FuzzWorker, randomBytes, requestText, startFuzzWorker } from './rpc-worker.js'
import { wsConnection } from './ws-frames.js'

/**
 * The RPC WebSocket server under three kinds of input: messages of any content through a real
 * WebSocket client (each answered by exactly one reply envelope), raw connections whose frames are
 * malformed at the protocol level (the server closes them or answers with envelopes, and never
 * leaves one hanging), and plain HTTP requests to its port (refused with 426 or 400).
 */

const TARGET = 'rpc-ws'
const MESSAGES = budget(200)
const RAW = budget(150)
const PLAIN = budget(60)

/** A connection's messages: text for request texts, binary for anything else (ws checks UTF-8 of text). */
const messages = fc.array(
  fc.oneof(
    { weight: 4, arbitrary: requestText.map((data) => ({ data, binary: false })) },
    { weight: 1, arbitrary: mutated(requestText).map((data) => ({ data, binary: true })) },
    { weight: 1, arbitrary: randomBytes.map((data) => ({ data, binary: true })) },
  ),
  { minLength: 1, maxLength: 5 },
)

/** The server's frames after its 101 answer: how many replies, and why one is wrong. */
function serverFrames(bytes: Buffer): { replies: number; problem?: string } {
  let replies = 0
  let at = 0
  while (at + 2 <= bytes.length) {
    const opcode = (bytes[at] as number) & 0x0f
    let length = (bytes[at + 1] as number) & 0x7f
    let start = at + 2
    if (length === 126) {
      if (start + 2 > bytes.length) break
      length = bytes.readUInt16BE(start)
      start += 2
    } else if (length === 127) {
      if (start + 8 > bytes.length) break
      length = Number(bytes.readBigUInt64BE(start))
      start += 8
    }
    if (start + length > bytes.length) break
    if (opcode === 1) {
      const problem = envelopeProblem(bytes.toString('utf8', start, start + length))
      if (problem) return { replies, problem }
      replies++
    }
    at = start + length
  }
  return { replies }
}

describe('fuzz: the RPC WebSocket server', () => {
  const before = socketHandles()
  let worker: FuzzWorker
  let watch: ProcessWatch
  let good = 0

  beforeAll(async () => {
    watch = watchProcess()
    worker = await startFuzzWorker('ws')
  })
  afterAll(async () => {
    watch?.stop()
    destroyRawSockets()
    await worker?.close()
    expect(await settledHandles(before, 5000)).toEqual(before)
  })

  it(
    `answers each of ${MESSAGES} connections' messages with exactly one reply envelope`,
    async () => {
      let replies = 0
      await runBatches(cases(`${TARGET}-messages`, messages, MESSAGES), {
        target: `${TARGET}-messages`,
        watch,
        concurrency: 4,
        batch: 40,
        show: (list) => list.map((m) => `${m.binary ? 'binary' : 'text'} ${showBytes(m.data)}`).join(', '),
        async probe(list) {
          const socket = new WebSocket(`ws://127.0.0.1:${worker.port}/ws`, { perMessageDeflate: false })
          socket.on('error', () => undefined)
          try {
            await within(once(socket, 'open'), 5000, 'the opening handshake')
            const texts: string[] = []
            const all = new Promise<void>((resolve) => {
              socket.on('message', (data) => {
                texts.push(String(data))
                if (texts.length === list.length) resolve()
              })
            })
            for (const { data, binary } of list) socket.send(data, { binary })
            await within(all, 5000, `${list.length} replies`)
            // A handler that replies twice must still send one reply: give a second one time to show.
            await new Promise((resolve) => setTimeout(resolve, 10))
            replies += texts.length
            if (texts.length !== list.length) return `${texts.length} replies to ${list.length} messages`
            return texts.map(envelopeProblem).find((problem) => problem !== undefined)
          } finally {
            socket.terminate()
          }
        },
        checkpoint: () => worker.good(good++),
      })
      expect(replies).toBeGreaterThan(MESSAGES)
    },
    timeoutFor(4000),
  )

  it(
    `closes or answers ${RAW} connections of malformed frames, none left hanging`,
    async () => {
      let upgraded = 0
      let replies = 0
      await runBatches(cases(`${TARGET}-frames`, wsConnection, RAW), {
        target: `${TARGET}-frames`,
        watch,
        concurrency: 8,
        batch: 50,
        show: (parts) => parts.map(showBytes).join(' + '),
        async probe(parts) {
          const outcome = await rawExchange(worker.port, parts, { quietMs: 60 })
          if (!outcome.closed) return 'the connection stayed open 3 s after our half-close'
          if (outcome.received.length === 0) return undefined
          const answer = firstResponse(outcome.received, true)
          if (!answer) return `not an HTTP/1.1 answer: ${showBytes(outcome.received)}`
          if (answer.status !== 101)
            return [400, 426].includes(answer.status) ? undefined : `status ${answer.status}`
          upgraded++
          const head = outcome.received.indexOf('\r\n\r\n') + 4
          const frames = serverFrames(outcome.received.subarray(head))
          replies += frames.replies
          return frames.problem
        },
        checkpoint: () => worker.good(good++),
      })
      expect(upgraded).toBeGreaterThan(RAW / 4)
      expect(replies).toBeGreaterThan(0)
    },
    timeoutFor(3000),
  )

  it(
    `refuses ${PLAIN} plain HTTP requests to the WebSocket port`,
    async () => {
      const plain = httpCases({ paths: fc.constantFrom('/', '/ws'), bodies: requestText })
      const statuses = new Set<number>()
      await runBatches(cases(`${TARGET}-http`, plain, PLAIN), {
        target: `${TARGET}-http`,
        watch,
        concurrency: 8,
        batch: 30,
        show: (c) => showBytes(Buffer.concat(c.parts)),
        async probe({ parts }) {
          const outcome = await rawExchange(worker.port, parts, { complete: hasWholeResponse })
          if (!outcome.closed) return 'the connection stayed open 3 s after our half-close'
          if (outcome.received.length === 0) return undefined
          const answer = firstResponse(outcome.received, true)
          if (!answer) return `not an HTTP/1.1 answer: ${showBytes(outcome.received)}`
          statuses.add(answer.status)
          // 426 from our server; 400 and 405 (an upgrade that is not a GET) from ws; 417, 431 from node.
          return [426, 400, 405, 417, 431].includes(answer.status) ? undefined : `status ${answer.status}`
        },
        checkpoint: () => worker.good(good++),
      })
      expect(statuses).toContain(426)
      await worker.good(-1)
    },
    timeoutFor(2000),
  )
})
