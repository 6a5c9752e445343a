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
      const next = { ...leaf } as Record<string, unknown>
      for (const [name, value] of Object.entries(delta.fields as Record<string, unknown>)) {
        if (value === undefined) delete next[name]
        else next[name] = value
      }
      leaves.set(delta.key, next as L)
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
