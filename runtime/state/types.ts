import type { ByteReader } from './byte-reader.js'
import type { ByteWriter } from './byte-writer.js'
import type { StateLayout } from './layout.js'

/**
 * One change to a replicated state. Every op is absolute, so applying a delta twice, or after a
 * snapshot that already holds it, changes nothing:
 * - `upsert`: the leaf at `key` becomes `leaf`;
 * - `patch`: the fields given replace those of the leaf at `key` (a leaf that is not there stays
 *   absent: a patch never makes a partial leaf); an optional field given as `undefined` is removed;
 * - `delete`: the leaf at `key` is gone;
 * - `clear`: every leaf is gone.
 */
export type Delta<K, L, P = Partial<L>> =
  | { readonly op: 'upsert'; readonly key: K; readonly leaf: L }
  | { readonly op: 'patch'; readonly key: K; readonly fields: P }
  | { readonly op: 'delete'; readonly key: K }
  | { readonly op: 'clear' }

/** The leaves of (part of) the key space, consistent with the state after delta `seq`. */
export interface Snapshot<K, L> {
  /** The sequence of the last delta the leaves include (0: none). */
  seq: number
  entries: Array<[K, L]>
}

/**
 * What `grenache-gen` generates for each state type: straight-line binary codecs over the layout
 * of the schema. Encoders write into a caller's `ByteWriter` and allocate nothing; decoders check
 * every length and bound against the bytes left and fail with `ERR_DECODE`. Encoders trust that
 * the value was validated (`parseDelta` and friends, or a publisher that validates): they only
 * refuse what they cannot write (`ERR_ENCODE`), such as a non-integer in an integer field, or a
 * key or leaf larger than its limit.
 */
export interface StateCodec<K, L, P = Partial<L>> {
  /** The state's name (`order_book`). */
  readonly name: string
  /** Its major version. */
  readonly version: number
  /** The feed's discovery name: `<name>@<version>`. */
  readonly feed: string
  /**
   * 16 hex digits: the first 64 bits of the SHA-256 of the wire layout (name, major, limits, every
   * field and bound). Peers with different fingerprints cannot read each other.
   */
  readonly fingerprint: string
  /** Largest encoded key, in bytes. */
  readonly maxKeyBytes: number
  /** Largest encoded leaf, in bytes. */
  readonly maxLeafBytes: number
  /** Largest encoded delta: an op byte, a key and a leaf. */
  readonly maxDeltaBytes: number
  /** The wire layout the codec implements (what the fingerprint hashes): lets a tool read a feed without this code. */
  readonly layout: StateLayout

  encodeDelta(delta: Delta<K, L, P>, out: ByteWriter): void
  decodeDelta(input: ByteReader): Delta<K, L, P>
  encodeKey(key: K, out: ByteWriter): void
  decodeKey(input: ByteReader): K
  encodeLeaf(leaf: L, out: ByteWriter): void
  decodeLeaf(input: ByteReader): L
  /** Writes `seq` and the entries; returns how many entries were written. */
  encodeSnapshot(seq: number, entries: Iterable<readonly [K, L]>, out: ByteWriter): number
  decodeSnapshot(input: ByteReader): Snapshot<K, L>

  /** Validates a delta with the author's zod schemas: the parsed delta, or `ERR_INVALID_DELTA`. */
  parseDelta(delta: unknown): Delta<K, L, P>
  /** Validates a key: the parsed key, or `ERR_INVALID_DELTA`. */
  parseKey(key: unknown): K
  /** Validates a leaf: the parsed leaf (defaults applied), or `ERR_INVALID_DELTA`. */
  parseLeaf(leaf: unknown): L
}

/** Any codec, for code that moves bytes without looking at leaves. */
// biome-ignore lint/suspicious/noExplicitAny: the codec's own types do not matter to such code
export type AnyStateCodec = StateCodec<any, any, any>
