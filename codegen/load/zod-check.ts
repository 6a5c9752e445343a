/**
 * zod is a peer dependency: the schemas and the generator must use the app's one copy. With two
 * copies, `.describe()` texts land in one copy's registry and the generator reads the other's; with
 * zod 3 the generator has no `toJSONSchema` at all. Checked before any schema is imported, so the
 * user reads which zod was found where instead of a TypeError from inside zod.
 */
import { readFileSync, realpathSync } from 'node:fs'
import { createRequire } from 'node:module'
import { dirname, join } from 'node:path'
import type { Problem } from './build-model.js'

/** The zod versions the generator supports; package.json's `peerDependencies.zod` says the same. */
export const SUPPORTED_ZOD = { major: 4, range: '^4.0.0' } as const

interface Found {
  version: string
  dir: string
}

function find(from: string): Found | undefined {
  try {
    const manifest = createRequire(from).resolve('zod/package.json')
    const { version } = JSON.parse(readFileSync(manifest, 'utf8')) as { version: string }
    return { version, dir: realpathSync(dirname(manifest)) }
  } catch {
    return undefined
  }
}

/** The problem with the zod the schemas in `schemasDir` import, if any. */
export function zodProblem(schemasDir: string): Problem | undefined {
  const app = find(join(schemasDir, 'schema.js'))
  // No zod where the schemas are: their import fails and says so with the file name.
  if (!app) return undefined
  const major = Number(app.version.split('.')[0])
  if (major !== SUPPORTED_ZOD.major) {
    return {
      code: 'ERR_ZOD_VERSION',
      message: `the schemas use zod ${app.version} (${app.dir}); grenache-gen supports zod ${SUPPORTED_ZOD.range}: npm install zod@${SUPPORTED_ZOD.range}`,
    }
  }
  const own = find(import.meta.url)
  if (own && own.dir !== app.dir) {
    return {
      code: 'ERR_ZOD_VERSION',
      message: `two copies of zod: the schemas use zod ${app.version} (${app.dir}), grenache-gen uses zod ${own.version} (${own.dir}); zod is a peer dependency of grenache-gen, so one copy must serve both (npm dedupe, or install zod@${SUPPORTED_ZOD.range} in the app)`,
    }
  }
  return undefined
}
