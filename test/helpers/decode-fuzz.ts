import { GrenacheError } from '../../runtime/errors.js'
import { ByteReader } from '../../runtime/state/index.js'

/** What a decoder did with some bytes: a value (and how many bytes it read), or `ERR_DECODE`. */
export type Decoded<T> = { ok: true; value: T; read: number } | { ok: false; error: GrenacheError }

/**
 * Far past what decoding a few KB takes: a hang guard, not a speed check. A decoder stuck in a
 * synchronous loop cannot be interrupted; one that is merely pathologically slow fails here.
 */
const HANG_MS = 2000

/**
 * Runs `decode` over `bytes`. Returns what it decoded, or the `ERR_DECODE` it threw; any other
 * error, or a call that takes seconds, fails with the bytes in hex, to replay.
 */
export function decodeOrRefuse<T>(decode: (r: ByteReader) => T, bytes: Uint8Array): Decoded<T> {
  const reader = new ByteReader(bytes)
  const started = performance.now()
  let outcome: Decoded<T>
  try {
    outcome = { ok: true, value: decode(reader), read: reader.pos }
  } catch (err) {
    if (!(err instanceof GrenacheError) || err.code !== 'ERR_DECODE') {
      const what = err instanceof GrenacheError ? `${err.code}: ${err.message}` : String(err)
      throw new Error(`decoding ${hex(bytes)} threw ${what}, not ERR_DECODE`, { cause: err })
    }
    outcome = { ok: false, error: err }
  }
  const took = performance.now() - started
  if (took > HANG_MS) throw new Error(`decoding ${hex(bytes)} took ${Math.round(took)} ms`)
  return outcome
}

/**
 * The size of a decoded value: one per primitive, array slot, object field and string unit, counted
 * up to `budget` (past it, the count stops). A decoder that only builds what its input holds keeps
 * this within a small multiple of the input's length.
 */
export function footprint(value: unknown, budget = 1_000_000): number {
  let total = 0
  const visit = (v: unknown): void => {
    if (total > budget) return
    total++
    if (typeof v === 'string') total += v.length
    else if (Array.isArray(v)) {
      total += v.length
      if (total <= budget) for (const item of v) visit(item)
    } else if (typeof v === 'object' && v !== null && !(v instanceof Date)) {
      for (const key of Object.keys(v)) visit((v as Record<string, unknown>)[key])
    }
  }
  visit(value)
  return total
}

export function hex(bytes: Uint8Array): string {
  return Buffer.from(bytes.buffer, bytes.byteOffset, bytes.byteLength).toString('hex')
}
