import { execFile } from 'node:child_process'
import { fileURLToPath } from 'node:url'
import { CodegenError } from '../errors.js'
import type { SchemaModel } from '../model.js'
import type { Problem } from './build-model.js'

export interface LoadOptions {
  /** Project root: paths in the model are relative to it. */
  root: string
  /** The schemas directory, relative to `root`. */
  dir: string
}

/**
 * Loads every `<dir>/*.schema.ts` in a fresh process (a clean module graph each time, and a schema
 * that hangs or crashes cannot take the generator with it) and returns the model. Rejects with a
 * `CodegenError` listing every problem, one per line.
 */
export async function loadSchemas(options: LoadOptions): Promise<SchemaModel> {
  const child = fileURLToPath(
    new URL(`./load-child${import.meta.url.endsWith('.ts') ? '.ts' : '.js'}`, import.meta.url),
  )
  const args = child.endsWith('.ts') ? ['--import', 'tsx', child] : [child]
  const stdout = await new Promise<string>((resolve, reject) => {
    execFile(
      process.execPath,
      [...args, options.root, options.dir],
      { cwd: options.root, timeout: 60_000, maxBuffer: 64 * 1024 * 1024 },
      (err, out, errorOutput) => {
        if (err) {
          reject(
            new CodegenError(
              'ERR_SCHEMA_LOAD',
              `loading ${options.dir} failed: ${errorOutput || err.message}`,
              { cause: err },
            ),
          )
        } else resolve(out)
      },
    )
  })
  const result = JSON.parse(stdout.trim().split('\n').pop() ?? '{}') as
    | { ok: true; model: SchemaModel }
    | { ok: false; problems: Problem[] }
  if (result.ok) return result.model
  const [first] = result.problems
  throw new CodegenError(first?.code ?? 'ERR_SCHEMA_LOAD', result.problems.map((p) => p.message).join('\n'), {
    ...(first?.file ? { file: first.file } : {}),
    ...(first?.exportName ? { exportName: first.exportName } : {}),
    ...(first?.rule ? { rule: first.rule } : {}),
  })
}
