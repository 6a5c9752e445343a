import type { GeneratedFile } from '../generated-file.js'
import type { SchemaFileModel, StateModel } from '../model.js'
import { CheckEmitter, type CheckNames } from './emit-check.js'
import { CodecEmitter } from './emit-codec.js'
import { minBytes } from './layout.js'
import { stateCodecTemplate, stateTypesTemplate } from './templates.js'

/** Where the generated file imports from. */
export interface StateImportPaths {
  runtime: string
  schema: string
}

const VALUES = [
  'stateParsers',
  'encodeError',
  'codecError',
  'limitError',
  'Publisher',
  'Replica',
  'upsertDelta',
  'patchDelta',
  'deleteDelta',
]
const CHECK_VALUES = [
  'zodAt',
  'zodDefault',
  'viaZod',
  'prefixIssues',
  'invalidDelta',
  'takeIssues',
  'settleIssues',
  'isObject',
  'codePointLength',
  'upsertDelta',
  'patchDelta',
  'deleteDelta',
] as const
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
  const parse = emitChecks(file, state, paths, n)
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
      ...parse,
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
  if (parse.code) file.add(parse.code)
  file.add(stateCodecTemplate(context))
}

/**
 * The generated validator of `state` (emit-check.ts), or zod's `stateParsers` for a model built
 * without checks: the names the codec's `parseDelta`/`parseKey`/`parseLeaf` take.
 */
function emitChecks(
  file: GeneratedFile,
  state: StateModel,
  paths: StateImportPaths,
  n: Record<'Key' | 'Leaf' | 'Patch' | 'Delta' | 'parsers', string>,
): { parseDelta: string; parseKey: string; parseLeaf: string; code: string } {
  if (!state.checks || state.leaf.type !== 'object' || state.checks.leaf.kind !== 'object') {
    const zod = (name: string) => `${n.parsers}.${name}`
    return { parseDelta: zod('parseDelta'), parseKey: zod('parseKey'), parseLeaf: zod('parseLeaf'), code: '' }
  }
  // Imported when the emitted code first names them: most states need only a few helpers.
  const r = {} as CheckNames['r']
  for (const name of [...CHECK_VALUES, 'CheckIssue'] as const) {
    Object.defineProperty(r, name, {
      get: () => file.import(paths.runtime, name, { type: name === 'CheckIssue' }),
    })
  }
  const emitter = new CheckEmitter({
    prefix: state.pascal,
    state: file.import(paths.schema, state.exportName),
    r,
    define: (name) => file.define(name),
  })
  const entries = emitter.state(state.checks, n, `${state.name} v${state.version}`)
  return { ...entries, code: emitter.code() }
}
