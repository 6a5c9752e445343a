import { describe, expect, it } from 'vitest'
import { OrderBookCodec, type OrderBookDelta } from '../../../generated/index.js'
import { GrenacheError } from '../../../runtime/errors.js'
import {
  DeltaFrameWriter,
  decodeFrame,
  encodeHello,
  encodeReset,
  encodeSnapshotFrame,
  WS_FEED_VERSION,
  WsFrameKind,
} from '../../../runtime/replication/ws-feed-frame.js'

const session = '0123456789abcdef'
const deltas: OrderBookDelta[] = [
  { op: 'upsert', key: 'o-1', leaf: { side: 'bid', price: 9950, size: 3 } },
  { op: 'patch', key: 'o-1', fields: { size: 4 } },
  { op: 'delete', key: 'o-2' },
  { op: 'clear' },
]

function decodeError(bytes: Uint8Array): GrenacheError {
  try {
    decodeFrame(OrderBookCodec, bytes)
  } catch (err) {
    if (err instanceof GrenacheError) return err
    throw new Error(`not a GrenacheError: ${String(err)}`)
  }
  throw new Error('decoded, expected ERR_DECODE')
}

describe('ws feed frames', () => {
  describe('encode and decode', () => {
    it('round-trips HELLO with the protocol version, fingerprint and feed name', () => {
      const frame = encodeHello(OrderBookCodec)
      expect(frame[0]).toBe(WsFrameKind.HELLO)
      expect(decodeFrame(OrderBookCodec, frame)).toEqual({
        kind: 'hello',
        version: WS_FEED_VERSION,
        fingerprint: OrderBookCodec.fingerprint,
        feed: 'order_book@1',
      })
    })

    it('round-trips SNAPSHOT with its session, digest, seq and leaves', () => {
      const leaves = new Map([
        ['o-1', { side: 'bid' as const, price: 100, size: 1 }],
        ['o-2', { side: 'ask' as const, price: 200, size: 2 }],
      ])
      const frame = encodeSnapshotFrame(OrderBookCodec, { session, seq: 2 ** 40, digest: 0xfedcba98, leaves })
      expect(decodeFrame(OrderBookCodec, frame)).toEqual({
        kind: 'snapshot',
        session,
        digest: 0xfedcba98,
        seq: 2 ** 40,
        entries: [...leaves.entries()],
      })
    })

    it('round-trips DELTAS of consecutive seqs, the first seq past 2^32', () => {
      const writer = new DeltaFrameWriter(OrderBookCodec)
      const first = 2 ** 33 + 5
      deltas.forEach((delta, i) => {
        expect(writer.add(first + i, delta)).toBe(true)
      })
      expect(writer.count).toBe(4)
      const frame = writer.take() as Buffer
      expect(writer.count).toBe(0)
      expect(writer.take()).toBeUndefined()
      expect(decodeFrame(OrderBookCodec, frame)).toEqual({ kind: 'deltas', first, deltas })
    })

    it('starts a new DELTAS frame after take() and refuses a seq that does not follow', () => {
      const writer = new DeltaFrameWriter(OrderBookCodec)
      expect(writer.add(10, { op: 'clear' })).toBe(true)
      expect(writer.add(12, { op: 'clear' })).toBe(false)
      writer.take()
      expect(writer.add(12, { op: 'delete', key: 'x' })).toBe(true)
      expect(decodeFrame(OrderBookCodec, writer.take() as Buffer)).toEqual({
        kind: 'deltas',
        first: 12,
        deltas: [{ op: 'delete', key: 'x' }],
      })
    })

    it('round-trips RESET for both reasons', () => {
      expect(decodeFrame(OrderBookCodec, encodeReset('resync'))).toEqual({ kind: 'reset', reason: 'resync' })
      expect(decodeFrame(OrderBookCodec, encodeReset('restart'))).toEqual({
        kind: 'reset',
        reason: 'restart',
      })
    })
  })

  describe('decodeFrame()', () => {
    const writer = new DeltaFrameWriter(OrderBookCodec)
    for (const [i, delta] of deltas.entries()) writer.add(1 + i, delta)
    const frames = {
      hello: encodeHello(OrderBookCodec),
      snapshot: encodeSnapshotFrame(OrderBookCodec, {
        session,
        seq: 3,
        digest: 1,
        leaves: [['o-1', { side: 'bid', price: 1, size: 1 }]],
      }),
      deltas: writer.take() as Buffer,
      reset: encodeReset('restart'),
    }

    it.each(Object.entries(frames))(
      'rejects every truncation of a %s frame with ERR_DECODE',
      (_name, frame) => {
        for (let length = 0; length < frame.length; length++) {
          const error = decodeError(frame.subarray(0, length))
          expect(error.code).toBe('ERR_DECODE')
          expect(error.message).toContain('order_book@1 ws feed frame')
        }
      },
    )

    it.each(Object.entries(frames))('rejects a %s frame with a byte too many', (_name, frame) => {
      expect(decodeError(Buffer.concat([frame, Buffer.from([0])])).code).toBe('ERR_DECODE')
    })

    it('rejects an unknown kind, a reset reason past 1, a DELTAS frame without deltas and one at seq 0', () => {
      expect(decodeError(Buffer.from([9])).message).toContain('unknown frame kind 9')
      expect(decodeError(Buffer.from([WsFrameKind.RESET, 2])).code).toBe('ERR_DECODE')
      const empty = Buffer.from([WsFrameKind.DELTAS, 1, 0, 0, 0, 0, 0, 0, 0, 0, 0])
      expect(decodeError(empty).code).toBe('ERR_DECODE')
      const atZero = Buffer.from(frames.deltas)
      atZero.fill(0, 1, 9)
      expect(decodeError(atZero).code).toBe('ERR_DECODE')
    })

    it('never throws anything but ERR_DECODE on random bytes after a valid kind', () => {
      let seed = 7
      const random = () => {
        seed = (Math.imul(seed, 1103515245) + 12345) >>> 0
        return seed >>> 24
      }
      for (let i = 0; i < 2000; i++) {
        const bytes = Buffer.from(Array.from({ length: 1 + (random() % 40) }, random))
        bytes[0] = i % 4
        try {
          decodeFrame(OrderBookCodec, bytes)
        } catch (err) {
          expect(err).toBeInstanceOf(GrenacheError)
          expect((err as GrenacheError).code).toBe('ERR_DECODE')
        }
      }
    })
  })
})
