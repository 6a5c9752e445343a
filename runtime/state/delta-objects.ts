/**
 * Deltas made by constructors, not by object literals, wherever the runtime and the generated
 * codecs make one per delta (parse, decode, `publisher.upsert()` and friends).
 *
 * Why: V8 decides per object literal ("allocation site") whether to allocate its objects in the old
 * generation from the start ("pretenuring"), once most of what it made outlived a young collection.
 * A start-up burst or a join buffer of deltas can flip a delta literal that way, and it stays so.
 * Each delta is then old garbage that only a full collection frees, and until then it keeps the
 * young leaf and key it points to alive: every young collection copied and promoted them. That
 * made the same publisher run at half speed in some processes and not others (4 MB promoted per
 * young collection against none, 20 ms pauses against 1 ms; `--no-allocation-site-pretenuring`
 * made every process fast). `new` has no allocation site, so these are never pretenured.
 *
 * Their prototype is `Object.prototype`: they are plain objects to every reader (`util.inspect`,
 * `toStrictEqual`, JSON, structuredClone).
 */

interface Upsert<K, L> {
  readonly op: 'upsert'
  readonly key: K
  readonly leaf: L
}
interface Patch<K, P> {
  readonly op: 'patch'
  readonly key: K
  readonly fields: P
}
interface Delete<K> {
  readonly op: 'delete'
  readonly key: K
}

const Upsert = function (this: { op: string; key: unknown; leaf: unknown }, key: unknown, leaf: unknown) {
  this.op = 'upsert'
  this.key = key
  this.leaf = leaf
} as unknown as new <K, L>(
  key: K,
  leaf: L,
) => Upsert<K, L>

const Patch = function (this: { op: string; key: unknown; fields: unknown }, key: unknown, fields: unknown) {
  this.op = 'patch'
  this.key = key
  this.fields = fields
} as unknown as new <K, P>(
  key: K,
  fields: P,
) => Patch<K, P>

const Delete = function (this: { op: string; key: unknown }, key: unknown) {
  this.op = 'delete'
  this.key = key
} as unknown as new <K>(
  key: K,
) => Delete<K>

for (const make of [Upsert, Patch, Delete]) make.prototype = Object.prototype

/** `{ op: 'upsert', key, leaf }`. */
export function upsertDelta<K, L>(key: K, leaf: L): Upsert<K, L> {
  return new Upsert(key, leaf)
}

/** `{ op: 'patch', key, fields }`. */
export function patchDelta<K, P>(key: K, fields: P): Patch<K, P> {
  return new Patch(key, fields)
}

/** `{ op: 'delete', key }`. */
export function deleteDelta<K>(key: K): Delete<K> {
  return new Delete(key)
}
