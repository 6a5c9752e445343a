/**
 * The plain-data model codegen works on: what the schema files declare, with names resolved and
 * zod types turned into the JSON Schema of what travels on the wire. Built where the schemas are
 * loaded; everything after (generation, lock, compatibility) is pure functions of it.
 */

/** A JSON Schema (draft 2020-12) as zod emits it, without `$schema`. */
export type JsonSchema = { [keyword: string]: unknown }

export interface MethodModel {
  name: string
  /** PascalCase of the name, for type names (`fib` → `Fib`). */
  pascal: string
  description: string | undefined
  idempotent: boolean
  /** Declared error codes and what they mean, sorted by code. */
  errors: Array<{ code: string; description: string }>
  /** What a client sends. */
  input: JsonSchema
  /** What a worker returns. */
  output: JsonSchema
}

export interface EventModel {
  name: string
  pascal: string
  description: string | undefined
  payload: JsonSchema
}

export interface ServiceModel {
  /** The export of the schema file that holds the definition. */
  exportName: string
  name: string
  /** PascalCase of the name, with `V<n>` from version 2 on: `FibonacciClient`, `FibonacciV2Client`. */
  pascal: string
  version: number
  /** The DHT key: the pinned legacy key, or `<name>@<version>`. */
  key: string
  /** `plain` for a pinned legacy key, else `tagged`. */
  discovery: 'plain' | 'tagged'
  /** `action`: calls travel as `{ action, args: [input] }`; `bare`: as the input itself. */
  wire: 'action' | 'bare'
  description: string | undefined
  /** Sorted by name. */
  methods: MethodModel[]
  /** Sorted by name. */
  events: EventModel[]
}

export interface SchemaFileModel {
  /** Path of the schema file relative to the project root, with `/` (e.g. `schemas/fibonacci.schema.ts`). */
  file: string
  /** The file's base name without `.schema.ts` (e.g. `fibonacci`). */
  stem: string
  /** Sorted by name. */
  services: ServiceModel[]
  /** Replicated state types, sorted by name. */
  states: StateModel[]
}

/** Everything the schemas directory declares, files sorted by path. */
export interface SchemaModel {
  /** The schemas directory relative to the project root (e.g. `schemas`). */
  dir: string
  files: SchemaFileModel[]
}

/** `schema.lock.json`: what each service and state version looked like when it was last generated. */
export interface SchemaLock {
  lockVersion: 1
  /** By service key and version: `fibonacci@1`. */
  services: Record<string, LockedService>
  /** By state name and version: `order_book@1`. Absent in locks written before states existed. */
  states?: Record<string, LockedState>
}

export type { WireField, WireType } from '../runtime/state/layout.js'

import type { WireType } from '../runtime/state/layout.js'
import type { StateChecks } from './state/check-model.js'

export interface StateModel {
  /** The export of the schema file that holds the definition. */
  exportName: string
  name: string
  /** PascalCase of the name, with `V<n>` from version 2 on: `OrderBookCodec`, `OrderBookV2Codec`. */
  pascal: string
  version: number
  /** The feed's discovery name: `<name>@<version>`. */
  feed: string
  description: string | undefined
  /** Descriptions of the leaf's top-level fields, for JSDoc (not part of the layout). */
  fieldDocs: Array<{ name: string; description: string }>
  maxKeyBytes: number
  maxLeafBytes: number
  key: WireType
  /** Always an object. */
  leaf: WireType & { type: 'object' }
  /** 16 hex digits: the first 64 bits of the SHA-256 of the canonical layout. */
  fingerprint: string
  /** What the generated validator checks (not part of the layout); absent: it runs zod. */
  checks?: StateChecks
}

export interface LockedState {
  name: string
  version: number
  file: string
  feed: string
  fingerprint: string
  maxKeyBytes: number
  maxLeafBytes: number
  key: WireType
  leaf: WireType
}

export interface LockedService {
  name: string
  version: number
  key: string
  file: string
  /** How calls travel; absent in locks written before it existed, which means `action`. */
  wire?: 'action' | 'bare'
  /** `sha256:<hex>` of the canonical JSON of `methods` and `events`. */
  fingerprint: string
  methods: Record<string, LockedMethod>
  events: Record<string, { payload: JsonSchema }>
  /**
   * Fields removed in an earlier generation, like protobuf's `reserved`: by place
   * (`methods.m.input`), then JSON pointer (`/properties/note`) → the field's last schema. A later
   * version that declares one again must keep it compatible with that shape. Absent when none.
   */
  removed?: Record<string, Record<string, JsonSchema>>
}

export interface LockedMethod {
  idempotent: boolean
  errors: string[]
  input: JsonSchema
  output: JsonSchema
}
