/**
 * Module hooks that let Node import TypeScript schema files when the generator runs from its
 * compiled JS (no tsx): `.ts` files are transpiled (types stripped, nothing checked) with
 * TypeScript's `transpileModule`, and a relative `./x.js` that does not exist resolves to `./x.ts`,
 * as NodeNext-style imports between schema files are written.
 */
import { existsSync } from 'node:fs'
import { readFile } from 'node:fs/promises'
import { createRequire, type LoadHook, type ResolveHook } from 'node:module'
import { fileURLToPath } from 'node:url'
import { jsdocTransformer } from './jsdoc-transform.js'

type TypeScript = typeof import('ts-morph').ts
let ts: TypeScript | undefined

async function typescript(): Promise<TypeScript> {
  // ts-morph is CommonJS: require() skips the export scan an ESM import of it costs (~100 ms).
  ts ??= (createRequire(import.meta.url)('ts-morph') as typeof import('ts-morph')).ts
  return ts
}

/** This package's root (the hooks live in <root>/codegen/load or <root>/dist/codegen/load). */
const OWN = new URL(import.meta.url.includes('/dist/codegen/') ? '../../../' : '../../', import.meta.url).href

/** Whether `url` is the generator's or the runtime's own source (its schema DSL included). */
function ownSource(url: string): boolean {
  return (
    url.startsWith(`${OWN}runtime/`) || url.startsWith(`${OWN}codegen/`) || url.includes('/node_modules/')
  )
}

export const resolve: ResolveHook = async (specifier, context, next) => {
  try {
    return await next(specifier, context)
  } catch (err) {
    const relative =
      specifier.startsWith('./') || specifier.startsWith('../') || specifier.startsWith('file:')
    if (relative && specifier.endsWith('.js') && context.parentURL?.startsWith('file:')) {
      const url = new URL(`${specifier.slice(0, -3)}.ts`, context.parentURL)
      if (existsSync(url)) return { url: url.href, shortCircuit: true }
    }
    throw err
  }
}

export const load: LoadHook = async (url, context, next) => {
  if (!url.startsWith('file:') || !url.endsWith('.ts')) return next(url, context)
  const compiler = await typescript()
  const source = await readFile(new URL(url), 'utf8')
  const docs = jsdocTransformer(compiler, source)
  const output = compiler.transpileModule(source, {
    fileName: fileURLToPath(url),
    compilerOptions: {
      module: compiler.ModuleKind.ESNext,
      target: compiler.ScriptTarget.ES2022,
      verbatimModuleSyntax: true,
      // Inline, so stack traces (with source maps on in the loader) point at the TypeScript source.
      inlineSourceMap: true,
    },
    reportDiagnostics: true,
    // The generator's own sources keep their JSDoc as comments; the app's schemas get it as data.
    ...(ownSource(url) ? {} : { transformers: { before: [docs.factory] } }),
  })
  // transpileModule only reports syntax errors; Node would report them against the JS it emits.
  const [syntax] = output.diagnostics ?? []
  if (syntax?.file && syntax.start !== undefined) {
    const { line, character } = syntax.file.getLineAndCharacterOfPosition(syntax.start)
    const text = compiler.flattenDiagnosticMessageText(syntax.messageText, '\n')
    throw new SyntaxError(`${fileURLToPath(url)}:${line + 1}:${character + 1}: ${text}`)
  }
  return { format: 'module', source: output.outputText + docs.helper(), shortCircuit: true }
}
