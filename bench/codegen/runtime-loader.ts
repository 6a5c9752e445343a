/**
 * Loads our runtime and the generated Fibonacci service in a typed-layer child, from dist/ (the
 * tsc build users run) or from the TypeScript source through tsx, as the orchestrator decided.
 *
 * `generated/fibonacci.gen.ts` and `schemas/fibonacci.schema.ts` are not part of the build: they
 * are loaded through tsx as they are (the generated class's methods are not closures created per
 * call, so tsx's keepNames `__name()` wrappers cost nothing per call there). What they import from
 * `runtime/` is redirected to `dist/runtime/` by a module resolve hook, so the whole request path
 * (ServiceClient, ServiceServer, RpcClient, RpcServer, transports) is the tsc build, exactly as in
 * a project whose generated code imports the `grenache-gen` package. The hook refuses to load any
 * `runtime/*.ts` once it is on, so a source module cannot slip in.
 */
import { register } from 'node:module'
import { pathToFileURL } from 'node:url'
import { ROOT } from '../lib/children.js'
import type { CodeFrom } from './protocol.js'

export type RuntimeModule = typeof import('../../runtime/index.js')
export type GeneratedModule = typeof import('../../generated/fibonacci.gen.js')

/** The resolve/load hooks (an ES module as a data: URL): `runtime/x.ts` → `dist/runtime/x.js`. */
function redirectHooks(): string {
  const root = pathToFileURL(ROOT).href
  const source = `${root.endsWith('/') ? root : `${root}/`}runtime/`
  const dist = `${root.endsWith('/') ? root : `${root}/`}dist/runtime/`
  return `
import { existsSync } from 'node:fs'
const source = ${JSON.stringify(source)}
const dist = ${JSON.stringify(dist)}
function toDist(url) {
  if (!url.startsWith(source)) return undefined
  const path = url.split(/[?#]/)[0]
  return path.endsWith('.ts') ? dist + path.slice(source.length, -3) + '.js' : undefined
}
export async function resolve(specifier, context, next) {
  const result = await next(specifier, context)
  const target = toDist(result.url)
  if (target === undefined) return result
  if (!existsSync(new URL(target))) throw new Error('bench: ' + target + ' is missing (npm run build)')
  return { url: target, format: 'module', shortCircuit: true }
}
export async function load(url, context, next) {
  if (toDist(url) !== undefined) throw new Error('bench: ' + url + ' would load from the source, not dist/')
  return next(url, context)
}
`
}

let redirected = false

/** Our runtime (`runtime/index`), once per process. */
export async function loadRuntime(from: CodeFrom): Promise<RuntimeModule> {
  return from === 'dist'
    ? ((await import('../../dist/runtime/index.js' as string)) as RuntimeModule)
    : await import('../../runtime/index.js')
}

/** The generated module, with its runtime imports from dist/ when `from` is `dist`. */
export async function loadGenerated(from: CodeFrom): Promise<GeneratedModule> {
  if (from === 'dist' && !redirected) {
    register(`data:text/javascript,${encodeURIComponent(redirectHooks())}`)
    redirected = true
  }
  return await import('../../generated/fibonacci.gen.js')
}
