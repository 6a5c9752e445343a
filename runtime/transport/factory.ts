import { GrenacheError } from '../errors.js'
import { MemoryClientTransport, MemoryServerTransport } from './memory.js'
import type {
  ClientTransport,
  ClientTransportOptions,
  ServerTransport,
  ServerTransportOptions,
  TransportKind,
} from './types.js'

/** A client transport of `kind`. */
export function createClientTransport(
  kind: TransportKind,
  options: ClientTransportOptions = {},
): ClientTransport {
  switch (kind) {
    case 'memory':
      return new MemoryClientTransport(options)
    default:
      throw new GrenacheError(
        'ERR_INVALID_OPTION',
        `options.transport must be a transport kind, got ${JSON.stringify(kind)}`,
      )
  }
}

/** A server transport of `kind`, not yet listening. */
export function createServerTransport(kind: TransportKind, options: ServerTransportOptions): ServerTransport {
  switch (kind) {
    case 'memory':
      return new MemoryServerTransport(options)
    default:
      throw new GrenacheError(
        'ERR_INVALID_OPTION',
        `transport must be a transport kind, got ${JSON.stringify(kind)}`,
      )
  }
}
