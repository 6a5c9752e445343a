import { describe, expect, it } from 'vitest'
import { GrenacheError } from '../../../../runtime/errors.js'
import { httpTransportError, statusError } from '../../../../runtime/transport/http/errors.js'

/** An error as Node, undici or OpenSSL raise it. */
function nodeError(code: string | undefined, message = 'boom', name = 'Error'): Error {
  const error = new Error(message) as Error & { code?: string }
  error.name = name
  if (code !== undefined) error.code = code
  return error
}

describe('httpTransportError()', () => {
  it('passes a GrenacheError through unchanged', () => {
    const error = new GrenacheError('ERR_TIMEOUT', 'late')
    expect(httpTransportError(error, 'http a:1')).toBe(error)
  })

  it.each([
    ['ECONNREFUSED', 'ERR_CONNECTION_REFUSED'],
    ['UND_ERR_SOCKET', 'ERR_CONNECTION_RESET'],
    ['SELF_SIGNED_CERT_IN_CHAIN', 'ERR_TLS'],
    ['HOSTNAME_MISMATCH', 'ERR_TLS'],
    ['CERT_REVOKED', 'ERR_TLS'],
    ['ERR_SSL_SSLV3_ALERT_HANDSHAKE_FAILURE', 'ERR_TLS'],
    ['ERR_SSL_TLSV1_ALERT_ACCESS_DENIED', 'ERR_TLS'],
    ['ERR_SSL_WRONG_VERSION_NUMBER', 'ERR_TRANSPORT_MISMATCH'],
    ['ERR_SSL_PACKET_LENGTH_TOO_LONG', 'ERR_TRANSPORT_MISMATCH'],
    ['HPE_INVALID_CONSTANT', 'ERR_TRANSPORT_MISMATCH'],
    ['HPE_INVALID_HEADER_TOKEN', 'ERR_BAD_REPLY'],
    ['UND_ERR_RES_CONTENT_LENGTH_MISMATCH', 'ERR_BAD_REPLY'],
    ['ERR_STREAM_PREMATURE_CLOSE', 'ERR_CONNECTION_RESET'],
    ['SOMETHING_ELSE', 'ERR_INTERNAL'],
  ])('maps %s to %s, keeping the cause and naming the worker', (nodeCode, expected) => {
    const cause = nodeError(nodeCode)
    const error = httpTransportError(cause, 'http 127.0.0.1:1')
    expect(error.code).toBe(expected)
    expect(error.cause).toBe(cause)
    expect(error.message).toMatch(/^http 127\.0\.0\.1:1: /)
  })

  it("maps undici's HTTPParserError (no code): no status line is a mismatch, anything else a bad reply", () => {
    const notHttp = nodeError(
      undefined,
      'Response does not match the HTTP/1.1 protocol (Expected HTTP/, RTSP/ or ICE/)',
      'HTTPParserError',
    )
    const badHeader = nodeError(
      undefined,
      'Response does not match the HTTP/1.1 protocol (Invalid header token)',
      'HTTPParserError',
    )
    expect(httpTransportError(notHttp, 'x').code).toBe('ERR_TRANSPORT_MISMATCH')
    expect(httpTransportError(badHeader, 'x').code).toBe('ERR_BAD_REPLY')
  })

  it('shortens an OpenSSL message to its reason', () => {
    const cause = nodeError(
      'ERR_SSL_WRONG_VERSION_NUMBER',
      '80CCA2D24A7F0000:error:0A00010B:SSL routines:ssl3_get_record:wrong version number:../deps/openssl/openssl/ssl/record/ssl3_record.c:350:\n',
    )
    expect(httpTransportError(cause, 'https a:1').message).toBe('https a:1: wrong version number')
  })

  it('maps anything that is not an Error to ERR_INTERNAL', () => {
    expect(httpTransportError('text', 'x').code).toBe('ERR_INTERNAL')
    expect(httpTransportError(undefined, 'x').code).toBe('ERR_INTERNAL')
  })
})

describe('statusError()', () => {
  it.each([
    [400, 'ERR_BAD_REQUEST'],
    [413, 'ERR_PAYLOAD_TOO_LARGE'],
    [426, 'ERR_TRANSPORT_MISMATCH'],
    [500, 'ERR_BAD_REPLY'],
    [404, 'ERR_BAD_REPLY'],
  ])('maps HTTP %i to %s', (status, expected) => {
    expect(statusError(status, Buffer.from(''), 'http a:1').code).toBe(expected)
  })

  it("reads a Grenache error body as the worker's answer (ERR_REMOTE), and keeps any other body's text", () => {
    const grenache = Buffer.from('["r","ERR_PAYLOAD_TOO_LARGE: the request is larger than 10 bytes",null]')
    expect(statusError(413, grenache, 'http a:1')).toMatchObject({
      code: 'ERR_REMOTE',
      remoteCode: 'ERR_PAYLOAD_TOO_LARGE',
      message: 'ERR_PAYLOAD_TOO_LARGE: the request is larger than 10 bytes',
    })
    expect(statusError(502, Buffer.from('Bad Gateway'), 'http a:1').message).toBe(
      'http a:1: HTTP 502 Bad Gateway',
    )
    expect(statusError(503, Buffer.alloc(0), 'http a:1').message).toBe('http a:1: HTTP 503')
  })

  it('reads at most the first 1000 bytes of a large body', () => {
    const error = statusError(500, Buffer.from('x'.repeat(100_000)), 'h')
    expect(error.message.length).toBeLessThan(1100)
  })
})
