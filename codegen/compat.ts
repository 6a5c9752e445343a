/**
 * Whether a service changed incompatibly between two locks: `findBreaks` applies the rules of
 * docs/codegen.md ("Versions and breaking changes") to every service version present in both, on
 * top of `isSubschema`, a conservative proof that one JSON Schema accepts no more than another.
 * Pure functions: no I/O.
 */
import type { SubschemaOptions } from './compat/context.js'
import { detach, schemasOf, segmentsOf } from './compat/removed.js'
import { prove } from './compat/subschema.js'
import type { JsonSchema, LockedMethod, LockedService, SchemaLock } from './model.js'
import { stateBreaks } from './state/compat.js'

export type { SubschemaOptions } from './compat/context.js'

/** `a ⊆ b` proved, or where and why it could not be. */
export type SubschemaResult =
  | { ok: true }
  | {
      ok: false
      /** Where in the schemas, dot-separated (`properties.n.maximum`; empty at the top). */
      path: string
      /** A short sentence: "maximum went from 1476 to 100", "field `x` became required". */
      reason: string
    }

/**
 * Proves that every JSON value valid against `a` is valid against `b`. Sound, not complete: `ok`
 * is a proof, while `ok: false` means a counterexample may exist, or that the proof could not be
 * made (a keyword it does not understand that differs, a `oneOf` whose branches may overlap). The
 * keywords zod's `z.toJSONSchema` emits are handled precisely; docs/codegen.md lists them.
 */
export function isSubschema(a: JsonSchema, b: JsonSchema, options: SubschemaOptions = {}): SubschemaResult {
  const failure = prove(a, b, options)
  return failure ? { ok: false, path: failure.path.join('.'), reason: failure.reason } : { ok: true }
}

/** Which rule of docs/codegen.md a change breaks. */
export type BreakRule =
  | 'method-removed'
  | 'event-removed'
  | 'input-narrowed'
  | 'output-widened'
  | 'event-changed'
  | 'idempotent-added'
  | 'key-changed'
  | 'wire-changed'
  | 'layout-changed'
  | 'removed-field-reused'

/** One incompatible change in a service or state version. */
export interface Break {
  /** The lock key of the service or state version: `fibonacci@1`, `order_book@1`. */
  service: string
  /** What changed: `methods.fib`, `methods.fib.input`, `events.tick.payload`, `key`. */
  where: string
  rule: BreakRule
  /** A sentence for people, naming the place inside the schema when there is one. */
  message: string
}

/**
 * The breaking changes from `before` to `after`, for each service version in both locks, sorted
 * by service then place. A version only in one lock is no break (a new major, or an old one retired
 * after a migration): `describeChanges` lists those.
 */
export function findBreaks(before: SchemaLock, after: SchemaLock): Break[] {
  const breaks: Break[] = []
  for (const [service, old] of Object.entries(before.services)) {
    const now = Object.hasOwn(after.services, service) ? after.services[service] : undefined
    if (now) breaks.push(...serviceBreaks(service, old, now))
  }
  for (const { state, change } of stateBreaks(before, after)) {
    breaks.push({
      service: state,
      where: change.where,
      rule: 'layout-changed',
      message: `${change.message}: replicas of this major cannot decode it`,
    })
  }
  return breaks.sort(
    (x, y) => compare(x.service, y.service) || compare(x.where, y.where) || compare(x.rule, y.rule),
  )
}

/**
 * Service versions (lock keys) only in `after` (`added`) and only in `before` (`removed`), and the
 * same for state versions; sorted.
 */
export function describeChanges(
  before: SchemaLock,
  after: SchemaLock,
): { added: string[]; removed: string[]; addedStates: string[]; removedStates: string[] } {
  const only = (x: object, y: object) =>
    Object.keys(x)
      .filter((key) => !Object.hasOwn(y, key))
      .sort(compare)
  return {
    added: only(after.services, before.services),
    removed: only(before.services, after.services),
    addedStates: only(after.states ?? {}, before.states ?? {}),
    removedStates: only(before.states ?? {}, after.states ?? {}),
  }
}

function serviceBreaks(service: string, before: LockedService, after: LockedService): Break[] {
  const breaks: Break[] = []
  const add = (where: string, rule: BreakRule, message: string) =>
    breaks.push({ service, where, rule, message })
  if (before.key !== after.key) {
    add(
      'key',
      'key-changed',
      `the discovery key went from \`${before.key}\` to \`${after.key}\`: old clients look it up under the old one`,
    )
  }
  if ((before.wire ?? 'action') !== (after.wire ?? 'action')) {
    add(
      'wire',
      'wire-changed',
      `calls went from ${before.wire ?? 'action'} to ${after.wire ?? 'action'} payloads: old clients and workers speak the other`,
    )
  }
  for (const [name, old] of Object.entries(before.methods)) {
    const now = Object.hasOwn(after.methods, name) ? after.methods[name] : undefined
    if (now) methodBreaks(`methods.${name}`, old, now, add)
    else add(`methods.${name}`, 'method-removed', `method \`${name}\` was removed: old clients still call it`)
  }
  for (const [name, old] of Object.entries(before.events)) {
    const now = Object.hasOwn(after.events, name) ? after.events[name] : undefined
    if (!now) {
      add(
        `events.${name}`,
        'event-removed',
        `event \`${name}\` was removed: old subscribers still wait for it`,
      )
      continue
    }
    // Both sides read a payload: old subscribers get new events, new subscribers get old publishers' events.
    const where = `events.${name}.payload`
    const older = isSubschema(old.payload, now.payload)
    const newer = older.ok ? isSubschema(now.payload, old.payload, { aIs: 'after' }) : older
    if (!newer.ok) add(where, 'event-changed', `payload changed: ${newer.reason}${at(newer.path)}`)
  }
  reusedBreaks(before, after, add)
  return breaks
}

/** A field `before` keeps as removed, declared again in `after` with a shape old peers do not share. */
function reusedBreaks(
  before: LockedService,
  after: LockedService,
  add: (where: string, rule: BreakRule, message: string) => void,
): void {
  const now = schemasOf(after)
  for (const [where, fields] of Object.entries(before.removed ?? {})) {
    const live = now.get(where)
    if (!live) continue // the method or event is gone: that is its own break
    for (const [ptr, old] of Object.entries(fields)) {
      const segments = segmentsOf(ptr)
      const shape = detach(live.schema, segments)
      if (!shape) continue
      // Old clients send (input) or expect (output) the field's last shape; a payload goes both ways.
      const sent =
        live.side === 'output' ? { ok: true as const } : isSubschema(old, shape, { undeclaredUnsent: true })
      const read =
        !sent.ok || live.side === 'input'
          ? sent
          : isSubschema(shape, old, { aIs: 'after', undeclaredIgnored: live.side === 'output' })
      if (read.ok) continue
      const field = segments.join('.')
      const peers = live.side === 'input' ? 'clients may still send' : 'peers still read'
      if (segments.length === 0) {
        const [kind, name] = where.split('.')
        add(
          where,
          'removed-field-reused',
          `${kind === 'events' ? 'event' : 'method'} \`${name}\` was removed in an earlier version and is back with another ${live.side}, which old ${peers}: ${read.reason}${at(read.path)}`,
        )
        continue
      }
      add(
        `${where}.${field}`,
        'removed-field-reused',
        `field \`${segments.at(-1)}\` was removed in an earlier version and is back with another shape, which old ${peers}: ${read.reason}${at(read.path)}`,
      )
    }
  }
}

function methodBreaks(
  where: string,
  before: LockedMethod,
  after: LockedMethod,
  add: (where: string, rule: BreakRule, message: string) => void,
): void {
  if (!before.idempotent && after.idempotent) {
    add(
      `${where}.idempotent`,
      'idempotent-added',
      '`idempotent` turned on: new clients may retry a call on an old worker, which may not be safe to run twice',
    )
  }
  // Old clients send inputs of the old type, which never carry the fields the new one added.
  const input = isSubschema(before.input, after.input, { undeclaredUnsent: true })
  if (!input.ok)
    add(`${where}.input`, 'input-narrowed', `input accepts less: ${input.reason}${at(input.path)}`)
  // Old clients read past fields they do not know: zod's `additionalProperties: false` on an output
  // says what the worker keeps, not what a client refuses.
  const output = isSubschema(after.output, before.output, { aIs: 'after', undeclaredIgnored: true })
  if (!output.ok) {
    add(
      `${where}.output`,
      'output-widened',
      `output may return what old clients do not expect: ${output.reason}${at(output.path)}`,
    )
  }
}

/** Breaks as a list for people, one per line: `  calc@1 methods.m.input: … [input-narrowed]`. */
export function formatBreaks(breaks: readonly Break[]): string {
  return breaks.map((b) => `  ${b.service} ${b.where}: ${b.message} [${b.rule}]`).join('\n')
}

function at(path: string): string {
  return path === '' ? '' : ` (at ${path})`
}

/** Code-unit order: the same on every machine and locale. */
function compare(x: string, y: string): number {
  return x < y ? -1 : x > y ? 1 : 0
}
