import type { PeerCertificate } from 'node:tls'
import type { RpcRequest, TransportKind } from '../types.js'

/**
 * A request of a connection-oriented server (HTTP, WebSocket). `closed` is a prototype getter, not
 * an own property, so it is made only when a handler reads it and copies or comparisons of the
 * request do not create it.
 */
export class ConnectionRequest implements RpcRequest {
  rid: unknown
  key: string
  payload: unknown
  transport: TransportKind
  certificate: PeerCertificate | undefined
  readonly #closed: () => AbortSignal

  constructor(
    rid: unknown,
    key: string,
    payload: unknown,
    transport: TransportKind,
    certificate: PeerCertificate | undefined,
    closed: () => AbortSignal,
  ) {
    this.rid = rid
    this.key = key
    this.payload = payload
    this.transport = transport
    this.certificate = certificate
    this.#closed = closed
  }

  get closed(): AbortSignal {
    return this.#closed()
  }
}
