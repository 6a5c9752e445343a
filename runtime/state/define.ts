import { z } from 'zod'
import { checkNameAndVersion, type SchemaProblem, zod3Problem, zodModuleProblem } from '../schema-rules.js'
import type { Delta } from './types.js'

/** A state's key: a zod string or integer type. */
export type StateKeySchema = z.ZodType<string | number>
/** A state's leaf: a zod object. */
export type StateLeafSchema = z.ZodObject

/** A replicated state type: leaves keyed by id, sent as binary deltas and snapshots. */
export interface StateDefinition<
  K extends StateKeySchema = StateKeySchema,
  L extends StateLeafSchema = StateLeafSchema,
> {
  /** Lower camel or snake case; its PascalCase names the generated exports. */
  readonly name: string
  /** The major version, a positive integer: part of the feed's name and of the fingerprint. */
  readonly version: number
  readonly description?: string
  /** What identifies a leaf: a zod string (bounded by `maxKeyBytes`) or integer type. */
  readonly key: K
  /** One leaf: a zod object of encodable types (see docs/state.md). */
  readonly leaf: L
  /** Largest key in UTF-8 bytes; default 128, at most 1024. */
  readonly maxKeyBytes?: number
  /** Largest encoded leaf in bytes; default 4096, at most 1 MiB. */
  readonly maxLeafBytes?: number
}

export const STATE_LIMITS = {
  maxKeyBytes: { default: 128, max: 1024 },
  maxLeafBytes: { default: 4096, max: 1024 * 1024 },
} as const

const STATE = Symbol.for('grenache-gen.state')

/** Declares a replicated state type. Returns the definition, marked as one; `checkState` holds the rules. */
export function defineState<const K extends StateKeySchema, const L extends StateLeafSchema>(
  definition: StateDefinition<K, L>,
): StateDefinition<K, L> {
  if (typeof definition === 'object' && definition !== null && !Object.isFrozen(definition)) {
    Object.defineProperty(definition, STATE, { value: true })
  }
  return definition
}

/** Whether `value` came from `defineState`. */
export function isStateDefinition(value: unknown): value is StateDefinition {
  return typeof value === 'object' && value !== null && (value as Record<symbol, unknown>)[STATE] === true
}

/** The feed name of a state: `<name>@<version>`. */
export function stateFeed(state: StateDefinition): string {
  return `${state.name}@${state.version}`
}

/** The limits of a state, defaults filled in. */
export function stateLimits(state: StateDefinition): { maxKeyBytes: number; maxLeafBytes: number } {
  return {
    maxKeyBytes: state.maxKeyBytes ?? STATE_LIMITS.maxKeyBytes.default,
    maxLeafBytes: state.maxLeafBytes ?? STATE_LIMITS.maxLeafBytes.default,
  }
}

/** The key of a state's leaves. */
export type StateKey<S extends StateDefinition> = z.output<S['key']>
/** One leaf of a state, as decoded (zod's output type). */
export type StateLeaf<S extends StateDefinition> = z.output<S['leaf']>
/** What a publisher passes for a leaf (zod's input type: defaults may be left out). */
export type StateLeafInput<S extends StateDefinition> = z.input<S['leaf']>
/** The fields a `patch` may carry: any of the leaf's top-level fields. */
export type StatePatch<S extends StateDefinition> = { [F in keyof StateLeaf<S>]?: StateLeaf<S>[F] }

/** A rule a state breaks: which one, where (`leaf.price`), and why. */
export type StateProblem = SchemaProblem

/** Every rule of the definition itself that `state` breaks (the leaf's types are checked by the generator). */
export function checkState(state: unknown): StateProblem[] {
  const problems: StateProblem[] = []
  const fail = (rule: string, path: string, message: string): void => {
    problems.push({ rule, path, message })
  }
  if (typeof state !== 'object' || state === null) {
    fail('shape', '', 'is not a state definition (use defineState)')
    return problems
  }
  const s = state as StateDefinition
  checkNameAndVersion(s, fail)
  if (s.description !== undefined && typeof s.description !== 'string') {
    fail('shape', 'description', 'must be a string')
  }
  const own = zodModuleProblem(z)
  const keyZod3 = zod3Problem(s.key)
  const zod3 = keyZod3 ?? zod3Problem(s.leaf)
  if (own) fail('zod-version', '', own)
  else if (zod3) fail('zod-version', keyZod3 ? 'key' : 'leaf', zod3)
  else {
    if (!(s.key instanceof z.ZodType)) fail('zod', 'key', 'must be a zod string or integer type')
    if (!(s.leaf instanceof z.ZodObject)) fail('zod', 'leaf', 'must be a zod object (z.object({ … }))')
  }
  for (const name of ['maxKeyBytes', 'maxLeafBytes'] as const) {
    const value = s[name]
    const { max } = STATE_LIMITS[name]
    if (value !== undefined && !(Number.isInteger(value) && value >= 1 && value <= max)) {
      fail('limit', name, `must be an integer from 1 to ${max}, got ${JSON.stringify(value)}`)
    }
  }
  return problems
}

/** A delta of a state: upsert, patch, delete or clear. */
export type StateDelta<S extends StateDefinition> = Delta<StateKey<S>, StateLeaf<S>, StatePatch<S>>
