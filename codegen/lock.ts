import { createHash } from 'node:crypto'
import { canonical, sortKeys } from '../runtime/util/canonical.js'
import { carryRemoved } from './compat/removed.js'
import { CodegenError } from './errors.js'
import type { LockedService, LockedState, SchemaLock, SchemaModel } from './model.js'

/**
 * What each service and state version looks like now, keyed `<name>@<version>`. With the
 * `previous` lock, the fields removed since (and those it already kept) are carried over.
 */
export function createLock(model: SchemaModel, previous?: SchemaLock): SchemaLock {
  const services: Record<string, LockedService> = {}
  const states: Record<string, LockedState> = {}
  for (const file of model.files) {
    for (const state of file.states ?? []) {
      states[state.feed] = {
        name: state.name,
        version: state.version,
        file: file.file,
        feed: state.feed,
        fingerprint: state.fingerprint,
        maxKeyBytes: state.maxKeyBytes,
        maxLeafBytes: state.maxLeafBytes,
        key: state.key,
        leaf: state.leaf,
      }
    }
    for (const service of file.services) {
      const methods = Object.fromEntries(
        service.methods.map((m) => [
          m.name,
          { idempotent: m.idempotent, errors: m.errors.map((e) => e.code), input: m.input, output: m.output },
        ]),
      )
      const events = Object.fromEntries(service.events.map((e) => [e.name, { payload: e.payload }]))
      const key = `${service.name}@${service.version}`
      const locked: LockedService = {
        name: service.name,
        version: service.version,
        key: service.key,
        file: file.file,
        wire: service.wire,
        fingerprint: `sha256:${createHash('sha256').update(canonical({ methods, events })).digest('hex')}`,
        methods,
        events,
      }
      // The fingerprint stays the wire shape's: a removed field changes what is locked, not what travels.
      const prior = previous && Object.hasOwn(previous.services, key) ? previous.services[key] : undefined
      const removed = carryRemoved(prior, locked)
      services[key] = Object.keys(removed).length > 0 ? { ...locked, removed } : locked
    }
  }
  return Object.keys(states).length > 0 ? { lockVersion: 1, services, states } : { lockVersion: 1, services }
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
    const removed: unknown = service.removed
    if (
      removed !== undefined &&
      (typeof removed !== 'object' ||
        removed === null ||
        Object.values(removed).some((fields) => typeof fields !== 'object' || fields === null))
    ) {
      throw new CodegenError('ERR_LOCK_INVALID', `${where}: service ${key} has a malformed removed list`)
    }
  }
  if (lock.states !== undefined && (typeof lock.states !== 'object' || lock.states === null)) {
    throw new CodegenError('ERR_LOCK_INVALID', `${where}: states is not an object`)
  }
  for (const [key, state] of Object.entries(lock.states ?? {})) {
    if (
      typeof state?.fingerprint !== 'string' ||
      typeof state.version !== 'number' ||
      typeof state.leaf !== 'object' ||
      typeof state.key !== 'object'
    ) {
      throw new CodegenError('ERR_LOCK_INVALID', `${where}: state ${key} is not a locked state`)
    }
  }
  return lock as SchemaLock
}

export { canonical } from '../runtime/util/canonical.js'
