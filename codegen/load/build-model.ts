import {
  checkService,
  isServiceDefinition,
  pascalCase,
  type ServiceDefinition,
  serviceDiscovery,
  serviceKey,
  serviceWire,
  wireJsonSchema,
} from '../../runtime/schema.js'
import type { CodegenErrorCode } from '../errors.js'
import type { SchemaFileModel, SchemaModel, ServiceModel } from '../model.js'

/** A problem found while building the model; plain data, so it can cross from the loader process. */
export interface Problem {
  code: CodegenErrorCode
  message: string
  file?: string
  exportName?: string
  rule?: string
}

/** The services a loaded schema file exports, checked against every rule of the DSL. */
export function buildFileModel(
  file: string,
  stem: string,
  module: Record<string, unknown>,
  problems: Problem[],
): SchemaFileModel {
  const services: ServiceModel[] = []
  const seen = new Set<unknown>()
  for (const exportName of Object.keys(module).sort()) {
    const value = module[exportName]
    if (!isServiceDefinition(value) || seen.has(value)) continue
    seen.add(value)
    const broken = checkService(value)
    for (const problem of broken) {
      problems.push({
        code: 'ERR_SCHEMA_INVALID',
        file,
        exportName,
        rule: problem.rule,
        message: `${file}: export ${exportName}${typeof value.name === 'string' ? ` (service ${value.name})` : ''}: ${problem.path || 'the service'} ${problem.message} [rule: ${problem.rule}]`,
      })
    }
    if (broken.length === 0) services.push(serviceModel(exportName, value))
  }
  services.sort((a, b) => compare(a.name, b.name) || a.version - b.version)
  return { file, stem, services }
}

function serviceModel(exportName: string, service: ServiceDefinition): ServiceModel {
  return {
    exportName,
    name: service.name,
    // Version 1 keeps the plain names; later majors carry theirs, so adding one renames nothing.
    pascal: `${pascalCase(service.name)}${service.version > 1 ? `V${service.version}` : ''}`,
    version: service.version,
    key: serviceKey(service),
    discovery: serviceDiscovery(service),
    wire: serviceWire(service),
    description: service.description,
    methods: Object.entries(service.methods)
      .sort(([a], [b]) => compare(a, b))
      .map(([name, method]) => ({
        name,
        pascal: pascalCase(name),
        description: method.description,
        idempotent: method.idempotent === true,
        errors: Object.entries(method.errors ?? {})
          .sort(([a], [b]) => compare(a, b))
          .map(([code, description]) => ({ code, description })),
        input: wireJsonSchema(method.input, 'input'),
        output: wireJsonSchema(method.output, 'output'),
      })),
    events: Object.entries(service.events ?? {})
      .sort(([a], [b]) => compare(a, b))
      .map(([name, event]) => ({
        name,
        pascal: pascalCase(name),
        description: event.description,
        payload: wireJsonSchema(event.payload, 'output'),
      })),
  }
}

/** Rules across files: one service per key, one generated name per service. */
export function checkAcrossFiles(model: SchemaModel, problems: Problem[]): void {
  const keys = new Map<string, string>()
  const names = new Map<string, string>()
  for (const file of model.files) {
    for (const service of file.services) {
      const where = `${file.file}: export ${service.exportName}`
      const lockKey = `${service.name}@${service.version}`
      for (const [map, id, what] of [
        [keys, service.key, `announces the key ${service.key}`],
        [keys, lockKey === service.key ? '' : lockKey, `is ${lockKey}`],
        [names, service.pascal, `generates ${service.pascal}Client`],
      ] as const) {
        if (id === '') continue
        const other = map.get(id)
        if (other)
          problems.push({
            code: 'ERR_SCHEMA_CLASH',
            file: file.file,
            exportName: service.exportName,
            rule: 'clash',
            message: `${where} ${what}, as ${other} does`,
          })
        else map.set(id, where)
      }
    }
  }
}

function compare(a: string, b: string): number {
  return a < b ? -1 : a > b ? 1 : 0
}
