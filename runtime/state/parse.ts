import type { z } from 'zod'
import { GrenacheError } from '../errors.js'
import type { StateDefinition, StateDelta, StateKey, StateLeaf } from './define.js'
import { deleteDelta, patchDelta, upsertDelta } from './delta-objects.js'

type Issue = { path: PropertyKey[]; message: string }

/** The zod checks a publisher runs before encoding: every issue, each with its path. */
export interface StateParsers<S extends StateDefinition> {
  parseDelta(delta: unknown): StateDelta<S>
  parseKey(key: unknown): StateKey<S>
  parseLeaf(leaf: unknown): StateLeaf<S>
}

/**
 * Validators from the author's schemas. A patch is checked field by field (a `.partial()` would
 * fill in `.default()`s for fields the patch leaves alone): an unknown field, or `undefined` for a
 * field the leaf requires, is refused; `undefined` for an optional field removes it.
 */
export function stateParsers<S extends StateDefinition>(state: S): StateParsers<S> {
  const where = `${state.name} v${state.version}`
  const shape = state.leaf.shape as Record<string, z.ZodType>
  const check = <T>(schema: z.ZodType, value: unknown, path: string): T => {
    const parsed = schema.safeParse(value)
    if (parsed.success) return parsed.data as T
    throw invalid(where, path, parsed.error.issues as Issue[])
  }
  /** Runs every part, so one error lists the issues of the key and of the leaf together. */
  const all = <T extends unknown[]>(...parts: { [I in keyof T]: () => T[I] }): T => {
    const out: unknown[] = []
    const failed: GrenacheError[] = []
    for (const part of parts) {
      try {
        out.push(part())
      } catch (err) {
        if (!(err instanceof GrenacheError)) throw err
        failed.push(err)
      }
    }
    if (failed.length === 1) throw failed[0]
    if (failed.length > 1) {
      const text = failed.map((err) => err.message.slice(where.length + 2)).join('; ')
      throw new GrenacheError('ERR_INVALID_DELTA', `${where}: ${text}`)
    }
    return out as T
  }
  const parseKey = (key: unknown) => check<StateKey<S>>(state.key, key, 'key')
  const parseLeaf = (leaf: unknown) => check<StateLeaf<S>>(state.leaf, leaf, 'leaf')
  const parsePatch = (fields: unknown): Record<string, unknown> => {
    if (typeof fields !== 'object' || fields === null || Array.isArray(fields)) {
      throw invalid(where, 'fields', [{ path: [], message: 'must be an object of leaf fields' }])
    }
    const out: Record<string, unknown> = {}
    for (const [name, value] of Object.entries(fields)) {
      const field = Object.hasOwn(shape, name) ? shape[name] : undefined
      if (!field) throw invalid(where, 'fields', [{ path: [name], message: 'is not a field of the leaf' }])
      if (value === undefined && field._zod.optout === 'optional') {
        out[name] = undefined
        continue
      }
      if (value === undefined && field._zod.optin !== 'optional') {
        throw invalid(where, 'fields', [
          { path: [name], message: 'is required: a patch cannot remove it (send an upsert)' },
        ])
      }
      out[name] = check(field, value, `fields.${name}`)
    }
    return out
  }
  const parseDelta = (delta: unknown): StateDelta<S> => {
    const d = delta as { op?: unknown; key?: unknown; leaf?: unknown; fields?: unknown } | null
    switch (typeof d === 'object' && d !== null ? d.op : undefined) {
      case 'upsert': {
        const [key, leaf] = all(
          () => parseKey(d?.key),
          () => parseLeaf(d?.leaf),
        )
        return upsertDelta(key, leaf) as StateDelta<S>
      }
      case 'patch': {
        const [key, fields] = all(
          () => parseKey(d?.key),
          () => parsePatch(d?.fields),
        )
        return patchDelta(key, fields) as StateDelta<S>
      }
      case 'delete':
        return deleteDelta(parseKey(d?.key)) as StateDelta<S>
      case 'clear':
        return { op: 'clear' } as StateDelta<S>
      default:
        throw invalid(where, 'op', [{ path: [], message: 'must be "upsert", "patch", "delete" or "clear"' }])
    }
  }
  return { parseDelta, parseKey, parseLeaf }
}

function invalid(where: string, path: string, issues: Issue[]): GrenacheError {
  const text = issues
    .map((issue) => `${[path, ...issue.path.map(String)].join('.')}: ${issue.message}`)
    .join('; ')
  return new GrenacheError('ERR_INVALID_DELTA', `${where}: ${text}`)
}
