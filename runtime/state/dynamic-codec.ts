import type { ByteReader } from './byte-reader.js'
import { type ByteWriter, encodeError } from './byte-writer.js'
import { checkLayout } from './check-layout.js'
import { deleteDelta, patchDelta, upsertDelta } from './delta-objects.js'
import { layoutParsers } from './dynamic-parse.js'
import { readObject, readPatch, readValue } from './dynamic-read.js'
import { writeObject, writePatch, writeValue } from './dynamic-write.js'
import { codecError, limitError } from './errors.js'
import { stateFingerprint } from './fingerprint.js'
import type { StateLayout, WireType } from './layout.js'
import { minBytes } from './layout-bytes.js'
import type { StateCodec } from './types.js'

type Fields = Record<string, unknown>
type ObjectType = WireType & { type: 'object' }

/** A codec built from a layout at run time: keys are whatever the layout's key type holds. */
export type DynamicCodec = StateCodec<unknown, Fields, Fields>

/**
 * A codec of `layout` that interprets it (the slow path, for tools that read any feed, such as
 * `grenache feed`): the same bytes as the generated codec of that layout, decoded with the same
 * checks and `ERR_DECODE` messages, and the same `ERR_ENCODE` refusals. Its fingerprint is
 * `stateFingerprint(layout)`; `parseDelta`/`parseKey`/`parseLeaf` check the structure only
 * (`layoutParsers`). A layout that is not one is `ERR_INVALID_ARGUMENT` (`checkLayout`).
 *
 * One difference in messages: a discriminated union inside a patch is named by its patch path
 * (`fields.event.kind`) where a generated codec may reuse the leaf's (`leaf.event.kind`).
 */
export function dynamicCodec(layout: StateLayout): DynamicCodec {
  checkLayout(layout)
  const { name, version, maxKeyBytes, maxLeafBytes } = layout
  const leafType = layout.leaf as ObjectType
  const keyType = layout.key
  const fieldCount = leafType.fields.length
  const maxPatchBytes = maxLeafBytes + Math.ceil(fieldCount / 8) + fieldCount
  const minEntryBytes = minBytes(keyType) + minBytes(leafType)
  const where = `${name} v${version}`
  const parsers = layoutParsers(layout)

  const putKey = (w: ByteWriter, key: unknown): void => {
    const start = w.pos
    writeValue(w, keyType, key, 'key')
    if (w.pos - start > maxKeyBytes) throw limitError('key', w.pos - start, maxKeyBytes)
  }
  const putLeaf = (w: ByteWriter, leaf: unknown): void => {
    const start = w.pos
    writeObject(w, leafType, leaf, 'leaf')
    if (w.pos - start > maxLeafBytes) throw limitError('leaf', w.pos - start, maxLeafBytes)
  }
  const readKey = (r: ByteReader): unknown => readValue(r, keyType, 'key', maxKeyBytes)
  const getLeaf = (r: ByteReader): Fields => {
    const start = r.pos
    const leaf = readObject(r, leafType, 'leaf', maxLeafBytes, undefined)
    if (r.pos - start > maxLeafBytes)
      r.fail(`leaf: ${r.pos - start} bytes, more than maxLeafBytes (${maxLeafBytes})`)
    return leaf
  }
  /** Runs an encoder; on failure the writer is back where it was and the error says where. */
  const encoding = <T>(out: ByteWriter, part: string, body: () => T, explain?: () => void): T => {
    const start = out.pos
    try {
      return body()
    } catch (err) {
      out.pos = start
      throw codecError(err, 'ERR_ENCODE', `${where} ${part}`, explain)
    }
  }
  const decoding = <T>(part: string, body: () => T): T => {
    try {
      return body()
    } catch (err) {
      throw codecError(err, 'ERR_DECODE', `${where} ${part}`)
    }
  }

  return {
    name,
    version,
    feed: `${name}@${version}`,
    fingerprint: stateFingerprint(layout),
    maxKeyBytes,
    maxLeafBytes,
    maxDeltaBytes: 1 + maxKeyBytes + maxPatchBytes,
    layout,

    encodeDelta: (delta, out) =>
      encoding(
        out,
        'delta',
        () => {
          switch (delta.op) {
            case 'upsert':
              out.u8(1)
              putKey(out, delta.key)
              putLeaf(out, delta.leaf)
              return
            case 'patch': {
              out.u8(2)
              putKey(out, delta.key)
              const at = out.pos
              writePatch(out, leafType, delta.fields)
              if (out.pos - at > maxPatchBytes) throw limitError('patch', out.pos - at, maxPatchBytes)
              return
            }
            case 'delete':
              out.u8(3)
              putKey(out, delta.key)
              return
            case 'clear':
              out.u8(4)
              return
          }
          throw encodeError('op: not upsert, patch, delete or clear', (delta as { op: unknown }).op)
        },
        () => parsers.parseDelta(delta),
      ),

    decodeDelta: (input) =>
      decoding('delta', () => {
        const op = input.u8()
        switch (op) {
          case 1: {
            const key = readKey(input)
            return upsertDelta(key, getLeaf(input))
          }
          case 2: {
            const key = readKey(input)
            return patchDelta(key, readPatch(input, leafType, maxLeafBytes))
          }
          case 3:
            return deleteDelta(readKey(input))
          case 4:
            return { op: 'clear' }
        }
        return input.fail(`op: ${op} is not a delta`)
      }),

    encodeKey: (key, out) =>
      encoding(
        out,
        'key',
        () => putKey(out, key),
        () => parsers.parseKey(key),
      ),
    decodeKey: (input) => decoding('key', () => readKey(input)),
    encodeLeaf: (leaf, out) =>
      encoding(
        out,
        'leaf',
        () => putLeaf(out, leaf),
        () => parsers.parseLeaf(leaf),
      ),
    decodeLeaf: (input) => decoding('leaf', () => getLeaf(input)),

    encodeSnapshot: (seq, entries, out) =>
      encoding(out, 'snapshot', () => {
        out.uvarint(seq)
        const at = out.pos
        out.u32(0)
        let count = 0
        for (const [key, leaf] of entries) {
          putKey(out, key)
          putLeaf(out, leaf)
          count++
        }
        out.u32(count, at)
        return count
      }),

    decodeSnapshot: (input) =>
      decoding('snapshot', () => {
        const seq = input.uvarint()
        const count = input.u32()
        const least = count * minEntryBytes
        if (least > input.remaining)
          input.fail(`truncated: ${count} entries need at least ${least} bytes, ${input.remaining} left`)
        const entries = new Array<[unknown, Fields]>(count)
        for (let i = 0; i < count; i++) {
          const key = readKey(input)
          entries[i] = [key, getLeaf(input)]
        }
        return { seq, entries }
      }),

    parseDelta: parsers.parseDelta,
    parseKey: parsers.parseKey,
    parseLeaf: parsers.parseLeaf,
  }
}
