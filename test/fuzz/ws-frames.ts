import fc from 'fast-check'
import { mutated } from './harness.js'
import { requestText } from './rpc-worker.js'

/**
 * WebSocket bytes as a client could send them after its opening handshake: frames of every
 * opcode, with reserved bits, missing masks, lengths that lie or reach 2^63, control frames too
 * long, close codes out of range, fragments out of order (RFC 6455 §5).
 */

export interface FrameSpec {
  fin: boolean
  rsv: number
  opcode: number
  masked: boolean
  payload: Buffer
  /** 7-bit, 16-bit or 64-bit length field, whatever the payload's length. */
  form: 0 | 1 | 2
  /** Added to the declared length: a frame that claims more (or less) than it carries. */
  lie: bigint
}

/** The bytes of one frame, masked with a fixed key when `masked`. */
export function encodeFrame(spec: FrameSpec): Buffer {
  const { payload } = spec
  let declared = BigInt(payload.length) + spec.lie
  if (declared < 0n) declared = 0n
  const first = (spec.fin ? 0x80 : 0) | ((spec.rsv & 7) << 4) | (spec.opcode & 0x0f)
  const mask = spec.masked ? 0x80 : 0
  let head: Buffer
  if (spec.form === 0 && declared < 126n) head = Buffer.of(first, mask | Number(declared))
  else if (spec.form !== 2 && declared < 65536n) {
    head = Buffer.alloc(4)
    head[0] = first
    head[1] = mask | 126
    head.writeUInt16BE(Number(declared), 2)
  } else {
    head = Buffer.alloc(10)
    head[0] = first
    head[1] = mask | 127
    head.writeBigUInt64BE(declared & 0xffffffffffffffffn, 2)
  }
  if (!spec.masked) return Buffer.concat([head, payload])
  const key = Buffer.of(0x12, 0x34, 0x56, 0x78)
  const body = Buffer.from(payload)
  for (let i = 0; i < body.length; i++) body[i] = (body[i] as number) ^ (key[i % 4] as number)
  return Buffer.concat([head, key, body])
}

const closePayload = fc
  .tuple(
    fc.constantFrom(1000, 1001, 1005, 1006, 1015, 0, 999, 2999, 3000, 4999, 5000, 65535),
    fc.string({ maxLength: 20 }),
  )
  .map(([code, reason]) => {
    const bytes = Buffer.alloc(2)
    bytes.writeUInt16BE(code)
    return Buffer.concat([bytes, Buffer.from(reason)])
  })

const bytes = (max: number) => fc.uint8Array({ maxLength: max }).map((b) => Buffer.from(b))

/** Mostly well-formed frames (masked, FIN, right lengths) of every opcode; one in four broken somehow. */
export const frameSpec: fc.Arbitrary<FrameSpec> = fc
  .record({
    opcode: fc.oneof(
      { weight: 4, arbitrary: fc.constantFrom(1, 2) },
      { weight: 2, arbitrary: fc.constantFrom(0, 8, 9, 10) },
      { weight: 1, arbitrary: fc.integer({ min: 3, max: 15 }) },
    ),
    text: requestText,
    binary: bytes(64),
    close: closePayload,
    control: fc.oneof(bytes(8), bytes(200)),
    broken: fc.nat(3).map((n) => n === 0),
    fin: fc.boolean(),
    rsv: fc.nat(7),
    masked: fc.boolean(),
    form: fc.constantFrom<0 | 1 | 2>(0, 0, 0, 1, 2),
    lie: fc.constantFrom(0n, 1n, -1n, 10n, 2n ** 32n, 2n ** 63n - 1n),
  })
  .map((r) => {
    const payload = r.opcode === 1 ? r.text : r.opcode === 8 ? r.close : r.opcode >= 9 ? r.control : r.binary
    if (!r.broken) return { fin: true, rsv: 0, opcode: r.opcode, masked: true, payload, form: 0, lie: 0n }
    return { fin: r.fin, rsv: r.rsv, opcode: r.opcode, masked: r.masked, payload, form: r.form, lie: r.lie }
  })

/** The client's opening handshake: four in five valid, else with a bad version, key or upgrade. */
export const handshake: fc.Arbitrary<Buffer> = fc
  .record({
    path: fc.constantFrom('/ws', '/', '/anything?x=1'),
    broken: fc.nat(4).map((n) => n === 0),
    version: fc.constantFrom('8', 'x', ''),
    key: fc.constantFrom('short', '', '=='),
    extra: fc.constantFrom(
      '',
      '',
      'Sec-WebSocket-Extensions: permessage-deflate; client_max_window_bits\r\n',
      'Sec-WebSocket-Protocol: a, b, a\r\n',
      'Sec-WebSocket-Extensions: x; y=\r\n',
    ),
    upgrade: fc.constantFrom('websocket', 'WebSocket', 'h2c'),
  })
  .map((r) => {
    const version = r.broken ? r.version : '13'
    const key = r.broken ? r.key : 'dGhlIHNhbXBsZSBub25jZQ=='
    const upgrade = r.broken ? r.upgrade : 'websocket'
    return Buffer.from(
      `GET ${r.path} HTTP/1.1\r\nHost: 127.0.0.1\r\nUpgrade: ${upgrade}\r\nConnection: Upgrade\r\n` +
        `Sec-WebSocket-Key: ${key}\r\nSec-WebSocket-Version: ${version}\r\n${r.extra}\r\n`,
    )
  })

/** One connection's worth: a handshake and one to four frames, now and then all of it mutated. */
export const wsConnection: fc.Arbitrary<Buffer[]> = fc.oneof(
  {
    weight: 4,
    arbitrary: fc
      .tuple(handshake, fc.array(frameSpec.map(encodeFrame), { minLength: 1, maxLength: 4 }))
      .map(([hello, frames]) => [hello, Buffer.concat(frames)]),
  },
  {
    weight: 1,
    arbitrary: fc
      .tuple(
        handshake,
        mutated(
          fc.array(frameSpec.map(encodeFrame), { minLength: 1, maxLength: 3 }).map((f) => Buffer.concat(f)),
        ),
      )
      .map(([hello, frames]) => [hello, frames]),
  },
  { weight: 1, arbitrary: mutated(handshake).map((hello) => [hello]) },
)
