export { describeChanges, findBreaks } from './compat.js'
export { CODEGEN_ERROR_CODES, CodegenError, type CodegenErrorCode } from './errors.js'
export { type GenerateOptions, generate, type OutputFile } from './generate.js'
export { type LoadOptions, loadSchemas } from './load/load.js'
export { createLock, parseLock, renderLock } from './lock.js'
export type {
  EventModel,
  JsonSchema,
  LockedMethod,
  LockedService,
  MethodModel,
  SchemaFileModel,
  SchemaLock,
  SchemaModel,
  ServiceModel,
} from './model.js'
