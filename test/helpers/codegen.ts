import { randomBytes } from 'node:crypto'
import { mkdirSync, rmSync, writeFileSync } from 'node:fs'
import { dirname, join } from 'node:path'
import { fileURLToPath, pathToFileURL } from 'node:url'
import { Project, ts } from 'ts-morph'
import { afterAll } from 'vitest'
import { generate, type OutputFile } from '../../codegen/generate.js'
import { loadSchemas } from '../../codegen/load/load.js'
import type { SchemaModel } from '../../codegen/model.js'

const repo = fileURLToPath(new URL('../..', import.meta.url))

/** A throwaway project under test/.tmp/: schema files in, generated files out. */
export interface SchemaProject {
  root: string
  /** Loads `schemas/` of the project. */
  load(): Promise<SchemaModel>
  /** Loads and generates; writes the output into the project when `write` is true. */
  generate(write?: boolean): Promise<OutputFile[]>
  /** Imports a file of the project (e.g. `generated/index.ts`). */
  import<T = Record<string, unknown>>(path: string): Promise<T>
  remove(): void
}

/**
 * `project(files)` for one test file: `schemaProject`, each project made removed after the
 * file's tests (`afterAll`).
 */
export function schemaProjects(): (files: Record<string, string>) => SchemaProject {
  const made: SchemaProject[] = []
  afterAll(() => {
    for (const p of made.splice(0)) p.remove()
  })
  return (files) => {
    const p = schemaProject(files)
    made.push(p)
    return p
  }
}

/**
 * Writes `files` (path relative to the project → content) into a new project. In schema files,
 * `@dsl` stands for the import path of runtime/schema.js from there.
 */
export function schemaProject(files: Record<string, string>): SchemaProject {
  const root = join(repo, 'test', '.tmp', randomBytes(6).toString('hex'))
  for (const [path, content] of Object.entries(files)) {
    const file = join(root, path)
    mkdirSync(dirname(file), { recursive: true })
    writeFileSync(file, content.replaceAll('@dsl', relative(file, 'runtime/schema.js')))
  }
  const runtime = relative(join(root, 'generated', 'x.gen.ts'), 'runtime/index.js')
  const project: SchemaProject = {
    root,
    load: () => loadSchemas({ root, dir: 'schemas' }),
    async generate(write = false) {
      const output = generate(await project.load(), { out: 'generated', runtime, version: '0.0.0-test' })
      if (write) {
        for (const file of output) {
          mkdirSync(dirname(join(root, file.path)), { recursive: true })
          writeFileSync(join(root, file.path), file.content)
        }
      }
      return output
    },
    import: async (path) => import(pathToFileURL(join(root, path)).href),
    remove: () => rmSync(root, { recursive: true, force: true }),
  }
  return project
}

function relative(from: string, target: string): string {
  const path = join(repo, target)
  let up = dirname(from)
  let prefix = ''
  while (!path.startsWith(`${up}/`)) {
    up = dirname(up)
    prefix += '../'
  }
  return `${prefix || './'}${path.slice(up.length + 1)}`
}

/** `text` after TypeScript's formatter, with the repository's settings: generated code must not change. */
export function formatted(text: string): string {
  const source = new Project({ useInMemoryFileSystem: true }).createSourceFile('/x.ts', text)
  source.formatText({
    indentSize: 2,
    tabSize: 2,
    convertTabsToSpaces: true,
    semicolons: ts.SemicolonPreference.Remove,
    insertSpaceAfterOpeningAndBeforeClosingNonemptyBraces: true,
  })
  return source.getFullText()
}
