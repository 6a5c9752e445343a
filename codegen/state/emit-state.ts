import type { GeneratedFile } from '../generated-file.js'
import type { SchemaFileModel, StateModel } from '../model.js'
import { CodecEmitter } from './emit-codec.js'
import { minBytes } from './layout.js'
import { stateCodecTemplate, stateTypesTemplate } from './templates.js'

/** Where the generated file imports from. */
export interface StateImportPaths {
  runtime: string
  schema: string
}

const VALUES = ['stateParsers', 'encodeError', 'codecError', 'limitError', 'Publisher', 'Replica']
const TYPES = [
  'StateLayout',
  'PublisherOptions',
  'ReplicaOptions',
  'ByteReader',
  'ByteWriter',
  'Snapshot',
  'StateCodec',
  'StateDelta',
  'StateKey',
  'StateLeaf',
  'StateLeafInput',
  'StatePatch',
]

/** Appends the types and the codec of every state of `schema` to `file`. */
export function emitStates(file: GeneratedFile, schema: SchemaFileModel, paths: StateImportPaths): void {
  for (const state of schema.states) emitState(file, schema, state, paths)
}

function emitState(
  file: GeneratedFile,
  schema: SchemaFileModel,
  state: StateModel,
  paths: StateImportPaths,
): void {
  const p = state.pascal
  const camel = `${p[0]?.toLowerCase()}${p.slice(1)}`
  const n = {
    State: file.define(`${p}State`),
    Key: file.define(`${p}Key`),
    Leaf: file.define(`${p}Leaf`),
    LeafInput: file.define(`${p}LeafInput`),
    Patch: file.define(`${p}Patch`),
    Delta: file.define(`${p}Delta`),
    Snapshot: file.define(`${p}Snapshot`),
    Codec: file.define(`${p}Codec`),
    Publisher: file.define(`${p}Publisher`),
    Replica: file.define(`${p}Replica`),
    parsers: file.define(`${camel}Parsers`),
    layout: file.define(`${camel}Layout`),
    putKey: file.define(`put${p}Key`),
    putLeaf: file.define(`put${p}Leaf`),
    getLeaf: file.define(`get${p}Leaf`),
  }
  const r: Record<string, string> = {}
  for (const name of VALUES) r[name] = file.import(paths.runtime, name)
  for (const name of TYPES) r[name] = file.import(paths.runtime, name, { type: true })
  const emitter = new CodecEmitter({
    prefix: p,
    ByteWriter: r.ByteWriter as string,
    ByteReader: r.ByteReader as string,
    encodeError: r.encodeError as string,
    define: (name) => file.define(name),
  })
  const key = emitter.entry(`${p}Key`, state.key, n.Key, 'key', { maxStringBytes: state.maxKeyBytes })
  const leaf = emitter.entry(`${p}Leaf`, state.leaf, n.Leaf, 'leaf', { maxStringBytes: state.maxLeafBytes })
  const patch = emitter.patch(`${p}Patch`, state.leaf, n.Leaf, n.Patch, {
    maxStringBytes: state.maxLeafBytes,
  })
  const patchOverhead = Math.ceil(state.leaf.fields.length / 8) + state.leaf.fields.length
  const where = `${state.name} v${state.version}`
  const context = {
    n,
    r,
    f: {
      writeKey: key.write,
      readKey: key.read,
      writeLeaf: leaf.write,
      readLeaf: leaf.read,
      writePatch: patch.write,
      readPatch: patch.read,
    },
    state: file.import(paths.schema, state.exportName),
    name: state.name,
    version: state.version,
    feed: state.feed,
    fingerprint: state.fingerprint,
    maxKeyBytes: state.maxKeyBytes,
    maxLeafBytes: state.maxLeafBytes,
    maxPatchBytes: state.maxLeafBytes + patchOverhead,
    maxDeltaBytes: 1 + state.maxKeyBytes + state.maxLeafBytes + patchOverhead,
    minEntryBytes: minBytes(state.key) + minBytes(state.leaf),
    layoutJson: JSON.stringify(
      {
        name: state.name,
        version: state.version,
        maxKeyBytes: state.maxKeyBytes,
        maxLeafBytes: state.maxLeafBytes,
        key: state.key,
        leaf: state.leaf,
      },
      null,
      2,
    ),
    where: `${where} delta`,
    whereSnapshot: `${where} snapshot`,
    whereKey: `${where} key`,
    whereLeaf: `${where} leaf`,
    doc: [
      `${state.name} v${state.version}${state.description ? `: ${state.description}` : ''}`,
      '',
      `The state type from ${schema.file}, published as the feed \`${state.feed}\`.`,
    ],
    leafDoc: [
      `One ${state.name} leaf.`,
      ...(state.fieldDocs.length > 0
        ? ['', ...state.fieldDocs.map((f) => `- \`${f.name}\`: ${f.description}`)]
        : []),
    ],
    codecDoc: [
      `Binary codecs of ${state.name} v${state.version}: deltas, keys, leaves and snapshots.`,
      `Fingerprint ${state.fingerprint}; keys up to ${state.maxKeyBytes} bytes, leaves up to ${state.maxLeafBytes}.`,
    ],
  }
  file.add(stateTypesTemplate(context))
  file.add(emitter.code())
  file.add(stateCodecTemplate(context))
}
