import type { PayloadKind } from './protocol.js'

/** The size of the large payload's JSON text, in bytes (perf-baseline: "16k"). */
export const LARGE_BYTES = 16_384
/** Order-like records in the large payload (perf-baseline: 189). */
export const LARGE_RECORDS = 189

interface Order {
  id: number
  price: number
  amount: number
  ts: number
  flags: number
}

interface LargeDocument {
  kind: 'orders'
  count: number
  items: Order[]
  pad: string
}

/**
 * A deterministic 16 384-byte JSON document of 189 order-like, number-heavy records, padded to the
 * exact size: JSON.parse and JSON.stringify of it dominate a round trip, as in perf-baseline.
 */
function largeDocument(): LargeDocument {
  const items: Order[] = []
  for (let i = 0; i < LARGE_RECORDS; i++) {
    items.push({
      id: 5_000_000_000 + i * 7919,
      price: Math.round((43_210.5 + i * 1.37) * 100) / 100,
      amount: Math.round((i % 2 === 0 ? 1 : -1) * (0.001 + i * 0.00137) * 1e8) / 1e8,
      ts: 1_763_800_000_000 + i * 17,
      flags: i % 4096,
    })
  }
  const doc: LargeDocument = { kind: 'orders', count: LARGE_RECORDS, items, pad: '' }
  const missing = LARGE_BYTES - Buffer.byteLength(JSON.stringify(doc))
  if (missing < 0) throw new Error(`the large payload is ${-missing} bytes over ${LARGE_BYTES}`)
  doc.pad = 'x'.repeat(missing)
  return doc
}

const SMALL = { n: 1 }
const LARGE = largeDocument()
const LAST_ID = LARGE.items[LARGE_RECORDS - 1]?.id

/** The payload object sent on every call of a figure (each call serialises it again). */
export function payloadOf(kind: PayloadKind): unknown {
  return kind === 'small' ? SMALL : LARGE
}

/** Whether `reply` is the echo of the payload `kind` (cheap checks: shape, count, last record). */
export function checkerOf(kind: PayloadKind): (reply: unknown) => boolean {
  if (kind === 'small') return (reply) => (reply as { n?: unknown } | null)?.n === 1
  return (reply) => {
    const doc = reply as Partial<LargeDocument> | null
    const items = doc?.items
    return (
      doc?.count === LARGE_RECORDS &&
      Array.isArray(items) &&
      items.length === LARGE_RECORDS &&
      items[LARGE_RECORDS - 1]?.id === LAST_ID &&
      doc.pad?.length === LARGE.pad.length
    )
  }
}
