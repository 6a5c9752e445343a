import { existsSync, statSync } from 'node:fs'
import { join } from 'node:path'
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

/** The bundle `grenache-gen/grape` resolves to (scripts/bundle-grape.mjs), what the children load. */
export const GRAPE_BUNDLE = join('dist', 'bundle', 'grape.js')

/**
 * Where the DHT suite loads our Grape from; `BENCH_DHT_OURS=dist|source` forces it. From dist/, it
 * is the bundle, which must be newer than the compiled files it was made of.
 */
export function decideDhtOursFrom(root: string): { from: OursFrom; why: string } {
  const decided = decideOursFrom(root, OURS_SOURCES, 'BENCH_DHT_OURS')
  if (decided.from !== 'dist') return decided
  const bundle = join(root, GRAPE_BUNDLE)
  const compiled = join(root, 'dist', 'runtime', 'grape', 'grape.js')
  if (existsSync(bundle) && statSync(bundle).mtimeMs >= statSync(compiled).mtimeMs) {
    return { from: 'dist', why: `${GRAPE_BUNDLE} (grenache-gen/grape) is current` }
  }
  if (process.env.BENCH_DHT_OURS === 'dist') {
    throw new Error(`BENCH_DHT_OURS=dist but ${GRAPE_BUNDLE} is missing or stale: npm run build`)
  }
  return {
    from: 'source',
    why: `${GRAPE_BUNDLE} is missing or stale; npm run build to measure what users run`,
  }
}
