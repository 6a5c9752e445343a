import { execFileSync } from 'node:child_process'
import { join } from 'node:path'
import { pathToFileURL } from 'node:url'
import { beforeAll, describe, expect, it } from 'vitest'
import { ensureBuilt, ROOT } from '../../helpers/built.js'

/**
 * What a fresh process loads: a `grenache` command pays for every module it imports, so the
 * runtime must load undici, ws and zeromq only when a transport needs them.
 */
function loadedPackages(script: string): string[] {
  const output = execFileSync(
    process.execPath,
    [
      '--input-type=module',
      '-e',
      `import { createRequire } from 'node:module'
${script}
const loaded = Object.keys(createRequire(import.meta.url).cache)
process.stdout.write(JSON.stringify(['undici', 'ws', 'zeromq'].filter((name) =>
  loaded.some((path) => path.includes(\`/node_modules/\${name}/\`)))))`,
    ],
    { cwd: ROOT, encoding: 'utf8', timeout: 30_000 },
  )
  return JSON.parse(output) as string[]
}

const dist = (path: string) => pathToFileURL(join(ROOT, 'dist', path)).href

beforeAll(() => {
  ensureBuilt('dist/runtime/cli/bin/grenache.js')
}, 180_000)

describe('start-up', () => {
  it.each([
    'runtime/index.js',
    'runtime/cli/main.js',
    'runtime/cli/commands/put.js',
    'runtime/cli/commands/request.js',
    'runtime/cli/commands/sub.js',
    'runtime/cli/commands/feed.js',
  ])('importing %s loads none of undici, ws, zeromq', (module) => {
    expect(loadedPackages(`await import(${JSON.stringify(dist(module))})`)).toEqual([])
  })

  it('a Link with connections: 0 calls the Grape without loading undici', () => {
    const script = `const { Link } = await import(${JSON.stringify(dist('runtime/link/link.js'))})
const link = new Link({ grape: 'http://127.0.0.1:1', connections: 0, maxAttempts: 1 })
const err = await link.lookup('nobody').catch((e) => e)
if (err.code !== 'ERR_CONNECTION_REFUSED') throw err
await link.close()`
    expect(loadedPackages(script)).toEqual([])
  })

  it.each([
    ['ws', ['ws']],
    ['http', ['undici']],
    ['zmq', ['zeromq']],
  ])('a %s client loads only its own package, when it is built', (transport, packages) => {
    const script = `const { RpcClient } = await import(${JSON.stringify(dist('runtime/peer/rpc-client.js'))})
const link = { lookup: async () => [], startAnnouncing: async () => {}, stopAnnouncing: () => false }
const client = new RpcClient({ transport: '${transport}', link })
await client.close()`
    expect(loadedPackages(script)).toEqual(packages)
  })
})
