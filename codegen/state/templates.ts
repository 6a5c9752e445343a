import { compile } from '../templates.js'

/**
 * The static body of a generated state: its types and the codec object around the functions the
 * codec emitter wrote. Every name comes from the context; the template only places them.
 */
export const stateTypesTemplate = compile(`{{{jsdoc doc}}}
export const {{n.State}} = {{state}}

/** The key of one {{name}} leaf. */
export type {{n.Key}} = {{r.StateKey}}<typeof {{state}}>

{{{jsdoc leafDoc}}}
export type {{n.Leaf}} = {{r.StateLeaf}}<typeof {{state}}>

/** One {{name}} leaf as a publisher may pass it (zod's input type: defaults may be left out). */
export type {{n.LeafInput}} = {{r.StateLeafInput}}<typeof {{state}}>

/** The fields one {{name}} patch may carry: any top-level field of the leaf. */
export type {{n.Patch}} = {{r.StatePatch}}<typeof {{state}}>

/** One change to the {{name}} state: \`upsert\`, \`patch\`, \`delete\` or \`clear\` (absolute, idempotent). */
export type {{n.Delta}} = {{r.StateDelta}}<typeof {{state}}>

/** Leaves of the {{name}} state, consistent with the state after delta \`seq\`. */
export type {{n.Snapshot}} = {{r.Snapshot}}<{{n.Key}}, {{n.Leaf}}>
`)

export const stateCodecTemplate = compile(`const {{n.parsers}} = {{r.stateParsers}}({{state}})

/** The wire layout of {{name}} v{{version}}, as the lock records it. */
const {{n.layout}}: {{r.StateLayout}} = {{{layoutJson}}}

function {{n.putKey}}(w: {{r.ByteWriter}}, key: {{n.Key}}): void {
  const start = w.pos
  {{f.writeKey}}(w, key)
  if (w.pos - start > {{maxKeyBytes}}) throw {{r.limitError}}('key', w.pos - start, {{maxKeyBytes}})
}

function {{n.putLeaf}}(w: {{r.ByteWriter}}, leaf: {{n.Leaf}}): void {
  const start = w.pos
  {{f.writeLeaf}}(w, leaf)
  if (w.pos - start > {{maxLeafBytes}}) throw {{r.limitError}}('leaf', w.pos - start, {{maxLeafBytes}})
}

function {{n.getLeaf}}(r: {{r.ByteReader}}): {{n.Leaf}} {
  const start = r.pos
  const leaf = {{f.readLeaf}}(r)
  if (r.pos - start > {{maxLeafBytes}}) r.fail(\`leaf: \${r.pos - start} bytes, more than maxLeafBytes ({{maxLeafBytes}})\`)
  return leaf
}

{{{jsdoc codecDoc}}}
export const {{n.Codec}}: {{r.StateCodec}}<{{n.Key}}, {{n.Leaf}}, {{n.Patch}}> = {
  name: {{{quote name}}},
  version: {{version}},
  feed: {{{quote feed}}},
  fingerprint: {{{quote fingerprint}}},
  maxKeyBytes: {{maxKeyBytes}},
  maxLeafBytes: {{maxLeafBytes}},
  maxDeltaBytes: {{maxDeltaBytes}},
  layout: {{n.layout}},

  encodeDelta(delta, out) {
    const start = out.pos
    try {
      switch (delta.op) {
        case 'upsert':
          out.u8(1)
          {{n.putKey}}(out, delta.key)
          {{n.putLeaf}}(out, delta.leaf)
          return
        case 'patch': {
          out.u8(2)
          {{n.putKey}}(out, delta.key)
          const at = out.pos
          {{f.writePatch}}(out, delta.fields)
          if (out.pos - at > {{maxPatchBytes}}) throw {{r.limitError}}('patch', out.pos - at, {{maxPatchBytes}})
          return
        }
        case 'delete':
          out.u8(3)
          {{n.putKey}}(out, delta.key)
          return
        case 'clear':
          out.u8(4)
          return
      }
      throw {{r.encodeError}}('op: not upsert, patch, delete or clear', (delta as { op: unknown }).op)
    } catch (err) {
      out.pos = start
      throw {{r.codecError}}(err, 'ERR_ENCODE', {{{quote where}}}, () => {{n.parsers}}.parseDelta(delta))
    }
  },

  decodeDelta(input) {
    try {
      const op = input.u8()
      switch (op) {
        case 1: {
          const key = {{f.readKey}}(input)
          return {{r.upsertDelta}}(key, {{n.getLeaf}}(input))
        }
        case 2: {
          const key = {{f.readKey}}(input)
          return {{r.patchDelta}}(key, {{f.readPatch}}(input))
        }
        case 3:
          return {{r.deleteDelta}}({{f.readKey}}(input))
        case 4:
          return { op: 'clear' }
      }
      return input.fail(\`op: \${op} is not a delta\`)
    } catch (err) {
      throw {{r.codecError}}(err, 'ERR_DECODE', {{{quote where}}})
    }
  },

  encodeKey(key, out) {
    const start = out.pos
    try {
      {{n.putKey}}(out, key)
    } catch (err) {
      out.pos = start
      throw {{r.codecError}}(err, 'ERR_ENCODE', {{{quote whereKey}}}, () => {{n.parsers}}.parseKey(key))
    }
  },

  decodeKey(input) {
    try {
      return {{f.readKey}}(input)
    } catch (err) {
      throw {{r.codecError}}(err, 'ERR_DECODE', {{{quote whereKey}}})
    }
  },

  encodeLeaf(leaf, out) {
    const start = out.pos
    try {
      {{n.putLeaf}}(out, leaf)
    } catch (err) {
      out.pos = start
      throw {{r.codecError}}(err, 'ERR_ENCODE', {{{quote whereLeaf}}}, () => {{n.parsers}}.parseLeaf(leaf))
    }
  },

  decodeLeaf(input) {
    try {
      return {{n.getLeaf}}(input)
    } catch (err) {
      throw {{r.codecError}}(err, 'ERR_DECODE', {{{quote whereLeaf}}})
    }
  },

  encodeSnapshot(seq, entries, out) {
    const start = out.pos
    try {
      out.uvarint(seq)
      const at = out.pos
      out.u32(0)
      let count = 0
      for (const [key, leaf] of entries) {
        {{n.putKey}}(out, key)
        {{n.putLeaf}}(out, leaf)
        count++
      }
      out.u32(count, at)
      return count
    } catch (err) {
      out.pos = start
      throw {{r.codecError}}(err, 'ERR_ENCODE', {{{quote whereSnapshot}}})
    }
  },

  decodeSnapshot(input) {
    try {
      const seq = input.uvarint()
      const count = input.u32()
      const least = count * {{minEntryBytes}}
      if (least > input.remaining) {
        input.fail(\`truncated: \${count} entries need at least \${least} bytes, \${input.remaining} left\`)
      }
      const entries = new Array<[{{n.Key}}, {{n.Leaf}}]>(count)
      for (let i = 0; i < count; i++) {
        const key = {{f.readKey}}(input)
        entries[i] = [key, {{n.getLeaf}}(input)]
      }
      return { seq, entries }
    } catch (err) {
      throw {{r.codecError}}(err, 'ERR_DECODE', {{{quote whereSnapshot}}})
    }
  },

  parseDelta: {{f.parseDelta}},
  parseKey: {{f.parseKey}},
  parseLeaf: {{f.parseLeaf}},
}

/**
 * Publishes the {{name}} state as the feed \`{{feed}}\`: \`upsert\`, \`patch\`, \`delete\` and \`clear\`
 * validate with the schema, send batched binary deltas and apply them to the publisher's own copy.
 */
export class {{n.Publisher}} extends {{r.Publisher}}<{{n.Key}}, {{n.Leaf}}, {{n.Patch}}> {
  constructor(options: {{r.PublisherOptions}} = {}) {
    super({{n.Codec}}, options)
  }
}

/**
 * A replica of the {{name}} state: finds the feed \`{{feed}}\`, joins, and stays in sync (\`get\`,
 * \`size\`, \`seq\`, \`on('change')\`).
 */
export class {{n.Replica}} extends {{r.Replica}}<{{n.Key}}, {{n.Leaf}}, {{n.Patch}}> {
  constructor(options: {{r.ReplicaOptions}}) {
    super({{n.Codec}}, options)
  }
}
`)

/**
 * The entry points of a generated validator (emit-check.ts): `parse…Key`/`Leaf` and `parse…Delta`,
 * which checks the parts of a delta as `stateParsers` does and throws every issue at once.
 */
export const stateParseTemplate = compile(`function {{n.parseKey}}(v: unknown): {{t.Key}} {
  const issues = {{r.takeIssues}}()
  const x = {{f.key}}(v, issues)
  {{r.settleIssues}}({{{quote where}}}, issues)
  return x
}

function {{n.parseLeaf}}(v: unknown): {{t.Leaf}} {
  const issues = {{r.takeIssues}}()
  const x = {{f.leaf}}(v, issues)
  {{r.settleIssues}}({{{quote where}}}, issues)
  return x
}

/** What \`stateParsers(state).parseDelta\` does, without running zod for what it mirrors. */
function {{n.parseDelta}}(delta: unknown): {{t.Delta}} {
  const d = (typeof delta === 'object' && delta !== null ? delta : {}) as Record<string, unknown>
  const issues = {{r.takeIssues}}()
  switch (d.op) {
    case 'upsert': {
      const key = {{f.key}}(d.key, issues)
      const leaf = {{f.leaf}}(d.leaf, issues)
      {{r.settleIssues}}({{{quote where}}}, issues)
      return {{r.upsertDelta}}(key, leaf)
    }
    case 'patch': {
      const key = {{f.key}}(d.key, issues)
      const fields = {{f.patch}}(d.fields, issues)
      {{r.settleIssues}}({{{quote where}}}, issues)
      return {{r.patchDelta}}(key, fields)
    }
    case 'delete': {
      const key = {{f.key}}(d.key, issues)
      {{r.settleIssues}}({{{quote where}}}, issues)
      return {{r.deleteDelta}}(key)
    }
    case 'clear':
      return { op: 'clear' }
  }
  throw {{r.invalidDelta}}({{{quote where}}}, [['op', 'must be "upsert", "patch", "delete" or "clear"']])
}
`)
