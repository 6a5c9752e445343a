/** The codes of `CodegenError`; README lists them next to the runtime's. */
export const CODEGEN_ERROR_CODES = {
  ERR_SCHEMA_LOAD: 'a schema file could not be loaded (a syntax or import error, or it threw)',
  ERR_ZOD_VERSION:
    "the app's zod is not one grenache-gen supports, or the schemas and grenache-gen load two copies of zod (the message names the versions and where they are)",
  ERR_SCHEMA_EMPTY:
    'the schemas directory holds no *.schema.ts file, or a schema file exports no service or state',
  ERR_SCHEMA_INVALID:
    'a service or state breaks a rule of the schema DSL; the message names the file, the export, the field path and the rule',
  ERR_SCHEMA_CLASH: 'two services or states would generate the same name or announce the same key or feed',
  ERR_LOCK_INVALID: 'schema.lock.json is missing or is not a lock this version can read',
  ERR_BREAKING_CHANGE: 'a service or state changed incompatibly without a new major version',
  ERR_STALE:
    'generated/ does not match what the schemas generate (run the grenache-gen command the message names)',
  ERR_USAGE: 'bad command line: the message names the flag and the rule (exit 2)',
} as const

export type CodegenErrorCode = keyof typeof CODEGEN_ERROR_CODES

/** Where in the schemas a problem is. */
export interface CodegenErrorDetails {
  /** Schema file, relative to the project root. */
  file?: string
  /** The export holding the service. */
  exportName?: string
  /** The rule broken (`version`, `json`, `duplicate`…). */
  rule?: string
  cause?: unknown
}

/** The one error class of the generator, shaped like the runtime's `GrenacheError`. */
export class CodegenError extends Error {
  override readonly name = 'CodegenError'
  readonly code: CodegenErrorCode
  readonly file: string | undefined
  readonly exportName: string | undefined
  readonly rule: string | undefined

  constructor(code: CodegenErrorCode, message: string, details: CodegenErrorDetails = {}) {
    super(message, details.cause === undefined ? undefined : { cause: details.cause })
    this.code = code
    this.file = details.file
    this.exportName = details.exportName
    this.rule = details.rule
  }
}
