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
import { isStateDefinition } from '../../runtime/state/define.js'
import type { CodegenErrorCode } from '../errors.js'
import type { SchemaFileModel, SchemaModel, ServiceModel, StateModel } from '../model.js'
import { stateModel } from '../state/state-model.js'

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
  const states: StateModel[] = []
  const seen = new Set<unknown>()
  for (const exportName of Object.keys(module).sort()) {
    const value = module[exportName]
    if (seen.has(value)) continue
    if (isStateDefinition(value)) {
      seen.add(value)
      const built = stateModel(exportName, value)
      if ('model' in built) states.push(built.model)
      else {
        const which = typeof value.name === 'string' ? ` (state ${value.name})` : ''
        for (const problem of built.problems) {
          problems.push({
            code: 'ERR_SCHEMA_INVALID',
            file,
            exportName,
            rule: problem.rule,
            message: `${file}: export ${exportName}${which}: ${problem.path || 'the state'} ${problem.message} [rule: ${problem.rule}]`,
          })
        }
      }
      continue
    }
    if (!isServiceDefinition(value)) continue
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
  states.sort((a, b) => compare(a.name, b.name) || a.version - b.version)
  return { file, stem, services, states }
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

/** Rules across files: one service per key, one generated name per service or state. */
export function checkAcrossFiles(model: SchemaModel, problems: Problem[]): void {
  const keys = new Map<string, string>()
  const names = new Map<string, string>()
  for (const file of model.files) {
    for (const state of file.states) {
      const where = `${file.file}: export ${state.exportName}`
      for (const [map, id, what] of [
        [keys, state.feed, `is ${state.feed}`],
        [names, state.pascal, `generates ${state.pascal}Codec`],
      ] as const) {
        const other = map.get(id)
        if (other)
          problems.push({
            code: 'ERR_SCHEMA_CLASH',
            file: file.file,
            exportName: state.exportName,
            rule: 'clash',
            message: `${where} ${what}, as ${other} does (services and states share one namespace)`,
          })
        else map.set(id, where)
      }
    }
  }
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
