import { GrenacheError } from '../errors.js'
import { checkService, type ServiceDefinition } from '../schema.js'

/** Throws `ERR_INVALID_ARGUMENT` listing every rule `service` breaks. */
export function assertService(service: ServiceDefinition): void {
  const problems = checkService(service)
  if (problems.length === 0) return
  const list = problems.map((p) => `${p.path || 'service'} ${p.message} [${p.rule}]`).join('; ')
  throw new GrenacheError('ERR_INVALID_ARGUMENT', `service ${JSON.stringify(service?.name)}: ${list}`)
}
