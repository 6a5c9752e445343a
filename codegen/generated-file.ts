import { createRequire } from 'node:module'
import type { ts as TypeScript } from 'ts-morph'

// ts-morph is CommonJS: require() skips the export scan an ESM import of it costs (~100 ms).
const { ts } = createRequire(import.meta.url)('ts-morph') as { ts: typeof TypeScript }

const IDENTIFIER = /^[A-Za-z_$][A-Za-z0-9_$]*$/
const RESERVED = new Set(
  'break case catch class const continue debugger default delete do else enum export extends false finally for function if import in instanceof new null return super switch this throw true try typeof var void while with yield let static implements interface package private protected public await'.split(
    ' ',
  ),
)

/** An identifier safe to emit: `name` itself when valid, else a sanitised form ending in `_`. */
export function identifier(name: string): string {
  const cleaned = name.replace(/[^A-Za-z0-9_$]/g, '_')
  const valid = IDENTIFIER.test(cleaned) ? cleaned : `_${cleaned}`
  return RESERVED.has(valid) || valid !== name ? `${valid}_` : valid
}

interface ImportedName {
  local: string
  typeOnly: boolean
}

/**
 * One generated file: owns its header and its imports, so emitters never write either as text.
 * `import()` hands out the identifier to use for an imported name (aliased if the file defines
 * the same name), `define()` reserves the names the file exports, `add()` appends code.
 */
export class GeneratedFile {
  readonly path: string
  readonly #header: string[]
  readonly #imports = new Map<string, Map<string, ImportedName>>()
  readonly #taken = new Set<string>()
  readonly #chunks: string[] = []
  readonly #reexports: string[] = []

  /** `path` relative to the output directory; `header` lines without the `// `. */
  constructor(path: string, header: string[]) {
    this.path = path
    this.#header = header
  }

  /** Reserves `name` for a declaration of this file; a clash is a bug of the emitter. */
  define(name: string): string {
    const id = identifier(name)
    if (this.#taken.has(id)) throw new Error(`${this.path}: ${id} is declared twice`)
    this.#taken.add(id)
    return id
  }

  /** Imports `name` from `from` and returns the identifier to refer to it by. */
  import(from: string, name: string, options: { type?: boolean } = {}): string {
    let names = this.#imports.get(from)
    if (!names) {
      names = new Map()
      this.#imports.set(from, names)
    }
    const known = names.get(name)
    if (known) {
      if (!options.type) known.typeOnly = false
      return known.local
    }
    let local = identifier(name)
    for (let n = 2; this.#taken.has(local); n++) local = `${identifier(name)}${n}`
    this.#taken.add(local)
    names.set(name, { local, typeOnly: options.type === true })
    return local
  }

  /** Re-exports everything `from` exports (a barrel). */
  exportAll(from: string): void {
    this.#reexports.push(from)
  }

  add(code: string): void {
    this.#chunks.push(code)
  }

  /**
   * The file's text: header, sorted imports, then the code as the templates wrote it (they emit it
   * formatted; a test checks that TypeScript's formatter would change nothing). Deterministic.
   */
  render(): string {
    const statements: string[] = []
    for (const from of [...this.#imports.keys()].sort()) {
      const names = [...(this.#imports.get(from)?.entries() ?? [])].sort(([a], [b]) =>
        a < b ? -1 : a > b ? 1 : 0,
      )
      const specifiers = names.map(([name, { local, typeOnly }]) =>
        ts.factory.createImportSpecifier(
          typeOnly,
          local === name ? undefined : ts.factory.createIdentifier(name),
          ts.factory.createIdentifier(local),
        ),
      )
      statements.push(
        print(
          ts.factory.createImportDeclaration(
            undefined,
            ts.factory.createImportClause(false, undefined, ts.factory.createNamedImports(specifiers)),
            ts.factory.createStringLiteral(from, true),
          ),
        ),
      )
    }
    for (const from of [...this.#reexports].sort()) {
      statements.push(
        print(
          ts.factory.createExportDeclaration(
            undefined,
            false,
            undefined,
            ts.factory.createStringLiteral(from, true),
          ),
        ),
      )
    }
    const imports = wrapImports(statements.join('\n'))
    const body = this.#chunks.map((chunk) => chunk.trim()).join('\n\n')
    const header = this.#header.map((line) => `// ${line}`).join('\n')
    const head = imports ? `${header}\n${imports}` : header
    return body ? `${head}\n\n${body}\n` : `${head}\n`
  }
}

const printer = ts.createPrinter({ newLine: ts.NewLineKind.LineFeed, removeComments: true })
const printingFile = ts.createSourceFile('generated.ts', '', ts.ScriptTarget.ES2022, false, ts.ScriptKind.TS)

/** One statement as TypeScript prints it, without the semicolon (the repository style). */
function print(node: TypeScript.Node): string {
  return printer.printNode(ts.EmitHint.Unspecified, node, printingFile).replace(/;$/, '')
}

/** Lays out an import or export list longer than a line one name per line (ts-morph keeps it on one). */
function wrapImports(text: string): string {
  return text.replace(
    /^(import|export) (type )?\{ ([^}\n]+) \} from ('[^'\n]+')$/gm,
    (line, keyword, type, names, from) =>
      line.length <= 110
        ? line
        : `${keyword} ${type ?? ''}{\n  ${String(names).split(', ').join(',\n  ')},\n} from ${from}`,
  )
}
