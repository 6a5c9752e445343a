import fc from 'fast-check'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { Dealer } from 'zeromq'
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
import { destroyRawSockets, rawExchange } from './raw-tcp.js'
import { envelopeProblem, type FuzzWorker, randomBytes, requestText, startFuzzWorker } from './rpc-worker.js'

/**
 * The RPC ZeroMQ server under random multipart messages from a real DEALER (each answered by
 * exactly one reply envelope, whatever its frames hold) and under raw TCP connections whose ZMTP
 * greeting, handshake or frames are mutated (libzmq drops them; the server keeps serving).
 */

const TARGET = 'rpc-zmq'
const MESSAGES = budget(200)
const RAW = budget(80)

const frame = fc.oneof(
  { weight: 6, arbitrary: requestText },
  { weight: 2, arbitrary: mutated(requestText) },
  { weight: 1, arbitrary: randomBytes },
  { weight: 1, arbitrary: fc.constant(Buffer.alloc(0)) },
)

/** A connection's messages: mostly one frame each, as a request is; else none to three more. */
const messages = fc.array(
  fc.oneof(
    { weight: 4, arbitrary: frame.map((f) => [f]) },
    { weight: 1, arbitrary: fc.array(frame, { minLength: 2, maxLength: 4 }) },
  ),
  { minLength: 1, maxLength: 4 },
)

/** ZMTP 3.0 (RFC 23): the greeting of a NULL-mechanism peer, its READY as a DEALER, and frames. */
const GREETING = Buffer.concat([
  Buffer.of(0xff, 0, 0, 0, 0, 0, 0, 0, 1, 0x7f, 3, 0),
  Buffer.from('NULL'.padEnd(20, '\0')),
  Buffer.alloc(32),
])
const READY = (() => {
  const body = Buffer.concat([Buffer.of(5), Buffer.from('READY'), Buffer.of(11), Buffer.from('Socket-Type')])
  const value = Buffer.from('DEALER')
  const size = Buffer.alloc(4)
  size.writeUInt32BE(value.length)
  const command = Buffer.concat([body, size, value])
  return Buffer.concat([Buffer.of(0x04, command.length), command])
})()

function zmtpFrame(body: Buffer, more: boolean): Buffer {
  if (body.length < 256) return Buffer.concat([Buffer.of(more ? 1 : 0, body.length), body])
  const size = Buffer.alloc(8)
  size.writeBigUInt64BE(BigInt(body.length))
  return Buffer.concat([Buffer.of(more ? 3 : 2), size, body])
}

/** A whole DEALER conversation, then mutated somewhere: in the greeting, the handshake or a frame. */
const zmtp = fc
  .array(frame, { minLength: 1, maxLength: 3 })
  .map((frames) =>
    Buffer.concat([GREETING, READY, ...frames.map((f, i) => zmtpFrame(f, i < frames.length - 1))]),
  )
const rawConnection = fc.oneof(
  { weight: 4, arbitrary: mutated(zmtp) },
  { weight: 1, arbitrary: randomBytes },
  { weight: 1, arbitrary: mutated(fc.constant(GREETING)) },
)

describe('fuzz: the RPC ZeroMQ server', () => {
  const before = socketHandles()
  let worker: FuzzWorker
  let watch: ProcessWatch
  let good = 0

  beforeAll(async () => {
    watch = watchProcess()
    worker = await startFuzzWorker('zmq')
  })
  afterAll(async () => {
    watch?.stop()
    destroyRawSockets()
    await worker?.close()
    expect(await settledHandles(before, 5000)).toEqual(before)
  })

  it(
    `answers each of ${MESSAGES} connections' multipart messages with exactly one reply envelope`,
    async () => {
      let replies = 0
      await runBatches(cases(`${TARGET}-messages`, messages, MESSAGES), {
        target: `${TARGET}-messages`,
        watch,
        concurrency: 4,
        batch: 40,
        show: (list) => list.map((parts) => `[${parts.map(showBytes).join(', ')}]`).join(' '),
        async probe(list) {
          // receiveTimeout bounds each wait: a message left unanswered rejects instead of hanging.
          const dealer = new Dealer({ linger: 0, receiveTimeout: 5000 })
          try {
            dealer.connect(`tcp://127.0.0.1:${worker.port}`)
            for (const parts of list) await dealer.send(parts)
            for (let i = 0; i < list.length; i++) {
              const reply = await dealer.receive()
              if (reply.length !== 1) return `a reply of ${reply.length} frames`
              const problem = envelopeProblem(String(reply[0]))
              if (problem) return problem
              replies++
            }
            return undefined
          } finally {
            dealer.close()
          }
        },
        checkpoint: () => worker.good(good++),
      })
      expect(replies).toBeGreaterThan(MESSAGES)
    },
    timeoutFor(3000),
  )

  it(
    `drops ${RAW} raw connections with a mutated greeting, handshake or frame, none left hanging`,
    async () => {
      let answered = 0
      await runBatches(cases(`${TARGET}-zmtp`, rawConnection, RAW), {
        target: `${TARGET}-zmtp`,
        watch,
        concurrency: 8,
        batch: 40,
        show: showBytes,
        async probe(bytes) {
          const outcome = await rawExchange(worker.port, [bytes], { quietMs: 60 })
          // Past libzmq's greeting and READY (about 90 bytes), the server sent a reply.
          if (outcome.received.length > GREETING.length + 40) answered++
          return outcome.closed ? undefined : 'the connection stayed open 3 s after our half-close'
        },
        checkpoint: () => worker.good(good++),
      })
      // Some conversations survived their mutation far enough to be answered.
      expect(answered).toBeGreaterThan(0)
      await worker.good(-1)
    },
    timeoutFor(2000),
  )
})
