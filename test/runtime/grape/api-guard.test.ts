import type { IncomingHttpHeaders } from 'node:http'
import { describe, expect, it } from 'vitest'
import {
  type ApiGuardOptions,
  createApiGuard,
  normaliseHost,
  normaliseOrigin,
  parseHostHeader,
} from '../../../runtime/grape/api-guard.js'

const guard = (options: Partial<ApiGuardOptions> = {}) =>
  createApiGuard({ allowedOrigins: [], allowedHosts: [], host: '127.0.0.1', ...options })

const codeOf = (check: ReturnType<typeof guard>, headers: IncomingHttpHeaders) => check(headers)?.code

describe('createApiGuard()', () => {
  describe('by default', () => {
    const check = guard()

    it("lets in what Links send: no Origin, the Host they were given (the reference's fetch adds Sec-Fetch-Mode)", () => {
      expect(check({ host: '127.0.0.1:30001', 'sec-fetch-mode': 'cors' })).toBeUndefined()
      expect(check({ host: 'localhost:30001' })).toBeUndefined()
      expect(check({ host: 'LOCALHOST' })).toBeUndefined()
      expect(check({ host: '[::1]:30001' })).toBeUndefined()
      expect(check({})).toBeUndefined()
    })

    it('lets in any IP address as Host, on any port: a rebinding page cannot send one', () => {
      for (const host of ['10.0.0.5:30001', '203.0.113.7', '[fe80::1]:8080', '[::ffff:127.0.0.1]:1']) {
        expect(check({ host }), host).toBeUndefined()
      }
    })

    it('refuses every request with an Origin header, whatever its Host, with ERR_GRAPE_ORIGIN naming it', () => {
      for (const origin of ['http://evil.example', 'http://127.0.0.1:30001', 'null']) {
        expect(codeOf(check, { origin, host: '127.0.0.1:30001' }), origin).toBe('ERR_GRAPE_ORIGIN')
      }
      expect(check({ origin: 'http://evil.example', host: '127.0.0.1:30001' })?.message).toBe(
        'Origin "http://evil.example" is not in allowedOrigins (--allowed_origins)',
      )
    })

    it('refuses a cross-site browser request without an Origin (Sec-Fetch-Site: cross-site)', () => {
      expect(codeOf(check, { 'sec-fetch-site': 'cross-site', host: '127.0.0.1:1' })).toBe('ERR_GRAPE_ORIGIN')
      expect(check({ 'sec-fetch-site': 'none', host: '127.0.0.1:1' })).toBeUndefined()
    })

    it('refuses a Host that is a DNS name other than localhost with ERR_GRAPE_HOST naming it (DNS rebinding)', () => {
      for (const host of ['evil.example:30001', 'localhost.evil.example', '2130706433:30001', 'a b', '::1']) {
        expect(codeOf(check, { host }), host).toBe('ERR_GRAPE_HOST')
      }
      expect(check({ host: 'evil.example:30001' })?.message).toBe(
        'Host "evil.example:30001" is not this Grape\'s; add it to allowedHosts (--allowed_hosts)',
      )
    })
  })

  it('lets in the name the API is bound to', () => {
    const check = guard({ host: 'Grape.Internal' })
    expect(check({ host: 'grape.internal:30001' })).toBeUndefined()
    expect(codeOf(check, { host: 'other.internal:30001' })).toBe('ERR_GRAPE_HOST')
  })

  it('lets in the origins of allowedOrigins, whatever the case, even cross-site; others are still refused', () => {
    const check = guard({ allowedOrigins: ['https://dash.example'] })
    const headers = { host: '127.0.0.1:30001', 'sec-fetch-site': 'cross-site' }
    expect(check({ ...headers, origin: 'https://dash.example' })).toBeUndefined()
    expect(check({ ...headers, origin: 'HTTPS://DASH.EXAMPLE' })).toBeUndefined()
    expect(codeOf(check, { ...headers, origin: 'https://dash.example:8443' })).toBe('ERR_GRAPE_ORIGIN')
    expect(codeOf(check, { ...headers, origin: 'http://dash.example' })).toBe('ERR_GRAPE_ORIGIN')
  })

  it("lets in every origin with ['*'], but still checks Host", () => {
    const check = guard({ allowedOrigins: ['*'] })
    expect(
      check({ origin: 'http://evil.example', host: '127.0.0.1:1', 'sec-fetch-site': 'cross-site' }),
    ).toBe(undefined)
    expect(codeOf(check, { origin: 'http://evil.example', host: 'evil.example:1' })).toBe('ERR_GRAPE_HOST')
  })

  it('lets in the names of allowedHosts, on any port or only on the port given', () => {
    const check = guard({ allowedHosts: ['grape.internal', 'api.internal:30001'] })
    expect(check({ host: 'grape.internal:1' })).toBeUndefined()
    expect(check({ host: 'GRAPE.internal' })).toBeUndefined()
    expect(check({ host: 'api.internal:30001' })).toBeUndefined()
    expect(codeOf(check, { host: 'api.internal:30002' })).toBe('ERR_GRAPE_HOST')
    expect(codeOf(check, { host: 'api.internal' })).toBe('ERR_GRAPE_HOST')
    expect(check({ host: 'localhost:1' })).toBeUndefined()
  })

  it("lets in any Host with ['*'], but still refuses an Origin", () => {
    const check = guard({ allowedHosts: ['*'] })
    expect(check({ host: 'evil.example:30001' })).toBeUndefined()
    expect(codeOf(check, { host: 'evil.example', origin: 'http://evil.example' })).toBe('ERR_GRAPE_ORIGIN')
  })
})

describe('parseHostHeader()', () => {
  it.each([
    ['127.0.0.1:30001', '127.0.0.1', '30001'],
    ['Grape.Example', 'grape.example', undefined],
    ['[::1]:80', '[::1]', '80'],
    ['[::1]', '[::1]', undefined],
  ])('reads %j as a name and a port', (text, name, port) => {
    expect(parseHostHeader(text)).toEqual({ name, port })
  })

  it.each(['', '::1', 'a:b', 'a:1:2', 'a/b', 'user@a', '[::1', 'a:123456'])('reads %j as nothing', (text) => {
    expect(parseHostHeader(text)).toBeUndefined()
  })
})

describe('normaliseOrigin() and normaliseHost()', () => {
  it('write entries as the headers do, and refuse what no header can be', () => {
    expect(normaliseOrigin('https://A.example:443/')).toBe('https://a.example')
    expect(normaliseOrigin('https://a.example/x')).toBeUndefined()
    expect(normaliseOrigin('https://a.example:70000')).toBeUndefined()
    expect(normaliseHost('A.example:30001')).toBe('a.example:30001')
    expect(normaliseHost('[::1]:1')).toBe('[::1]:1')
    expect(normaliseHost('a.example:70000')).toBeUndefined()
    expect(normaliseHost('*')).toBe('*')
  })
})
