import { createHash } from 'node:crypto'
import { CodegenError } from './errors.js'
import type { LockedService, SchemaLock, SchemaModel } from './model.js'

/** What each service version looks like now, keyed `<name>@<version>`. */
export function createLock(model: SchemaModel): SchemaLock {
  const services: Record<string, LockedService> = {}
  for (const file of model.files) {
    for (const service of file.services) {
      const methods = Object.fromEntries(
        service.methods.map((m) => [
          m.name,
          { idempotent: m.idempotent, errors: m.errors.map((e) => e.code), input: m.input, output: m.output },
        ]),
      )
      const events = Object.fromEntries(service.events.map((e) => [e.name, { payload: e.payload }]))
      services[`${service.name}@${service.version}`] = {
        name: service.name,
        version: service.version,
        key: service.key,
        file: file.file,
        wire: service.wire,
        fingerprint: `sha256:${createHash('sha256').update(canonical({ methods, events })).digest('hex')}`,
        methods,
        events,
      }
    }
  }
  return { lockVersion: 1, services }
}

/** The lock as stable, diff-friendly JSON: keys sorted, two-space indent, a final newline. */
export function renderLock(lock: SchemaLock): string {
  return `${JSON.stringify(sortKeys(lock), null, 2)}\n`
}

/** Reads a lock written by `renderLock`; anything else is `ERR_LOCK_INVALID`. */
export function parseLock(text: string, where: string): SchemaLock {
  let value: unknown
  try {
    value = JSON.parse(text)
  } catch (err) {
    throw new CodegenError('ERR_LOCK_INVALID', `${where} is not JSON: ${(err as Error).message}`)
  }
  const lock = value as Partial<SchemaLock> | null
  if (
    typeof lock !== 'object' ||
    lock === null ||
    lock.lockVersion !== 1 ||
    typeof lock.services !== 'object'
  ) {
    throw new CodegenError(
      'ERR_LOCK_INVALID',
      `${where} is not a grenache-gen lock (lockVersion 1 with services)`,
    )
  }
  for (const [key, service] of Object.entries(lock.services ?? {})) {
    if (
      typeof service?.methods !== 'object' ||
      typeof service.events !== 'object' ||
      typeof service.version !== 'number'
    ) {
      throw new CodegenError('ERR_LOCK_INVALID', `${where}: service ${key} is not a locked service`)
    }
  }
  return lock as SchemaLock
}

/** JSON with object keys sorted at every level: the same value always gives the same text. */
export function canonical(value: unknown): string {
  return JSON.stringify(sortKeys(value))
}

function sortKeys(value: unknown): unknown {
  if (Array.isArray(value)) return value.map(sortKeys)
  if (typeof value !== 'object' || value === null) return value
  return Object.fromEntries(
    Object.keys(value)
      .sort()
      .map((key) => [key, sortKeys((value as Record<string, unknown>)[key])]),
  )
}
