/**
 * What the write, read and union emitters of one CodecEmitter (emit-codec.ts) share: the names the
 * caller resolved, the code emitted so far and the numbering of the locals being written.
 */
import type { WireType } from '../model.js'
import { literal } from './codec-source.js'

type UnionType = WireType & { type: 'union' }

/** Names the emitted code refers to, resolved by the caller (imports and file-level names). */
export interface CodecNames {
  /** Prefix of the file-level helpers of this state (`orderBook`). */
  prefix: string
  /** Runtime imports. */
  ByteWriter: string
  ByteReader: string
  encodeError: string
  /** Reserves a file-level name. */
  define(name: string): string
}

/** Byte limits the decoder applies to strings, by where they are. */
export interface CodecLimits {
  maxStringBytes: number
}

/**
 * Emits a union's write and read functions. Handed to the context rather than imported by the
 * write and read emitters, which the union emitter calls: no import cycle.
 */
export type UnionEmitter = (
  ctx: CodecContext,
  type: UnionType,
  tsType: string,
  path: string,
  limits: CodecLimits,
) => { write: string; read: string }

/**
 * One per emitter, shared by every entry it writes: an enum table or a union's functions are
 * emitted once, however many values use them.
 */
export class CodecContext {
  readonly names: CodecNames
  /** Constants, which the functions refer to: emitted first. */
  readonly constants: string[] = []
  /** Functions, in the order they were finished. */
  readonly chunks: string[] = []
  /** Union functions by layout and TS type: the leaf and the patch share them. */
  readonly unions = new Map<string, { write: string; read: string }>()
  /** The last local `_<n>` of the function being written; 0 when a function starts. */
  temp = 0
  readonly #enumTables = new Map<string, string>()
  readonly #emitUnion: UnionEmitter

  constructor(names: CodecNames, emitUnion: UnionEmitter) {
    this.names = names
    this.#emitUnion = emitUnion
  }

  /** The names of the write and read functions of a union, emitting them the first time. */
  union(type: UnionType, tsType: string, path: string, limits: CodecLimits): { write: string; read: string } {
    return this.#emitUnion(this, type, tsType, path, limits)
  }

  enumTable(values: Array<string | number | boolean>): string {
    const text = `[${values.map(literal).join(', ')}]`
    const known = this.#enumTables.get(text)
    if (known) return known
    const name = this.names.define(`${this.names.prefix}Values${this.#enumTables.size + 1}`)
    this.#enumTables.set(text, name)
    this.constants.push(`const ${name} = ${text} as const`)
    return name
  }

  local(): string {
    return `_${++this.temp}`
  }
}
