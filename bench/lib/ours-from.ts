import { existsSync, readdirSync, statSync } from 'node:fs'
import { join } from 'node:path'

/** Where a suite's children load our runtime from. */
export type OursFrom = 'dist' | 'source'

/** The sources (files or folders, from the repo root) whose compiled copy in dist/ is older or missing. */
export function staleSources(root: string, sources: readonly string[]): string[] {
  const stale: string[] = []
  const check = (path: string) => {
    if (statSync(join(root, path)).isDirectory()) {
      for (const entry of readdirSync(join(root, path))) check(join(path, entry))
    } else if (path.endsWith('.ts') && !path.endsWith('.d.ts')) {
      const built = join(root, 'dist', path.replace(/\.ts$/, '.js'))
      if (!existsSync(built) || statSync(built).mtimeMs < statSync(join(root, path)).mtimeMs) stale.push(path)
    }
  }
  for (const path of sources) check(path)
  return stale
}

/**
 * dist/ (what a user runs: plain JavaScript, like the reference) when every one of `sources` has a
 * compiled .js at least as new (`npm run build`), so that a stale build is never measured;
 * otherwise the TypeScript source through tsx, which costs start-up time and memory the reference
 * does not pay. The environment variable `env` (`dist` or `source`) forces it (dist must then be
 * current).
 */
export function decideOursFrom(
  root: string,
  sources: readonly string[],
  env: string,
): { from: OursFrom; why: string } {
  const forced = process.env[env]
  if (forced !== undefined && forced !== 'dist' && forced !== 'source') {
    throw new Error(`${env} must be dist or source, got ${forced}`)
  }
  if (forced === 'source') return { from: 'source', why: `${env}=source` }
  const stale = staleSources(root, sources)
  const list = `${stale.slice(0, 3).join(', ')}${stale.length > 3 ? ', …' : ''}`
  if (stale.length === 0) return { from: 'dist', why: 'dist/ is current' }
  if (forced === 'dist') throw new Error(`${env}=dist but dist/ is older than ${list}: npm run build`)
  return { from: 'source', why: `dist/ is older than ${list}; npm run build to measure what users run` }
}
