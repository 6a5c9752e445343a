import type { Delta } from './types.js'

/**
 * Applies one delta to a map of leaves; returns whether anything could be applied (a patch of a
 * leaf that is not there changes nothing). Leaves are replaced, never mutated, so a leaf handed
 * out earlier keeps its value. Idempotent: applying the same delta again gives the same map.
 */
export function applyDelta<K, L, P>(leaves: Map<K, L>, delta: Delta<K, L, P>): boolean {
  switch (delta.op) {
    case 'upsert':
      leaves.set(delta.key, delta.leaf)
      return true
    case 'patch': {
      const leaf = leaves.get(delta.key)
      if (leaf === undefined) return false
      leaves.set(delta.key, patchLeaf(leaf, delta.fields))
      return true
    }
    case 'delete':
      return leaves.delete(delta.key)
    case 'clear': {
      const had = leaves.size > 0
      leaves.clear()
      return had
    }
  }
}

/** A new leaf: `leaf` with the patch's fields in (an optional field given as `undefined` removed). */
export function patchLeaf<L, P>(leaf: L, fields: P): L {
  const next = { ...leaf } as Record<string, unknown>
  for (const name in fields) {
    const value = (fields as Record<string, unknown>)[name]
    if (value === undefined) delete next[name]
    else next[name] = value
  }
  return next as L
}
