/**
 * One pass over the delta workload per figure, for our generated codec and for JSON. Each pass is
 * its own function (its own type feedback), returns a checksum so that no work can be dropped, and
 * reuses everything it can outside the loop, as a feed publisher and a replica would.
 */
import { OrderBookCodec, type OrderBookDelta } from '../../generated/index.js'
import { ByteReader, ByteWriter, stateParsers } from '../../runtime/index.js'
import { orderBook } from '../../schemas/order-book.schema.js'
import type { DeltaPhase } from './protocol.js'
import { deltaText } from './workload.js'

/** One pass over every delta; returns a checksum. */
export type Pass = () => number

type Op = 'upsert' | 'patch' | 'delete'

/** Mean encoded bytes per delta, overall and by op. */
export interface EncodedSizes {
  bytesPerDelta: number
  bytesByOp: Record<Op, number>
  mix: Record<Op, number>
}

function sizesOf(deltas: readonly OrderBookDelta[], sizeOf: (delta: OrderBookDelta) => number): EncodedSizes {
  const bytes = { upsert: 0, patch: 0, delete: 0 }
  const counts = { upsert: 0, patch: 0, delete: 0 }
  let total = 0
  for (const delta of deltas) {
    if (delta.op === 'clear') throw new Error('the workload has no clear')
    const size = sizeOf(delta)
    bytes[delta.op] += size
    counts[delta.op]++
    total += size
  }
  const per = (op: Op) => (counts[op] > 0 ? bytes[op] / counts[op] : Number.NaN)
  const share = (op: Op) => counts[op] / deltas.length
  return {
    bytesPerDelta: total / deltas.length,
    bytesByOp: { upsert: per('upsert'), patch: per('patch'), delete: per('delete') },
    mix: { upsert: share('upsert'), patch: share('patch'), delete: share('delete') },
  }
}

export interface Passes {
  passes: Record<DeltaPhase, Pass>
  sizes: EncodedSizes
  /** Deltas checked to decode back equal to the original. */
  checked: number
}

/**
 * Ours: `encodeDelta` into one `ByteWriter` over one buffer of `maxDeltaBytes`, `decodeDelta` from
 * one `ByteReader` over the same bytes (its public `pos`/`end` moved to the delta just written).
 * - roundTrip: encode then decode each delta;
 * - encode: encode each delta (writer reset each time);
 * - decode: decode each delta from one frame holding all of them back to back;
 * - roundTripVariant: roundTrip with `new ByteReader(buf, 0, pos)` per delta, as a caller that
 *   does not reuse the reader writes it;
 * - validateEncode: `parseDelta` (the generated validator) then encode, as a publisher with
 *   `validate: true` does; zodValidateEncode: the same with zod's `stateParsers` (the reference).
 */
export function oursPasses(deltas: readonly OrderBookDelta[]): Passes {
  const codec = OrderBookCodec
  const n = deltas.length
  const writer = new ByteWriter(new Uint8Array(codec.maxDeltaBytes))
  const reader = new ByteReader(writer.buf)

  const frameWriter = new ByteWriter(1 << 16, { grow: true })
  for (const delta of deltas) codec.encodeDelta(delta, frameWriter)
  const frame = new ByteReader(frameWriter.bytes())

  // Every delta must come back as it went in, through the same writer and reader as the passes.
  let checked = 0
  for (const delta of deltas) {
    writer.reset()
    codec.encodeDelta(delta, writer)
    reader.pos = 0
    reader.end = writer.pos
    const back = codec.decodeDelta(reader)
    if (reader.pos !== writer.pos || deltaText(back) !== deltaText(delta)) {
      throw new Error(`round trip changed ${deltaText(delta)} into ${deltaText(back)}`)
    }
    checked++
  }
  frame.pos = 0
  for (const delta of deltas) {
    const back = codec.decodeDelta(frame)
    if (deltaText(back) !== deltaText(delta)) throw new Error(`the frame decodes ${deltaText(back)}`)
  }
  frame.done()

  const sizes = sizesOf(deltas, (delta) => {
    writer.reset()
    codec.encodeDelta(delta, writer)
    return writer.pos
  })

  const roundTrip: Pass = () => {
    let sink = 0
    for (let i = 0; i < n; i++) {
      writer.reset()
      codec.encodeDelta(deltas[i] as OrderBookDelta, writer)
      reader.pos = 0
      reader.end = writer.pos
      sink = (sink + codec.decodeDelta(reader).op.length) | 0
    }
    return sink
  }
  const encode: Pass = () => {
    let sink = 0
    for (let i = 0; i < n; i++) {
      writer.reset()
      codec.encodeDelta(deltas[i] as OrderBookDelta, writer)
      sink = (sink + writer.pos) | 0
    }
    return sink
  }
  const decode: Pass = () => {
    let sink = 0
    frame.pos = 0
    for (let i = 0; i < n; i++) sink = (sink + codec.decodeDelta(frame).op.length) | 0
    return sink
  }
  const roundTripVariant: Pass = () => {
    let sink = 0
    const buf = writer.buf
    for (let i = 0; i < n; i++) {
      writer.reset()
      codec.encodeDelta(deltas[i] as OrderBookDelta, writer)
      sink = (sink + codec.decodeDelta(new ByteReader(buf, 0, writer.pos)).op.length) | 0
    }
    return sink
  }
  const validated =
    (parse: (delta: unknown) => OrderBookDelta): Pass =>
    () => {
      let sink = 0
      for (let i = 0; i < n; i++) {
        writer.reset()
        codec.encodeDelta(parse(deltas[i]), writer)
        sink = (sink + writer.pos) | 0
      }
      return sink
    }
  const validateEncode = validated(codec.parseDelta)
  const zodValidateEncode = validated(stateParsers(orderBook).parseDelta)
  const passes = { roundTrip, encode, decode, roundTripVariant, validateEncode, zodValidateEncode }
  return { passes, sizes, checked }
}

/** The largest JSON delta of the workload is far below this. */
const JSON_SCRATCH_BYTES = 4096

/**
 * JSON, the way a feed without a codec does it:
 * - roundTrip: `Buffer.from(JSON.stringify(delta))`, then `JSON.parse(bytes.toString())`;
 * - encode: `Buffer.from(JSON.stringify(delta))`;
 * - decode: `JSON.parse` of each delta's UTF-8 slice of one frame holding all of them;
 * - roundTripVariant: roundTrip writing the JSON into one reused buffer (`buf.write`) instead of
 *   `Buffer.from`, and parsing `buf.toString('utf8', 0, length)`: JSON's best case;
 * - validateEncode (and zodValidateEncode, the same): zod's `stateParsers` then encode, as a
 *   JSON feed that validates would.
 */
export function jsonPasses(deltas: readonly OrderBookDelta[]): Passes {
  const n = deltas.length
  const texts = deltas.map((delta) => Buffer.from(JSON.stringify(delta)))
  const frameBytes = Buffer.concat(texts)
  const offsets = new Uint32Array(n + 1)
  for (let i = 0; i < n; i++) offsets[i + 1] = (offsets[i] as number) + (texts[i] as Buffer).length
  const scratch = Buffer.allocUnsafe(JSON_SCRATCH_BYTES)

  let checked = 0
  for (const delta of deltas) {
    const back = JSON.parse(Buffer.from(JSON.stringify(delta)).toString()) as OrderBookDelta
    if (deltaText(back) !== deltaText(delta)) throw new Error(`JSON changed ${deltaText(delta)}`)
    checked++
  }
  const sizes = sizesOf(deltas, (delta) => Buffer.byteLength(JSON.stringify(delta)))
  if (sizes.bytesPerDelta * 4 > JSON_SCRATCH_BYTES) throw new Error('the JSON scratch buffer is too small')

  const roundTrip: Pass = () => {
    let sink = 0
    for (let i = 0; i < n; i++) {
      const bytes = Buffer.from(JSON.stringify(deltas[i]))
      const back = JSON.parse(bytes.toString()) as OrderBookDelta
      sink = (sink + back.op.length) | 0
    }
    return sink
  }
  const encode: Pass = () => {
    let sink = 0
    for (let i = 0; i < n; i++) sink = (sink + Buffer.from(JSON.stringify(deltas[i])).length) | 0
    return sink
  }
  const decode: Pass = () => {
    let sink = 0
    for (let i = 0; i < n; i++) {
      const text = frameBytes.toString('utf8', offsets[i] as number, offsets[i + 1] as number)
      sink = (sink + (JSON.parse(text) as OrderBookDelta).op.length) | 0
    }
    return sink
  }
  const roundTripVariant: Pass = () => {
    let sink = 0
    for (let i = 0; i < n; i++) {
      const length = scratch.write(JSON.stringify(deltas[i]))
      const back = JSON.parse(scratch.toString('utf8', 0, length)) as OrderBookDelta
      sink = (sink + back.op.length) | 0
    }
    return sink
  }
  const parse = stateParsers(orderBook).parseDelta
  const validateEncode: Pass = () => {
    let sink = 0
    for (let i = 0; i < n; i++) sink = (sink + Buffer.from(JSON.stringify(parse(deltas[i]))).length) | 0
    return sink
  }
  const passes = { roundTrip, encode, decode, roundTripVariant, validateEncode }
  return { passes: { ...passes, zodValidateEncode: validateEncode }, sizes, checked }
}
