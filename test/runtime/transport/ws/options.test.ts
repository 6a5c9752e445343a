import { describe, expect, it } from 'vitest'
import {
  resolveClientOptions,
  resolvePublisherOptions,
  resolveServerOptions,
  resolveSubscriberOptions,
} from '../../../../runtime/transport/ws/options.js'
import { tls } from '../../../fixtures/tls/index.js'

const invalid = (what: RegExp) =>
  expect.objectContaining({ code: 'ERR_INVALID_OPTION', message: expect.stringMatching(what) })

describe('WebSocket transport options', () => {
  it('fills the client defaults: ws, 64 MiB replies, 10 s handshake, 5 s close', () => {
    expect(resolveClientOptions(undefined)).toEqual({
      kind: 'ws',
      tls: undefined,
      maxPayloadBytes: 64 * 1024 * 1024,
      connectTimeoutMs: 10_000,
      closeTimeoutMs: 5000,
    })
    expect(resolveClientOptions({ tls: { ca: tls.ca } }).kind).toBe('wss')
    expect(resolveClientOptions({ kind: 'wss' }).kind).toBe('wss')
  })

  it('fills the server defaults: 127.0.0.1, 1 MiB requests, 5 s drain, the bounds of every server', () => {
    expect(resolveServerOptions({ port: 0 })).toEqual({
      kind: 'ws',
      tls: undefined,
      port: 0,
      host: '127.0.0.1',
      maxPayloadBytes: 1024 * 1024,
      drainTimeoutMs: 5000,
      limits: { maxConnections: 4096, headersTimeoutMs: 10_000, requestTimeoutMs: 30_000, idleTimeoutMs: 0 },
      bounds: { maxInFlight: 4096, maxUnsentBytes: 16 * 1024 * 1024 },
    })
  })

  it('needs a certificate and key for a wss server or a TLS publisher', () => {
    expect(() => resolveServerOptions({ port: 0, kind: 'wss' })).toThrow(invalid(/options\.tls/))
    expect(() => resolveServerOptions({ port: 0, tls: { ca: tls.ca } })).toThrow(invalid(/options\.tls/))
    expect(resolveServerOptions({ port: 0, tls: tls.server }).kind).toBe('wss')
    expect(() => resolvePublisherOptions({ tls: { ca: tls.ca } })).toThrow(invalid(/options\.tls/))
  })

  it('refuses TLS material that does not load, and tls with kind ws', () => {
    expect(() => resolveClientOptions({ tls: { key: 'not a key' } })).toThrow(invalid(/options\.tls/))
    expect(() => resolveClientOptions({ kind: 'ws', tls: {} })).toThrow(invalid(/options\.tls/))
  })

  it('names the option and the rule of a bad value', () => {
    expect(() => resolveServerOptions({ port: 70_000 })).toThrow(invalid(/options\.port must be an integer/))
    expect(() => resolveServerOptions({ port: 0, host: '' })).toThrow(invalid(/options\.host/))
    expect(() => resolveServerOptions({ port: 0, drainTimeoutMs: -1 })).toThrow(
      invalid(/options\.drainTimeoutMs/),
    )
    expect(() => resolveClientOptions({ connectTimeoutMs: 0 })).toThrow(invalid(/options\.connectTimeoutMs/))
    expect(() => resolveClientOptions('x' as never)).toThrow(invalid(/options must be an object/))
    expect(() => resolvePublisherOptions({ maxBufferedBytes: 0 })).toThrow(
      invalid(/options\.maxBufferedBytes/),
    )
  })

  it('fills the subscriber defaults: 100 ms doubling up to 5 s', () => {
    expect(resolveSubscriberOptions({ address: '127.0.0.1:1' })).toMatchObject({
      minReconnectDelayMs: 100,
      maxReconnectDelayMs: 5000,
    })
    expect(
      resolveSubscriberOptions({ address: '127.0.0.1:1', minReconnectDelayMs: 8000 }).maxReconnectDelayMs,
    ).toBe(8000)
  })
})
