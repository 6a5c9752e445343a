/**
 * The order_book state's generated codecs, as the README shows them: validate a delta, encode it
 * into a caller's buffer, decode it, apply it (twice: deltas are idempotent), snapshot the book,
 * and watch a corrupt buffer fail with a coded error. No network.
 */
import { OrderBookCodec, type OrderBookDelta, type OrderBookLeaf } from '../../generated/index.js'
import { applyDelta, ByteReader, ByteWriter, isGrenacheError } from '../../runtime/index.js'

export async function main(print: (line: string) => void = console.log): Promise<void> {
  const book = new Map<string, OrderBookLeaf>()
  const out = new ByteWriter(new Uint8Array(1500))
  const deltas: unknown[] = [
    { op: 'upsert', key: 'o-1', leaf: { side: 'bid', price: 9950, size: 3 } },
    { op: 'upsert', key: 'o-2', leaf: { side: 'ask', price: 10010, size: 1 } },
    { op: 'patch', key: 'o-1', fields: { size: 5 } },
    { op: 'delete', key: 'o-2' },
  ]
  for (const raw of deltas) {
    const delta = OrderBookCodec.parseDelta(raw) // the author's zod schema, as a publisher does
    out.reset()
    OrderBookCodec.encodeDelta(delta, out)
    const back: OrderBookDelta = OrderBookCodec.decodeDelta(new ByteReader(out.bytes()))
    applyDelta(book, back)
    applyDelta(book, back) // a duplicate changes nothing
    print(
      `${delta.op} ${'key' in delta ? delta.key : ''}: ${out.pos} bytes (JSON ${JSON.stringify(raw).length})`,
    )
  }
  print(`book: ${JSON.stringify(Object.fromEntries(book))}`)

  out.reset()
  OrderBookCodec.encodeSnapshot(4, book, out)
  const snapshot = OrderBookCodec.decodeSnapshot(new ByteReader(out.bytes()))
  print(`snapshot at seq ${snapshot.seq}: ${snapshot.entries.length} leaf, ${out.pos} bytes`)

  try {
    OrderBookCodec.parseDelta({ op: 'upsert', key: '', leaf: { side: 'mid', price: 0, size: 1 } })
  } catch (err) {
    if (isGrenacheError(err)) print(`invalid delta: ${err.code}: ${err.message}`)
  }
  try {
    OrderBookCodec.decodeDelta(new ByteReader(Uint8Array.of(1, 3, 0x6f, 0x2d, 0x31, 0xde, 0x4d, 7, 3)))
  } catch (err) {
    if (isGrenacheError(err)) print(`corrupt bytes: ${err.code}: ${err.message}`)
  }
}

if (process.argv[1] === import.meta.filename) await main()
