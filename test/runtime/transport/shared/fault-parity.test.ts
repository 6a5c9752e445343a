import { afterEach, describe, expect, it } from 'vitest'
import { GrenacheError } from '../../../../runtime/errors.js'
import { HttpClientTransport } from '../../../../runtime/transport/http/client.js'
import { httpTransportError } from '../../../../runtime/transport/http/errors.js'
import { HttpServerTransport } from '../../../../runtime/transport/http/server.js'
import type { ClientTransport, ServerTransport, TlsOptions } from '../../../../runtime/transport/types.js'
import { WsClientTransport } from '../../../../runtime/transport/ws/client.js'
import { handshakeError } from '../../../../runtime/transport/ws/dial.js'
import { WsServerTransport } from '../../../../runtime/transport/ws/server.js'
import { ZmqClientTransport } from '../../../../runtime/transport/zmq/client.js'
import { ZmqServerTransport } from '../../../../runtime/transport/zmq/server.js'
import { tls } from '../../../fixtures/tls/index.js'

const cleanups: Array<() => Promise<unknown> | unknown> = []
afterEach(async () => {
  for (const cleanup of cleanups.splice(0).reverse()) await cleanup()
})

type Kind = 'http' | 'https' | 'ws' | 'wss' | 'zmq'

function server(kind: Kind, options: { tls?: TlsOptions; maxPayloadBytes?: number } = {}): ServerTransport {
  const base = { port: 0, ...options }
  if (kind === 'zmq') return new ZmqServerTransport({ port: 0 })
  if (kind === 'http' || kind === 'https') return new HttpServerTransport(base)
  return new WsServerTransport(base)
}

function client(kind: Kind, trust: TlsOptions | undefined = { ca: tls.ca }): ClientTransport {
  const made =
    kind === 'zmq'
      ? new ZmqClientTransport()
      : kind === 'http'
        ? new HttpClientTransport()
        : kind === 'https'
          ? new HttpClientTransport({ tls: trust ?? {} })
          : kind === 'ws'
            ? new WsClientTransport()
            : new WsClientTransport({ tls: trust ?? {} })
  cleanups.push(() => made.close())
  return made
}

async function listening(
  made: ServerTransport,
  handler = (_r: unknown, reply: (e: null, v: unknown) => void) => reply(null, 'ok'),
): Promise<string> {
  await made.listen(handler)
  cleanups.push(() => made.close())
  return `127.0.0.1:${made.port}`
}

async function failure(
  promise: Promise<unknown>,
): Promise<{ code: string; remoteCode?: string | undefined }> {
  const err = await promise.then(
    () => new GrenacheError('ERR_INTERNAL', 'it succeeded'),
    (e: GrenacheError) => e,
  )
  return err.remoteCode === undefined ? { code: err.code } : { code: err.code, remoteCode: err.remoteCode }
}

const call = (via: ClientTransport, address: string, payload: unknown = 1) =>
  failure(via.request(address, 'k', payload, { timeoutMs: 5000 }))

describe('one fault, one code, on every transport', () => {
  it('nothing listens: ERR_CONNECTION_REFUSED', async () => {
    const closed = server('http')
    const address = await listening(closed)
    await closed.close()
    for (const kind of ['http', 'https', 'ws', 'wss', 'zmq'] as const) {
      expect([kind, await call(client(kind), address)]).toEqual([kind, { code: 'ERR_CONNECTION_REFUSED' }])
    }
  })

  it('a worker certificate the client does not trust: ERR_TLS', async () => {
    for (const kind of ['https', 'wss'] as const) {
      const address = await listening(server(kind, { tls: tls.server }))
      expect([kind, await call(client(kind, { ca: tls.otherCa }), address)]).toEqual([
        kind,
        { code: 'ERR_TLS' },
      ])
    }
  })

  it('TLS to a plain port, plain to a TLS port, or another protocol: ERR_TRANSPORT_MISMATCH', async () => {
    const ports = {
      http: await listening(server('http')),
      https: await listening(server('https', { tls: tls.server })),
      ws: await listening(server('ws')),
      wss: await listening(server('wss', { tls: tls.server })),
      zmq: await listening(server('zmq')),
    }
    const pairs: Array<[Kind, Kind]> = [
      ['https', 'http'],
      ['wss', 'ws'],
      ['http', 'https'],
      ['ws', 'wss'],
      ['http', 'ws'],
      ['ws', 'http'],
      ['http', 'zmq'],
      ['ws', 'zmq'],
      ['zmq', 'http'],
      ['zmq', 'ws'],
    ]
    for (const [from, to] of pairs) {
      expect([from, to, await call(client(from), ports[to])]).toEqual([
        from,
        to,
        { code: 'ERR_TRANSPORT_MISMATCH' },
      ])
    }
  })

  it('a request over maxPayloadBytes: ERR_REMOTE with remoteCode ERR_PAYLOAD_TOO_LARGE', async () => {
    for (const kind of ['http', 'ws', 'zmq'] as const) {
      const made =
        kind === 'zmq'
          ? new ZmqServerTransport({ port: 0, maxPayloadBytes: 100 })
          : server(kind, { maxPayloadBytes: 100 })
      const address = await listening(made)
      expect([kind, await call(client(kind), address, 'x'.repeat(200))]).toEqual([
        kind,
        { code: 'ERR_REMOTE', remoteCode: 'ERR_PAYLOAD_TOO_LARGE' },
      ])
    }
  })

  it('the worker goes away with the request in flight: ERR_CONNECTION_RESET', async () => {
    for (const kind of ['http', 'ws', 'zmq'] as const) {
      const made =
        kind === 'zmq'
          ? new ZmqServerTransport({ port: 0, drainTimeoutMs: 0 })
          : kind === 'http'
            ? new HttpServerTransport({ port: 0, drainTimeoutMs: 0 })
            : new WsServerTransport({ port: 0, drainTimeoutMs: 0 })
      let arrived: () => void = () => {}
      const reached = new Promise<void>((resolve) => (arrived = resolve))
      const address = await listening(made, () => arrived())
      const pending = call(client(kind), address)
      await reached
      await made.close()
      expect([kind, await pending]).toEqual([kind, { code: 'ERR_CONNECTION_RESET' }])
    }
  })
})

describe('the one error table', () => {
  // Every certificate fault OpenSSL names (Node's `err.code`), and its families.
  const TLS_FAULTS = [
    'UNABLE_TO_GET_ISSUER_CERT',
    'UNABLE_TO_GET_CRL',
    'UNABLE_TO_DECRYPT_CERT_SIGNATURE',
    'UNABLE_TO_DECRYPT_CRL_SIGNATURE',
    'UNABLE_TO_DECODE_ISSUER_PUBLIC_KEY',
    'CERT_SIGNATURE_FAILURE',
    'CRL_SIGNATURE_FAILURE',
    'CERT_NOT_YET_VALID',
    'CERT_HAS_EXPIRED',
    'CRL_NOT_YET_VALID',
    'CRL_HAS_EXPIRED',
    'ERROR_IN_CERT_NOT_BEFORE_FIELD',
    'ERROR_IN_CERT_NOT_AFTER_FIELD',
    'DEPTH_ZERO_SELF_SIGNED_CERT',
    'SELF_SIGNED_CERT_IN_CHAIN',
    'UNABLE_TO_GET_ISSUER_CERT_LOCALLY',
    'UNABLE_TO_VERIFY_LEAF_SIGNATURE',
    'CERT_CHAIN_TOO_LONG',
    'CERT_REVOKED',
    'INVALID_CA',
    'PATH_LENGTH_EXCEEDED',
    'INVALID_PURPOSE',
    'CERT_UNTRUSTED',
    'CERT_REJECTED',
    'HOSTNAME_MISMATCH',
    'ERR_TLS_CERT_ALTNAME_INVALID',
    'ERR_SSL_TLSV1_ALERT_UNKNOWN_CA',
    'ERR_SSL_SSLV3_ALERT_HANDSHAKE_FAILURE',
    'EPROTO',
  ]
  const MISMATCH = ['ERR_SSL_WRONG_VERSION_NUMBER', 'ERR_SSL_PACKET_LENGTH_TOO_LONG', 'ERR_SSL_HTTP_REQUEST']

  const fault = (code: string) => Object.assign(new Error(`a fault: ${code}`), { code })

  it('https and wss give a certificate fault the same code, ERR_TLS', () => {
    for (const code of TLS_FAULTS) {
      expect([code, httpTransportError(fault(code), 'https x').code]).toEqual([code, 'ERR_TLS'])
      expect([code, handshakeError(fault(code), 'wss', 'wss x').code]).toEqual([code, 'ERR_TLS'])
    }
  })

  it('https and wss give a port that does not speak TLS the same code, ERR_TRANSPORT_MISMATCH', () => {
    for (const code of MISMATCH) {
      expect([code, httpTransportError(fault(code), 'https x').code]).toEqual([
        code,
        'ERR_TRANSPORT_MISMATCH',
      ])
      expect([code, handshakeError(fault(code), 'wss', 'wss x').code]).toEqual([
        code,
        'ERR_TRANSPORT_MISMATCH',
      ])
    }
  })
})
