import { type GeneratedFile, identifier } from './generated-file.js'
import type { JsonSchema, MethodModel, SchemaFileModel, ServiceModel } from './model.js'
import { eventsTemplate, serviceTemplate } from './templates.js'

/** Where the generated file imports from. */
export interface ImportPaths {
  /** The runtime (`grenache-gen`, or a relative path inside this repository). */
  runtime: string
  /** The schema file, relative to the generated file. */
  schema: string
}

/** The runtime names the service template uses, values then types. */
const SERVICE_VALUES = ['ServiceClient', 'ServiceError', 'serveService', 'isDeclaredError']
const SERVICE_TYPES = [
  'GrenacheError',
  'MapResult',
  'MethodInput',
  'MethodOutput',
  'ParsedInput',
  'ServeOptions',
  'ServiceCallOptions',
  'ServiceClientOptions',
  'ServiceContext',
  'ServiceMapOptions',
  'ServiceServer',
]
/** And those the events template adds. */
const EVENT_VALUES = ['ServicePublisher', 'ServiceSubscriber']
const EVENT_TYPES = ['CallOptions', 'EventPayload', 'ServicePublisherOptions', 'ServiceSubscriberOptions']

/** Appends the exports of every service of `schema` to `file`. */
export function emitServices(file: GeneratedFile, schema: SchemaFileModel, paths: ImportPaths): void {
  for (const service of schema.services) emitService(file, schema, service, paths)
}

function emitService(
  file: GeneratedFile,
  schema: SchemaFileModel,
  service: ServiceModel,
  paths: ImportPaths,
): void {
  const p = service.pascal
  const upper = p.replace(/([a-z0-9])([A-Z])/g, '$1_$2').toUpperCase()
  const names = {
    Service: file.define(`${p}Service`),
    ErrorCode: file.define(`${p}ErrorCode`),
    ERROR_CODES: file.define(`${upper}_ERROR_CODES`),
    isError: file.define(`is${p}Error`),
    Error: file.define(`${p}Error`),
    Worker: file.define(`${p}Worker`),
    Client: file.define(`${p}Client`),
    serve: file.define(`serve${p}`),
    ...(service.events.length > 0
      ? {
          Events: file.define(`${p}Events`),
          Publisher: file.define(`${p}Publisher`),
          Subscriber: file.define(`${p}Subscriber`),
        }
      : {}),
  }
  const r: Record<string, string> = {}
  const events = service.events.length > 0
  for (const name of [...SERVICE_VALUES, ...(events ? EVENT_VALUES : [])])
    r[name] = file.import(paths.runtime, name)
  for (const name of [...SERVICE_TYPES, ...(events ? EVENT_TYPES : [])]) {
    r[name] = file.import(paths.runtime, name, { type: true })
  }
  const codes = [...new Set(service.methods.flatMap((m) => m.errors.map((e) => e.code)))].sort()
  const context = {
    service: file.import(paths.schema, service.exportName),
    name: service.name,
    version: service.version,
    key: service.key,
    plain: service.discovery === 'plain',
    names,
    r,
    doc: [
      `${service.name} v${service.version}${service.description ? `: ${service.description}` : ''}`,
      '',
      `The definition from ${schema.file}, discovered as \`${service.key}${service.discovery === 'plain' ? '' : '/<transport>'}\`.`,
      service.wire === 'bare'
        ? 'Calls travel as the bare input (no `{ action, args }` envelope), as hand-written Grenache peers expect.'
        : 'Calls travel as `{ action: <method>, args: [input] }`.',
    ],
    errorCodeList: codes.map((c) => `'${c}'`).join(', '),
    errorCodeUnion: codes.length > 0 ? codes.map((c) => `'${c}'`).join(' | ') : 'never',
    methods: service.methods.map((method) => methodContext(file, service, method)),
    events: service.events.map((event) => ({
      name: event.name,
      payloadDocs: fieldDocs(event.payload),
      doc: event.description ? [event.description] : [`The \`${event.name}\` event.`],
    })),
  }
  file.add(serviceTemplate(context))
  if (events) file.add(eventsTemplate(context))
}

function methodContext(file: GeneratedFile, service: ServiceModel, method: MethodModel) {
  const summary = method.description ?? `The \`${method.name}\` method.`
  const idempotent = method.idempotent
    ? ['Idempotent: retried on another worker after a dropped connection.']
    : []
  // An object input nothing is required in (`z.object({})`, all fields optional) may be left out:
  // the client then sends `{}`, which the worker's schema accepts and reference peers understand.
  const noInput =
    method.input.type === 'object' &&
    !(Array.isArray(method.input.required) && method.input.required.length > 0)
  return {
    name: method.name,
    inputDocs: fieldDocs(method.input),
    outputDocs: fieldDocs(method.output),
    inputParam: noInput ? 'input?' : 'input',
    inputValue: noInput ? 'input ?? {}' : 'input',
    Input: file.define(`${service.pascal}${method.pascal}Input`),
    Output: file.define(`${service.pascal}${method.pascal}Output`),
    workerDoc: [
      summary,
      ...method.errors.map((e) => `@throws ${service.pascal}Error \`${e.code}\`: ${e.description}`),
    ],
    clientDoc: [
      summary,
      ...idempotent,
      ...method.errors.map(
        (e) => `@throws GrenacheError \`ERR_REMOTE\` with \`remoteCode\` \`${e.code}\`: ${e.description}`,
      ),
    ],
  }
}

/** The documented top-level fields of an object schema: `.describe()` texts and JSDoc comments. */
function fieldDocs(schema: JsonSchema): Array<{ key: string; doc: string[] }> {
  const properties =
    schema.type === 'object' ? (schema.properties as Record<string, JsonSchema> | undefined) : undefined
  return Object.entries(properties ?? {}).flatMap(([name, property]) =>
    typeof property.description === 'string'
      ? [{ key: identifier(name) === name ? name : quote(name), doc: property.description.split('\n') }]
      : [],
  )
}

function quote(name: string): string {
  return `'${name.replaceAll('\\', '\\\\').replaceAll("'", "\\'")}'`
}
