import { join } from 'node:path'
import { build } from 'esbuild'
import { ROOT } from '../lib/children.js'

/**
 * Where the bundle goes: with the results (ignored by git, and outside dist/, which is published),
 * two levels down, so that its `ROOT` (`../..` of the file) is the repository.
 */
export const NODE_CHILD_BUNDLE = join('bench', 'results', 'dht-node-child.mjs')

/**
 * Bundles node-child.ts (and the bench code it imports; packages stay imports) into one JavaScript
 * file that plain node runs. A Grape process in production is node running JavaScript; under tsx
 * both implementations paid its loader (a hooks thread, a transform of every file loaded through
 * it), which made up most of a process's start and RSS and moved with the machine more than either
 * Grape did. Our Grape is still loaded from dist/bundle/grape.js, the reference from node_modules.
 */
export async function bundleNodeChild(): Promise<string> {
  await build({
    entryPoints: [join(ROOT, 'bench', 'dht', 'node-child.ts')],
    outfile: join(ROOT, NODE_CHILD_BUNDLE),
    bundle: true,
    packages: 'external',
    platform: 'node',
    format: 'esm',
    target: 'node20',
    logLevel: 'warning',
  })
  return NODE_CHILD_BUNDLE
}
