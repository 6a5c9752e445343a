import { isObject } from './json.js'

/**
 * The node a local `$ref` (`#`, `#/$defs/Tree`, any JSON pointer into the document) points at, or
 * undefined when it points elsewhere or at nothing. zod emits `#` for a schema that refers to
 * itself and `#/$defs/<id>` for named or mutually recursive ones.
 */
export function resolveRef(root: unknown, ref: unknown): unknown {
  if (typeof ref !== 'string' || !ref.startsWith('#')) return undefined
  let pointer: string
  try {
    pointer = decodeURIComponent(ref.slice(1))
  } catch {
    return undefined
  }
  if (pointer === '') return root
  if (!pointer.startsWith('/')) return undefined // a named anchor: zod does not emit them
  let node: unknown = root
  for (const raw of pointer.slice(1).split('/')) {
    const token = raw.replaceAll('~1', '/').replaceAll('~0', '~')
    if (Array.isArray(node) && /^(0|[1-9]\d*)$/.test(token)) node = node[Number(token)]
    else if (isObject(node) && Object.hasOwn(node, token)) node = node[token]
    else return undefined
  }
  return node
}
