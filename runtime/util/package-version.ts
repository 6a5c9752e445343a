import { readFileSync } from 'node:fs'

let version: string | undefined

/**
 * This package's version, from its package.json: two levels up from the source (`runtime/util/`),
 * three from the build (`dist/runtime/util/`), so look upward for the one named grenache-gen.
 */
export function packageVersion(): string {
  if (version !== undefined) return version
  for (const path of ['../../package.json', '../../../package.json', '../../../../package.json']) {
    try {
      const pkg = JSON.parse(readFileSync(new URL(path, import.meta.url), 'utf8')) as {
        name?: unknown
        version?: unknown
      }
      if (pkg.name === 'grenache-gen' && typeof pkg.version === 'string') {
        version = pkg.version
        return version
      }
    } catch {
      // Not there at this level: try the next one up.
    }
  }
  version = 'unknown'
  return version
}
