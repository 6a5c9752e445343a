import { existsSync, readdirSync, statSync } from 'node:fs'
import { join } from 'node:path'

/** Where our Grape is loaded from in the DHT suite's children. */
export type OursFrom = 'dist' | 'source'

/** What runtime/grape imports (see its import lines): the compiled copy of each must be current. */
const OURS_SOURCES = [
  'runtime/grape',
  'runtime/bep44',
  'runtime/util',
  'runtime/transport/shared',
  'runtime/errors.ts',
]

function staleSources(root: string): string[] {
  const stale: string[] = []
  const check = (path: string) => {
    if (statSync(join(root, path)).isDirectory()) {
      for (const entry of readdirSync(join(root, path))) check(join(path, entry))
    } else if (path.endsWith('.ts') && !path.endsWith('.d.ts')) {
      const built = join(root, 'dist', path.replace(/\.ts$/, '.js'))
      if (!existsSync(built) || statSync(built).mtimeMs < statSync(join(root, path)).mtimeMs) stale.push(path)
    }
  }
  for (const path of OURS_SOURCES) check(path)
  return stale
}

/**
 * dist/ (what a user runs: plain JavaScript, like the reference) when every source our Grape loads
 * has a compiled .js at least as new (`npm run build`), otherwise the TypeScript source through
 * tsx, which costs start-up time and memory the reference does not pay. `BENCH_DHT_OURS=dist` or
 * `source` forces it (dist must then be current).
 */
export function decideOursFrom(root: string): { from: OursFrom; why: string } {
  const forced = process.env.BENCH_DHT_OURS
  if (forced !== undefined && forced !== 'dist' && forced !== 'source') {
    throw new Error(`BENCH_DHT_OURS must be dist or source, got ${forced}`)
  }
  if (forced === 'source') return { from: 'source', why: 'BENCH_DHT_OURS=source' }
  const stale = staleSources(root)
  const list = `${stale.slice(0, 3).join(', ')}${stale.length > 3 ? ', …' : ''}`
  if (stale.length === 0) return { from: 'dist', why: 'dist/ is current' }
  if (forced === 'dist') throw new Error(`BENCH_DHT_OURS=dist but dist/ is older than ${list}: npm run build`)
  return { from: 'source', why: `dist/ is older than ${list}; npm run build to measure what users run` }
}
