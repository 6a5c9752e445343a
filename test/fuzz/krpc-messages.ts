import fc from 'fast-check'
import { type BencodeInput, encodeBencode } from '../../runtime/grape/bencode.js'
import { bencodeValue } from '../helpers/krpc.js'
import { mutated } from './harness.js'

/**
 * KRPC messages for the DHT fuzz: queries of every method whose fields are mostly of the right
 * type and now and then of any type, answers to the Grape's own queries, and their bytes mutated.
 */

const METHODS = ['ping', 'find_node', 'get_peers', 'announce_peer', 'get', 'put', 'vote']
// Of queries and answers; not `nodes`, whose addresses the Grape would go on to query.
const FIELDS = [
  ...['id', 'target', 'info_hash', 'token', 'port', 'implied_port'],
  ...['v', 'k', 'sig', 'seq', 'salt', 'cas', 'values'],
]

/** Mostly a value of the right type for some field, else anything. */
const field: fc.Arbitrary<BencodeInput> = fc.oneof(
  {
    weight: 3,
    arbitrary: fc.constantFrom<BencodeInput>(
      Buffer.alloc(20, 1),
      Buffer.alloc(32, 2),
      Buffer.alloc(64, 3),
      'x',
      1,
      4000,
    ),
  },
  { weight: 1, arbitrary: bencodeValue },
)

/** Query arguments; 8 in 10 carry the probe's node id. */
const args = fc
  .tuple(fc.record(Object.fromEntries(FIELDS.map((name) => [name, field])), { requiredKeys: [] }), fc.nat(9))
  .map(([a, n]) => (n < 8 ? { ...a, id: Buffer.alloc(20, 0x5a) } : a))

/** A query of every method, fields of any type; now and then a field that is no query's. */
export const structured = fc.record(
  {
    t: fc.oneof(
      { weight: 9, arbitrary: fc.uint8Array({ minLength: 1, maxLength: 4 }).map((b) => Buffer.from(b)) },
      { weight: 1, arbitrary: bencodeValue },
    ),
    y: fc.oneof(
      { weight: 8, arbitrary: fc.constant<BencodeInput>('q') },
      { weight: 2, arbitrary: fc.constantFrom<BencodeInput>('r', 'e') },
      { weight: 1, arbitrary: bencodeValue },
    ),
    q: fc.oneof({ weight: 9, arbitrary: fc.constantFrom<BencodeInput>(...METHODS) }, bencodeValue),
    a: fc.oneof({ weight: 9, arbitrary: args }, bencodeValue),
    r: fc.oneof(args, bencodeValue),
    e: bencodeValue,
  },
  { requiredKeys: ['t', 'y'] },
)

/** A datagram for the DHT port: a structured message, its bytes mutated, or random bytes. */
export const datagram: fc.Arbitrary<Uint8Array> = fc.oneof(
  { weight: 6, arbitrary: structured.map((m) => encodeBencode(m as BencodeInput)) },
  { weight: 3, arbitrary: mutated(structured.map((m) => encodeBencode(m as BencodeInput))) },
  { weight: 1, arbitrary: fc.uint8Array({ minLength: 1, maxLength: 64 }) },
)

/** Each field a response may carry, mostly of its type, else anything. */
const typed = (arbitrary: fc.Arbitrary<BencodeInput>) =>
  fc.oneof({ weight: 9, arbitrary }, { weight: 1, arbitrary: bencodeValue })

const response = fc.record(
  {
    id: typed(fc.constantFrom(Buffer.alloc(20, 0x5a), Buffer.alloc(20, 1))),
    token: typed(fc.uint8Array({ maxLength: 20 }).map((b) => Buffer.from(b))),
    values: typed(fc.array(fc.uint8Array({ minLength: 6, maxLength: 6 }).map((b) => Buffer.from(b)))),
    v: bencodeValue,
    k: typed(fc.constant(Buffer.alloc(32, 2))),
    sig: typed(fc.constant(Buffer.alloc(64, 3))),
    seq: typed(fc.integer()),
  },
  { requiredKeys: [] },
)

/** An answer to a query, without its `t`: mostly a response with fields of any type, or an error. */
const answer = fc.record(
  {
    y: fc.oneof(
      { weight: 8, arbitrary: fc.constant<BencodeInput>('r') },
      { weight: 1, arbitrary: fc.constant<BencodeInput>('e') },
      { weight: 1, arbitrary: bencodeValue },
    ),
    r: fc.oneof({ weight: 9, arbitrary: response }, bencodeValue),
    e: fc.oneof(fc.tuple(fc.integer({ min: 200, max: 400 }), fc.string()), bencodeValue),
  },
  { requiredKeys: ['y'] },
)

/** An answer and byte overwrites applied once its `t` is in (two in three untouched). */
export const answerCase = fc.oneof(
  { weight: 2, arbitrary: answer.map((message) => ({ message, edits: [] as [number, number][] })) },
  {
    weight: 1,
    arbitrary: fc.record({
      message: answer,
      edits: fc.array(fc.tuple(fc.nat(), fc.nat(255)), { minLength: 1, maxLength: 3 }),
    }),
  },
)
