export { applyDelta } from './apply.js'
export { ByteReader } from './byte-reader.js'
export { ByteWriter, type ByteWriterOptions, encodeError } from './byte-writer.js'
export {
  type CheckIssue,
  codePointLength,
  invalidDelta,
  isObject,
  prefixIssues,
  settleIssues,
  takeIssues,
  viaZod,
  zodAt,
  zodDefault,
} from './check.js'
export { checkLayout } from './check-layout.js'
export {
  checkState,
  defineState,
  isStateDefinition,
  STATE_LIMITS,
  type StateDefinition,
  type StateDelta,
  type StateKey,
  type StateKeySchema,
  type StateLeaf,
  type StateLeafInput,
  type StateLeafSchema,
  type StatePatch,
  type StateProblem,
  stateFeed,
  stateLimits,
} from './define.js'
export { deleteDelta, patchDelta, upsertDelta } from './delta-objects.js'
export { type DynamicCodec, dynamicCodec } from './dynamic-codec.js'
export { type LayoutParsers, layoutParsers } from './dynamic-parse.js'
export { codecError, limitError } from './errors.js'
export { stateFingerprint } from './fingerprint.js'
export type { StateLayout, WireField, WireType } from './layout.js'
export { type StateParsers, stateParsers } from './parse.js'
export type { AnyStateCodec, Delta, Snapshot, StateCodec } from './types.js'
