/**
 * The message of a schema file that failed to load: where in the project's source it failed
 * (`schemas/x.schema.ts:12:7`, through source maps, never the transpiled line) and why, with the
 * stack frames of the project's own files only (not Node's, zod's or the loader's).
 */
import { relative, sep } from 'node:path'
import { fileURLToPath } from 'node:url'

const POSITION = /(file:\/\/[^\s()'"]+|\/[^\s()'":]+):(\d+):(\d+)/g

/** `path:line:col` of the first place in `text` inside `root` and outside node_modules. */
function firstPosition(text: string, root: string): string | undefined {
  for (const [, where = '', line, column] of text.matchAll(POSITION)) {
    const path = where.startsWith('file:') ? safePath(where) : where
    if (!path?.startsWith(root + sep) || path.includes(`${sep}node_modules${sep}`)) continue
    return `${toPosix(relative(root, path))}:${line}:${column}`
  }
  return undefined
}

/** `file: cannot be loaded: …`, led by the source position when one is known. */
export function loadErrorMessage(file: string, err: unknown, root: string): string {
  if (!(err instanceof Error)) return `${file}: cannot be loaded: ${String(err)}`
  const stack = err.stack ?? ''
  const where = firstPosition(`${err.message}\n${stack}`, root) ?? file
  const plain = (text: string) => text.replaceAll(`file://${root}${sep}`, '').replaceAll(`${root}${sep}`, '')
  const frames = stack
    .split('\n')
    .filter((line) => /^\s+at /.test(line) && firstPosition(line, root) !== undefined)
    .map(plain)
  return [`${where}: cannot be loaded: ${err.name}: ${plain(err.message)}`, ...frames].join('\n')
}

function safePath(url: string): string | undefined {
  try {
    return fileURLToPath(url)
  } catch {
    return undefined
  }
}

function toPosix(path: string): string {
  return path.split(sep).join('/')
}
