/**
 * Breaking changes of state types between two locks. A replica of `order_book@1` must decode
 * every `order_book@1` packet ever sent, and the layout has no field tags or lengths to skip what
 * it does not know (that is what keeps a delta near 10 bytes), so **every** layout change inside a
 * major version is a break: a field added, removed, renamed or retyped, an enum value added, a
 * bound or a limit moved. Descriptions are not part of the layout. docs/state.md explains the rule.
 */
import type { LockedState, SchemaLock, WireType } from '../model.js'

/** One layout difference: where (`leaf.price`) and what changed. */
export interface LayoutChange {
  where: string
  message: string
}

/** Every difference between two locked versions of one state, in layout order. */
export function stateChanges(before: LockedState, after: LockedState): LayoutChange[] {
  const changes: LayoutChange[] = []
  for (const limit of ['maxKeyBytes', 'maxLeafBytes'] as const) {
    if (before[limit] !== after[limit]) {
      changes.push({ where: limit, message: `${limit} went from ${before[limit]} to ${after[limit]}` })
    }
  }
  compare(before.key, after.key, 'key', changes)
  compare(before.leaf, after.leaf, 'leaf', changes)
  if (changes.length === 0 && before.fingerprint !== after.fingerprint) {
    changes.push({
      where: 'fingerprint',
      message: `the fingerprint went from ${before.fingerprint} to ${after.fingerprint} (name or layout format)`,
    })
  }
  return changes
}

/** State versions in both locks, with their changes; sorted by key. */
export function stateBreaks(
  before: SchemaLock,
  after: SchemaLock,
): Array<{ state: string; change: LayoutChange }> {
  const out: Array<{ state: string; change: LayoutChange }> = []
  const now = after.states ?? {}
  for (const [key, old] of Object.entries(before.states ?? {}).sort(([a], [b]) =>
    a < b ? -1 : a > b ? 1 : 0,
  )) {
    const next = Object.hasOwn(now, key) ? now[key] : undefined
    if (next) for (const change of stateChanges(old, next)) out.push({ state: key, change })
  }
  return out
}

function compare(a: WireType, b: WireType, path: string, out: LayoutChange[]): void {
  if (a.type !== b.type) {
    out.push({ where: path, message: `was ${describe(a)}, now ${describe(b)}` })
    return
  }
  switch (a.type) {
    case 'object': {
      const fields = new Map((b as typeof a).fields.map((f) => [f.name, f.of]))
      for (const field of a.fields) {
        const other = fields.get(field.name)
        if (other) compare(field.of, other, `${path}.${field.name}`, out)
        else out.push({ where: `${path}.${field.name}`, message: 'field removed' })
      }
      const had = new Set(a.fields.map((f) => f.name))
      for (const field of (b as typeof a).fields) {
        if (!had.has(field.name))
          out.push({ where: `${path}.${field.name}`, message: `field added (${describe(field.of)})` })
      }
      return
    }
    case 'optional':
    case 'nullable':
      compare(a.of, (b as typeof a).of, path, out)
      return
    case 'array': {
      const other = b as typeof a
      bounds(a, other, ['minItems', 'maxItems'], path, out)
      compare(a.of, other.of, `${path}[]`, out)
      return
    }
    case 'record': {
      const other = b as typeof a
      compare(a.key, other.key, `${path}{key}`, out)
      compare(a.of, other.of, `${path}{}`, out)
      return
    }
    case 'union': {
      const other = b as typeof a
      if (a.discriminator !== other.discriminator) {
        out.push({
          where: path,
          message: `the discriminator went from ${a.discriminator} to ${other.discriminator}`,
        })
        return
      }
      const values = (u: typeof a) => u.variants.map((v) => JSON.stringify(v.value)).join(', ')
      if (values(a) !== values(other)) {
        out.push({
          where: `${path}.${a.discriminator}`,
          message: `variants went from [${values(a)}] to [${values(other)}]`,
        })
        return
      }
      a.variants.forEach((variant, i) => {
        const next = other.variants[i]
        if (next) compare(variant.of, next.of, `${path}<${String(variant.value)}>`, out)
      })
      return
    }
    case 'enum':
    case 'literal': {
      const list = (v: Array<string | number | boolean>) => v.map((x) => JSON.stringify(x)).join(', ')
      const other = b as typeof a
      if (list(a.values) !== list(other.values)) {
        out.push({ where: path, message: `values went from [${list(a.values)}] to [${list(other.values)}]` })
      }
      return
    }
    case 'string':
      bounds(a, b, ['minLength', 'maxLength'], path, out)
      return
    case 'int':
    case 'uint':
    case 'f64':
    case 'f32':
      bounds(a, b, ['minimum', 'maximum', 'exclusiveMinimum', 'exclusiveMaximum'], path, out)
      return
    default:
      return
  }
}

function bounds(a: WireType, b: WireType, keys: string[], path: string, out: LayoutChange[]): void {
  const x = a as unknown as Record<string, number | undefined>
  const y = b as unknown as Record<string, number | undefined>
  for (const key of keys) {
    if (x[key] !== y[key]) {
      out.push({ where: path, message: `${key} went from ${x[key] ?? 'none'} to ${y[key] ?? 'none'}` })
    }
  }
}

function describe(type: WireType): string {
  switch (type.type) {
    case 'optional':
    case 'nullable':
      return `${type.type} ${describe(type.of)}`
    case 'array':
      return `an array of ${describe(type.of)}`
    case 'int':
      return 'an integer'
    case 'uint':
      return 'a non-negative integer'
    default:
      return type.type
  }
}
