import { z } from 'zod'
import { defineState } from '../runtime/schema.js'

/**
 * The order book of the grapevine README: resting orders keyed by id, each a small leaf with its
 * side, price and size. Replicas rebuild the book (best bid, best ask) from the leaves. Prices and
 * sizes are integers (ticks and lots): exact, and a varint of 1 to 3 bytes on the wire.
 */
export const orderBook = defineState({
  name: 'order_book',
  version: 1,
  description: 'Resting orders keyed by id: side, price in ticks, size in lots.',
  key: z.string().min(1).max(64).describe('order id'),
  leaf: z.object({
    side: z.enum(['bid', 'ask']).describe('the side of the book'),
    price: z.number().int().positive().describe('limit price in ticks'),
    size: z.number().int().nonnegative().describe('open quantity in lots'),
  }),
  maxKeyBytes: 64,
  maxLeafBytes: 64,
})
