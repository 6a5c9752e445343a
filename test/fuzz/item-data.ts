import fc from 'fast-check'
import { anyJson } from './http-requests.js'

/**
 * The `data` of the Grape API's operations for the fuzz targets: mostly of the right shape, with
 * every field now and then of any type, and strings the item codec reads as JSON bytes first.
 */

export const hex = (bytes: number): fc.Arbitrary<string> =>
  fc.uint8Array({ minLength: bytes, maxLength: bytes }).map((b) => Buffer.from(b).toString('hex'))

/** Strings the item codec reads as JSON bytes before hex or UTF-8. */
export const jsonish = fc.constantFrom(
  '[104,105]',
  '{"type":"Buffer","data":[1,2]}',
  '{"length":9}',
  '"x"',
  '[]',
  '',
  '[256,-1,1.5]',
)

/** Four times in five a value of the given type, else any JSON value. */
export const field = (typed: fc.Arbitrary<unknown>): fc.Arbitrary<unknown> =>
  fc.oneof({ weight: 4, arbitrary: typed }, { weight: 1, arbitrary: anyJson })

/** `/announce`: `[name, port]`. */
export const announceData = fc.tuple(
  field(fc.string({ maxLength: 20 })),
  field(fc.integer({ min: -5, max: 70_000 })),
)

/** `/put`: a string, or `{v, k, sig, salt, seq, cas}` with any of them missing or of any type. */
export const putData: fc.Arbitrary<unknown> = fc.oneof(
  { weight: 1, arbitrary: field(fc.string({ maxLength: 40 })) },
  {
    weight: 4,
    arbitrary: fc.record(
      {
        v: field(
          fc.oneof(fc.string({ maxLength: 40 }), fc.constant('v'.repeat(1000)), fc.constant('é'.repeat(500))),
        ),
        k: field(fc.oneof(hex(32), hex(31), jsonish)),
        sig: field(fc.oneof(hex(64), jsonish)),
        salt: field(fc.oneof(fc.string({ maxLength: 70 }), jsonish)),
        seq: field(fc.oneof(fc.nat(), fc.constantFrom(-1, 1.5, 2 ** 53))),
        cas: field(fc.nat()),
      },
      { requiredKeys: [] },
    ),
  },
)

/** `/get`: a hash string, or `{hash, salt, cache}`. */
export const getData: fc.Arbitrary<unknown> = fc.oneof(
  field(fc.oneof(hex(20), hex(19), jsonish)),
  fc.record({ hash: field(hex(20)), salt: field(jsonish), cache: field(fc.boolean()) }, { requiredKeys: [] }),
)

/** The data of any operation (the API does not tie the data's shape to the path). */
export const anyOperationData: fc.Arbitrary<unknown> = fc.oneof(
  announceData,
  field(fc.string({ maxLength: 30 })),
  putData,
  getData,
)
