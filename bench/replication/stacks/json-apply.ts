import type { OrderBookDelta, OrderBookLeaf } from '../../../generated/index.js'

/**
 * The baselines' state: a plain Map, each delta applied as a replica would (a patch of an absent
 * leaf and a delete of one are no-ops). No digest: ours also keeps one, the baselines do not.
 */
export function applyJson(book: Map<string, OrderBookLeaf>, delta: OrderBookDelta): void {
  switch (delta.op) {
    case 'upsert':
      book.set(delta.key, delta.leaf)
      return
    case 'patch': {
      const before = book.get(delta.key)
      if (before !== undefined) book.set(delta.key, { ...before, ...delta.fields } as OrderBookLeaf)
      return
    }
    case 'delete':
      book.delete(delta.key)
      return
    case 'clear':
      book.clear()
  }
}

/**
 * The baselines' batch: the first seq on a line, then one `JSON.stringify(delta)` per line (each
 * line is one seq, so no seq per delta). Returns the lines' seqs' first and the parsed deltas.
 */
export function parseBatch(text: string): { first: number; deltas: OrderBookDelta[] } {
  const lines = text.split('\n')
  const first = Number(lines[0])
  const deltas: OrderBookDelta[] = new Array(lines.length - 1)
  for (let i = 1; i < lines.length; i++) deltas[i - 1] = JSON.parse(lines[i] as string) as OrderBookDelta
  return { first, deltas }
}
