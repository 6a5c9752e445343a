/**
 * Removed fields, kept in the lock like protobuf's `reserved`: a field dropped from an input,
 * output or payload may still be sent (or read) by old peers with its old shape, so when a later
 * version declares it again, the new shape is checked against the last one it had. Without this,
 * the step that removes a field and the step that re-adds it are each compatible on their own.
 */
import type { JsonSchema, LockedService } from '../model.js'
import { hasRef, isObject } from './json.js'

/** Which way a schema is read: by the worker (input), by clients (output), by both (payload). */
export type Side = 'input' | 'output' | 'payload'

/** The schemas of a locked service by place (`methods.m.input`, `events.e.payload`) and side. */
export function schemasOf(service: LockedService): Map<string, { schema: JsonSchema; side: Side }> {
  const out = new Map<string, { schema: JsonSchema; side: Side }>()
  for (const [name, method] of Object.entries(service.methods)) {
    out.set(`methods.${name}.input`, { schema: method.input, side: 'input' })
    out.set(`methods.${name}.output`, { schema: method.output, side: 'output' })
  }
  for (const [name, event] of Object.entries(service.events)) {
    out.set(`events.${name}.payload`, { schema: event.payload, side: 'payload' })
  }
  return out
}

/** Keywords holding one subschema, a list of them, or a map of them: where fields may nest. */
const ONE = ['items', 'additionalItems', 'additionalProperties']
const LIST = ['prefixItems', 'allOf', 'anyOf', 'oneOf']
const MAP = ['$defs', 'definitions']

/**
 * Every field a schema declares, by JSON pointer (`/properties/items/items/properties/when`),
 * parents before their fields. Refs are not followed: a field is known by where it is written.
 */
export function fieldsOf(schema: unknown): Map<string, string[]> {
  const out = new Map<string, string[]>()
  const walk = (node: unknown, at: string[]): void => {
    if (!isObject(node)) return
    if (isObject(node.properties)) {
      for (const [name, child] of Object.entries(node.properties)) {
        const field = [...at, 'properties', name]
        out.set(pointer(field), field)
        walk(child, field)
      }
    }
    for (const k of ONE) walk(node[k], [...at, k])
    for (const k of LIST) {
      const list = node[k]
      if (Array.isArray(list)) for (const [i, child] of list.entries()) walk(child, [...at, k, String(i)])
    }
    for (const k of MAP) {
      const map = node[k]
      if (isObject(map)) for (const [name, child] of Object.entries(map)) walk(child, [...at, k, name])
    }
  }
  walk(schema, [])
  return out
}

/** `['properties', 'a/b']` → `/properties/a~1b` (RFC 6901). */
export function pointer(segments: readonly string[]): string {
  return segments.map((s) => `/${s.replaceAll('~', '~0').replaceAll('/', '~1')}`).join('')
}

/** `/properties/a~1b` → `['properties', 'a/b']`. */
export function segmentsOf(ptr: string): string[] {
  return ptr
    .split('/')
    .slice(1)
    .map((s) => s.replaceAll('~1', '/').replaceAll('~0', '~'))
}

/** Where the reserved root is kept inside a detached schema. */
const ROOT_DEF = 'grenache-gen-root'

/**
 * The subschema at `segments`, made self-contained: when it holds local `$ref`s, a copy of the
 * whole document goes along under `$defs` and the refs point into it, so they resolve to what they
 * meant once the rest of the document is gone. Undefined when there is nothing there.
 */
export function detach(root: unknown, segments: readonly string[]): JsonSchema | undefined {
  let node: unknown = root
  for (const s of segments) {
    node = (isObject(node) || Array.isArray(node)) && Object.hasOwn(node, s) ? (node as never)[s] : undefined
  }
  if (!isObject(node)) return undefined
  if (!hasRef(node)) return node
  return { allOf: [rebase(node)], $defs: { [ROOT_DEF]: rebase(root) } }
}

function rebase(value: unknown): unknown {
  if (Array.isArray(value)) return value.map(rebase)
  if (!isObject(value)) return value
  return Object.fromEntries(
    Object.entries(value).map(([k, v]) => [
      k,
      k === '$ref' && typeof v === 'string' && v.startsWith('#')
        ? `#/$defs/${ROOT_DEF}${v.slice(1)}`
        : rebase(v),
    ]),
  )
}

/** The pointer a removed method's input or output, or a removed event's payload, is kept under: the root. */
export const WHOLE = ''

/**
 * The removed fields of `now` (the lock being written), by place then pointer: those `previous`
 * kept and `now` still lacks, and the fields `previous` declared that `now` dropped (the topmost
 * one only: a removed object keeps its fields' shapes). A field declared again leaves the list.
 * A removed method or event is kept the same way, its whole schemas under the root pointer
 * (`WHOLE`), until it is declared again.
 */
export function carryRemoved(
  previous: LockedService | undefined,
  now: LockedService,
): Record<string, Record<string, JsonSchema>> {
  const out: Record<string, Record<string, JsonSchema>> = {}
  if (!previous) return out
  const before = schemasOf(previous)
  const places = schemasOf(now)
  for (const [where, { schema }] of before) {
    if (places.has(where)) continue
    const whole = detach(schema, [])
    out[where] = { ...previous.removed?.[where], ...(whole ? { [WHOLE]: whole } : {}) }
  }
  for (const [where, kept] of Object.entries(previous.removed ?? {})) {
    if (!places.has(where) && !before.has(where)) out[where] = kept
  }
  for (const [where, { schema }] of places) {
    const old = before.get(where)
    if (!old) continue
    const live = fieldsOf(schema)
    const kept: Record<string, JsonSchema> = {}
    for (const [ptr, shape] of Object.entries(previous.removed?.[where] ?? {})) {
      if (ptr !== WHOLE && !live.has(ptr)) kept[ptr] = shape
    }
    const gone: string[] = []
    for (const [ptr, segments] of fieldsOf(old.schema)) {
      if (live.has(ptr) || gone.some((g) => ptr.startsWith(`${g}/`))) continue
      gone.push(ptr)
      const shape = detach(old.schema, segments)
      if (shape) kept[ptr] = shape
    }
    if (Object.keys(kept).length > 0) out[where] = kept
  }
  return out
}
