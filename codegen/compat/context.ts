/**
 * The state of one `isSubschema` run: the two documents (for `$ref`), the options, the recursion
 * guard, a step budget, and the wording of reasons (which depends on which schema is the old one).
 */
import { OPAQUE_KEYWORD } from '../../runtime/schema-wire.js'
import { hasRef, isObject, type SchemaObject, sameSchema, show } from './json.js'

/** How `isSubschema` reads its two schemas. */
export interface SubschemaOptions {
  /**
   * Which version `a` is, for the wording of reasons only: `'before'` (default) reads
   * "maximum went from a to b", `'after'` reads "maximum went from b to a".
   */
  aIs?: 'before' | 'after'
  /**
   * A property `b` declares and `a` does not, in an object of `a` that leaves undeclared
   * properties unconstrained (no `additionalProperties`), is assumed absent from `a`'s values.
   * True of typed writers, which send what their type declares: an old client never sends a field
   * the new input added. Default false (plain JSON Schema: it may be there with any value).
   */
  undeclaredUnsent?: boolean
  /**
   * `additionalProperties: false` in `b` drops undeclared properties instead of refusing them.
   * True of zod's output side of `z.object`, which says what the worker's parse keeps, while old
   * clients (which do not validate outputs, and strip when they parse) read past new fields.
   * Default false.
   */
  undeclaredIgnored?: boolean
}

/** Why `a ⊆ b` could not be shown: where in the schemas, and a short sentence. */
export interface Failure {
  path: string[]
  reason: string
}

/** Proves `a ⊆ b` for two subschemas (the entry point of the recursion, given to the context to avoid an import cycle). */
export type Prove = (a: unknown, b: unknown, ctx: Ctx, path: readonly string[]) => Failure | undefined

/** Comparisons one run may make before it gives up (reported as not provable). */
const STEP_BUDGET = 50_000

export class Ctx {
  readonly rootA: unknown
  readonly rootB: unknown
  readonly options: SubschemaOptions
  readonly #prove: Prove
  readonly #forward: boolean
  readonly #rootsEqual: boolean
  #steps = 0
  readonly #ids = new WeakMap<object, number>()
  #nextId = 0
  /** Pairs being proved, by key, with their depth. */
  readonly #stack = new Map<string, number>()
  /** The shallowest pair being proved that the current proof assumed. */
  #lowest = Number.POSITIVE_INFINITY
  /** Pairs proved (`true`) or refuted (the failure, its path relative to the pair). */
  readonly #known = new Map<string, true | Failure>()
  readonly #conjunctions = new Map<string, SchemaObject>()

  constructor(rootA: unknown, rootB: unknown, options: SubschemaOptions, prove: Prove) {
    this.rootA = rootA
    this.rootB = rootB
    this.options = options
    this.#prove = prove
    this.#forward = options.aIs !== 'after'
    // Equal documents resolve equal refs to equal schemas, so equal subtrees may be skipped even with refs.
    this.#rootsEqual = sameSchema(rootA, rootB)
  }

  /** Proves `a ⊆ b` one level down: a property, an item, the property names. */
  sub(a: unknown, b: unknown, path: readonly string[]): Failure | undefined {
    return this.#prove(a, b, this, path)
  }

  /** Counts one comparison; true once the budget is spent. */
  spend(): boolean {
    this.#steps += 1
    return this.exhausted
  }

  /** Whether the budget ran out: a failure found after that may be for want of steps. */
  get exhausted(): boolean {
    return this.#steps > STEP_BUDGET
  }

  /** Whether `a` and `b` accept the same values for sure (equal, and their refs resolve alike). */
  same(a: unknown, b: unknown): boolean {
    return this.#rootsEqual ? sameSchema(a, b) : !hasRef(a) && !hasRef(b) && sameSchema(a, b)
  }

  /**
   * Proves `a ⊆ b` by `compute` once per pair of nodes. A pair met again while it is being proved
   * further up holds: every way back to it goes through a property, an item or a property name, so
   * the value got smaller on the way, and for finite JSON values that is a proof (the usual argument
   * for recursive types). Results are kept, except a success that leaned on such a pair further up,
   * which holds only inside that pair's proof. Keeping them makes nested unions polynomial.
   */
  once(
    a: unknown,
    b: unknown,
    path: readonly string[],
    compute: () => Failure | undefined,
  ): Failure | undefined {
    const key = `${this.#id(a)}:${this.#id(b)}`
    const known = this.#known.get(key)
    if (known) return known === true ? undefined : failure([...path, ...known.path], known.reason)
    const above = this.#stack.get(key)
    if (above !== undefined) {
      this.#lowest = Math.min(this.#lowest, above)
      return undefined
    }
    const depth = this.#stack.size
    this.#stack.set(key, depth)
    const outer = this.#lowest
    this.#lowest = Number.POSITIVE_INFINITY
    let found: Failure | undefined
    try {
      found = compute()
    } finally {
      this.#stack.delete(key)
    }
    if (found) this.#known.set(key, { path: found.path.slice(path.length), reason: found.reason })
    else if (this.#lowest >= depth) this.#known.set(key, true)
    this.#lowest = Math.min(outer, this.#lowest)
    return found
  }

  /** One node for "all of these" on the `a` side, the same object for the same nodes (so the guard sees it again). */
  all(nodes: readonly unknown[]): unknown {
    if (nodes.length === 0) return true
    if (nodes.length === 1) return nodes[0]
    const key = nodes.map((n) => this.#id(n)).join(',')
    let node = this.#conjunctions.get(key)
    if (!node) {
      node = { allOf: [...nodes] }
      this.#conjunctions.set(key, node)
    }
    return node
  }

  /** The sentence for a change from `a` to `b` when `a` is the old schema, else the other one. */
  say(whenAIsBefore: string, whenAIsAfter: string): string {
    return this.#forward ? whenAIsBefore : whenAIsAfter
  }

  /** "maximum went from 1476 to 100", "minItems 1 was added", "pattern "^a" was removed". */
  changed(keyword: string, aValue: unknown, bValue: unknown): string {
    const [before, after] = this.#forward ? [aValue, bValue] : [bValue, aValue]
    const value = (v: unknown) => (v === true ? '' : ` ${show(v)}`)
    if (before === undefined) return `${keyword}${value(after)} was added`
    if (after === undefined) return `${keyword}${value(before)} was removed`
    return `${keyword} went from ${show(before)} to ${show(after)}`
  }

  #id(node: unknown): number | string {
    if (!isObject(node)) return JSON.stringify(node) ?? 'undefined'
    let id = this.#ids.get(node)
    if (id === undefined) {
      id = this.#nextId++
      this.#ids.set(node, id)
    }
    return id
  }
}

/** A failure at `path`. */
export function failure(path: readonly string[], reason: string): Failure {
  return { path: [...path], reason }
}

/** The reason when a keyword of `b` cannot be checked against `a`. */
export function notProvable(keyword: string): string {
  if (keyword === OPAQUE_KEYWORD) {
    return 'cannot tell: a `.refine()`, `.superRefine()` or transform was added or changed, and the check cannot see what a function accepts'
  }
  return `cannot prove compatible: keyword \`${keyword}\` changed`
}
