import { decideOursFrom, type OursFrom } from '../lib/ours-from.js'

export type { OursFrom }

/** What runtime/grape imports (see its import lines): the compiled copy of each must be current. */
const OURS_SOURCES = [
  'runtime/grape',
  'runtime/bep44',
  'runtime/util',
  'runtime/transport/shared',
  'runtime/errors.ts',
]

/** Where the DHT suite loads our Grape from; `BENCH_DHT_OURS=dist|source` forces it. */
export function decideDhtOursFrom(root: string): { from: OursFrom; why: string } {
  return decideOursFrom(root, OURS_SOURCES, 'BENCH_DHT_OURS')
}
