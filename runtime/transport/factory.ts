import { GrenacheError } from '../errors.js'
import { HttpClientTransport, HttpServerTransport } from './http/index.js'
import { MemoryClientTransport, MemoryServerTransport } from './memory.js'
import type {
  ClientTransport,
  ClientTransportOptions,
  ServerTransport,
  ServerTransportOptions,
  TransportKind,
} from './types.js'
import { WsClientTransport, WsServerTransport } from './ws/index.js'
import { ZmqClientTransport, ZmqServerTransport } from './zmq/index.js'

/** A client transport of `kind`. */
export function createClientTransport(
  kind: TransportKind,
  options: ClientTransportOptions = {},
): ClientTransport {
  switch (kind) {
    case 'memory':
      return new MemoryClientTransport(options)
    case 'http':
    case 'https':
      return new HttpClientTransport({ ...options, kind })
    case 'ws':
    case 'wss':
      return new WsClientTransport({ ...options, kind })
    case 'zmq':
      return new ZmqClientTransport(withoutTls(options))
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
    case 'http':
    case 'https':
      return new HttpServerTransport({ ...options, kind })
    case 'ws':
    case 'wss':
      return new WsServerTransport({ ...options, kind })
    case 'zmq':
      return new ZmqServerTransport(withoutTls(options))
    default:
      throw new GrenacheError(
        'ERR_INVALID_OPTION',
        `transport must be a transport kind, got ${JSON.stringify(kind)}`,
      )
  }
}

/** ZeroMQ has no TLS (CurveZMQ is out of scope) and refuses a `tls` option, even an undefined one. */
function withoutTls<T extends { tls?: unknown }>(options: T): Omit<T, 'tls'> {
  if (options.tls !== undefined) {
    throw new GrenacheError('ERR_INVALID_OPTION', 'options.tls does not apply to zmq (no TLS on ZeroMQ)')
  }
  const { tls: _tls, ...rest } = options
  return rest
}
