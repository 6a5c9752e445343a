import { describe, expect, it } from 'vitest'
import { GrenacheError } from '../../../../runtime/errors.js'
import { dialOptions, handshakeError, wsUrl } from '../../../../runtime/transport/ws/dial.js'

const failure = (code: string, message = code): Error => Object.assign(new Error(message), { code })

describe('wsUrl()', () => {
  it('dials /ws on the address, as the reference client does', () => {
    expect(wsUrl('ws', '127.0.0.1:1337')).toBe('ws://127.0.0.1:1337/ws')
    expect(wsUrl('wss', 'worker.local:443')).toBe('wss://worker.local:443/ws')
  })

  it('puts an IPv6 host in brackets', () => {
    expect(wsUrl('ws', '::1:1337')).toBe('ws://[::1]:1337/ws')
    expect(wsUrl('ws', '[::1]:1337')).toBe('ws://[::1]:1337/ws')
  })

  it('rejects an address without a valid port with ERR_INVALID_ARGUMENT', () => {
    for (const bad of ['127.0.0.1', '127.0.0.1:', ':80', '127.0.0.1:0', '127.0.0.1:70000', 'h:x', 42]) {
      expect(() => wsUrl('ws', bad as string)).toThrow(
        expect.objectContaining({ code: 'ERR_INVALID_ARGUMENT' }),
      )
    }
  })
})

describe('dialOptions()', () => {
  it('turns compression off, bounds messages and the handshake, and verifies TLS by default', () => {
    expect(dialOptions(undefined, 1000, 2000)).toEqual({
      perMessageDeflate: false,
      maxPayload: 1000,
      handshakeTimeout: 2000,
      followRedirects: false,
    })
    expect(dialOptions({ ca: 'CA', servername: 'w' }, 1, 1)).toMatchObject({
      ca: 'CA',
      servername: 'w',
      rejectUnauthorized: true,
    })
    expect(dialOptions({ rejectUnauthorized: false }, 1, 1).rejectUnauthorized).toBe(false)
  })
})

describe('handshakeError()', () => {
  const cases: Array<[string, Error, 'ws' | 'wss', string]> = [
    ['a refused connection', failure('ECONNREFUSED'), 'ws', 'ERR_CONNECTION_REFUSED'],
    ['an untrusted certificate', failure('UNABLE_TO_VERIFY_LEAF_SIGNATURE'), 'wss', 'ERR_TLS'],
    ['a certificate for another name', failure('ERR_TLS_CERT_ALTNAME_INVALID'), 'wss', 'ERR_TLS'],
    ['a TLS alert', failure('ERR_SSL_TLSV13_ALERT_CERTIFICATE_REQUIRED'), 'wss', 'ERR_TLS'],
    ['a hang-up during a TLS handshake', failure('ECONNRESET', 'socket hang up'), 'wss', 'ERR_TLS'],
    ['a hang-up in the clear', failure('ECONNRESET', 'socket hang up'), 'ws', 'ERR_CONNECTION_FAILED'],
    [
      'a port that does not speak TLS',
      failure('EPROTO', 'x:wrong version number:y'),
      'wss',
      'ERR_TRANSPORT_MISMATCH',
    ],
    ['a port that does not speak HTTP', failure('HPE_INVALID_CONSTANT'), 'ws', 'ERR_TRANSPORT_MISMATCH'],
    ['a handshake timeout', new Error('Opening handshake has timed out'), 'ws', 'ERR_CONNECTION_FAILED'],
    ['an unreachable host', failure('EHOSTUNREACH'), 'ws', 'ERR_CONNECTION_FAILED'],
  ]
  for (const [what, err, kind, expected] of cases) {
    it(`maps ${what} to ${expected}, naming the worker and keeping the cause`, () => {
      const mapped = handshakeError(err, kind, `${kind} 127.0.0.1:1`)
      expect(mapped).toBeInstanceOf(GrenacheError)
      expect(mapped.code).toBe(expected)
      expect(mapped.message).toContain(`${kind} 127.0.0.1:1`)
      expect(mapped.cause).toBe(err)
    })
  }
})
