import { describe, expect, it } from 'vitest'
import { verifySignature } from '../../../runtime/bep44/ed25519.js'
import { GrenacheError } from '../../../runtime/errors.js'
import { type GrapeOptions, resolveGrapeOptions } from '../../../runtime/grape/grape-options.js'

const DAY_MS = 24 * 60 * 60 * 1000

/** Runs `fn` and returns the GrenacheError it threw. */
function thrown(fn: () => unknown): GrenacheError {
  try {
    fn()
  } catch (err) {
    expect(err).toBeInstanceOf(GrenacheError)
    return err as GrenacheError
  }
  throw new Error('expected a throw')
}

/** Resolves `{ apiPort: 0, ...extra }`, taking any value (as a JavaScript caller could pass). */
const resolveWith = (extra: Record<string, unknown>) =>
  resolveGrapeOptions({ apiPort: 0, ...extra } as unknown as GrapeOptions)

describe('resolveGrapeOptions()', () => {
  it('fills every default documented in README', () => {
    expect(resolveGrapeOptions({ apiPort: 30001 })).toEqual({
      apiPort: 30001,
      dhtPort: 20001,
      host: '127.0.0.1',
      selfAnnounce: false,
      dhtHost: '0.0.0.0',
      bootstrap: [],
      dhtConcurrency: 16,
      dhtK: 8,
      dhtMaxTables: 5000,
      dhtMaxValues: 5000,
      dhtPeerMaxAgeMs: 120_000,
      dhtNodeLivenessMs: 300_000,
      maxPayloadBytes: 8192,
      lookupCacheMaxAgeMs: 60_000,
      lookupRefreshMs: 1000,
      verify: verifySignature,
      allowedOrigins: [],
      allowedHosts: [],
      apiLimits: {
        maxConnections: 4096,
        headersTimeoutMs: 10_000,
        requestTimeoutMs: 30_000,
        idleTimeoutMs: 5000,
      },
    })
  })

  it('keeps every valid value given', () => {
    const verify = () => true
    const options: Required<GrapeOptions> = {
      apiPort: 0,
      dhtPort: 0,
      host: '0.0.0.0',
      dhtHost: '127.0.0.1',
      bootstrap: ['127.0.0.1:20002', 'grape.example:1'],
      dhtConcurrency: 256,
      dhtK: 20,
      dhtMaxTables: 1,
      dhtMaxValues: 1,
      dhtPeerMaxAgeMs: 1000,
      dhtNodeLivenessMs: DAY_MS,
      maxPayloadBytes: 64,
      lookupCacheMaxAgeMs: 100,
      lookupRefreshMs: 0,
      verify,
      allowedOrigins: ['https://dash.example:8443', 'null'],
      allowedHosts: ['grape.internal', 'grape.internal:30001', '[::1]:30001'],
      apiLimits: { maxConnections: 1, headersTimeoutMs: 1, requestTimeoutMs: 1, idleTimeoutMs: 0 },
    }
    expect(resolveGrapeOptions(options)).toEqual({ ...options, selfAnnounce: true })
  })

  it('defaults lookupCacheMaxAgeMs to half of dhtPeerMaxAgeMs, rounded up', () => {
    expect(resolveGrapeOptions({ apiPort: 0, dhtPeerMaxAgeMs: 6000 }).lookupCacheMaxAgeMs).toBe(3000)
    expect(resolveGrapeOptions({ apiPort: 0, dhtPeerMaxAgeMs: 1001 }).lookupCacheMaxAgeMs).toBe(501)
    expect(
      resolveGrapeOptions({ apiPort: 0, dhtPeerMaxAgeMs: 6000, lookupCacheMaxAgeMs: 200 })
        .lookupCacheMaxAgeMs,
    ).toBe(200)
  })

  describe('selfAnnounce', () => {
    it('is on only when host is given, whatever its value', () => {
      expect(resolveGrapeOptions({ apiPort: 0 }).selfAnnounce).toBe(false)
      expect(resolveGrapeOptions({ apiPort: 0, host: '127.0.0.1' }).selfAnnounce).toBe(true)
      expect(resolveGrapeOptions({ apiPort: 0, host: '0.0.0.0' }).selfAnnounce).toBe(true)
    })
  })

  describe('verify', () => {
    it('maps true to ed25519, false to none and keeps a function', () => {
      const own = () => false
      expect(resolveGrapeOptions({ apiPort: 0, verify: true }).verify).toBe(verifySignature)
      expect(resolveGrapeOptions({ apiPort: 0, verify: false }).verify).toBeNull()
      expect(resolveGrapeOptions({ apiPort: 0, verify: own }).verify).toBe(own)
    })
  })

  describe('allowedOrigins', () => {
    it('keeps origins as a browser writes them: lower case, no trailing slash, no default port', () => {
      expect(
        resolveGrapeOptions({
          apiPort: 0,
          allowedOrigins: ['HTTPS://Dash.Example/', 'http://a.example:80', 'http://[::1]:8080', '*', 'null'],
        }).allowedOrigins,
      ).toEqual(['https://dash.example', 'http://a.example', 'http://[::1]:8080', '*', 'null'])
    })

    it.each([
      [['https://dash.example/app'], 0],
      [['https://dash.example', 'dash.example'], 1],
      [['https://dash.example?x=1'], 0],
      [['https://user:pw@dash.example'], 0],
      [['file:///tmp/x.html'], 0],
      [[''], 0],
      [[42], 0],
    ])('rejects %j naming the bad entry and the rule', (allowedOrigins, index) => {
      const err = thrown(() => resolveWith({ allowedOrigins }))
      expect(err.code).toBe('ERR_INVALID_OPTION')
      expect(err.message).toMatch(
        new RegExp(`^options\\.allowedOrigins\\[${index}\\] must be "\\*", "null" or an origin`),
      )
    })

    it('rejects a value that is not an array', () => {
      const err = thrown(() => resolveWith({ allowedOrigins: '*' }))
      expect(err.message).toBe('options.allowedOrigins must be an array of strings, got "*"')
    })
  })

  describe('allowedHosts', () => {
    it('keeps names and addresses lower-cased, with or without a port', () => {
      expect(
        resolveGrapeOptions({ apiPort: 0, allowedHosts: ['Grape.Internal', 'grape:30001', '[::1]:1', '*'] })
          .allowedHosts,
      ).toEqual(['grape.internal', 'grape:30001', '[::1]:1', '*'])
    })

    it.each([
      [['http://grape.internal'], 0],
      [['grape.internal', 'grape.internal/x'], 1],
      [['grape.internal:65536'], 0],
      [['grape.internal:'], 0],
      [['::1'], 0],
      [['[nope]'], 0],
      [[' grape'], 0],
      [[''], 0],
      [[null], 0],
    ])('rejects %j naming the bad entry and the rule', (allowedHosts, index) => {
      const err = thrown(() => resolveWith({ allowedHosts }))
      expect(err.code).toBe('ERR_INVALID_OPTION')
      expect(err.message).toMatch(new RegExp(`^options\\.allowedHosts\\[${index}\\] must be "\\*" or a host`))
    })
  })

  describe('bootstrap', () => {
    it('is copied, so later changes to the caller array do not leak in', () => {
      const bootstrap = ['127.0.0.1:20002']
      const resolved = resolveGrapeOptions({ apiPort: 0, bootstrap })
      bootstrap.push('127.0.0.1:20003')
      expect(resolved.bootstrap).toEqual(['127.0.0.1:20002'])
    })

    it('rejects a value that is not an array', () => {
      const err = thrown(() => resolveWith({ bootstrap: '127.0.0.1:20002' }))
      expect(err.code).toBe('ERR_INVALID_OPTION')
      expect(err.message).toBe('options.bootstrap must be an array of "host:port", got "127.0.0.1:20002"')
    })

    it.each([
      [['127.0.0.1'], 0],
      [['127.0.0.1:20002', '127.0.0.1:0'], 1],
      [['127.0.0.1:20002', 'a:1', 'b:65536'], 2],
      [['', '127.0.0.1:20002'], 0],
      [[20002], 0],
      [[null], 0],
    ])('rejects %j naming the bad entry', (bootstrap, index) => {
      const err = thrown(() => resolveWith({ bootstrap }))
      expect(err.code).toBe('ERR_INVALID_OPTION')
      expect(err.message).toMatch(new RegExp(`^options\\.bootstrap\\[${index}\\] must be `))
    })
  })

  it.each<[string, unknown, string]>([
    ['apiPort', undefined, 'must be an integer from 0 to 65535'],
    ['apiPort', -1, 'must be an integer from 0 to 65535'],
    ['apiPort', 65536, 'must be an integer from 0 to 65535'],
    ['apiPort', 1.5, 'must be an integer from 0 to 65535'],
    ['apiPort', '30001', 'must be an integer from 0 to 65535'],
    ['dhtPort', 70000, 'must be an integer from 0 to 65535'],
    ['dhtPort', '20001', 'must be an integer from 0 to 65535'],
    ['host', '', 'must be a non-empty string'],
    ['host', 127, 'must be a non-empty string'],
    ['dhtHost', '', 'must be a non-empty string'],
    ['dhtConcurrency', 0, 'must be an integer from 1 to 256'],
    ['dhtConcurrency', 257, 'must be an integer from 1 to 256'],
    ['dhtK', 0, 'must be an integer from 1 to 64'],
    ['dhtK', 8.5, 'must be an integer from 1 to 64'],
    ['dhtMaxTables', 0, 'must be an integer from 1 to'],
    ['dhtMaxValues', 0, 'must be an integer from 1 to'],
    ['dhtMaxValues', 10.5, 'must be an integer from 1 to'],
    ['dhtPeerMaxAgeMs', 999, `must be an integer from 1000 to ${DAY_MS}`],
    ['dhtPeerMaxAgeMs', DAY_MS + 1, `must be an integer from 1000 to ${DAY_MS}`],
    ['dhtNodeLivenessMs', 999, `must be an integer from 1000 to ${DAY_MS}`],
    ['maxPayloadBytes', 63, `must be an integer from 64 to ${16 * 1024 * 1024}`],
    ['maxPayloadBytes', 16 * 1024 * 1024 + 1, `must be an integer from 64 to ${16 * 1024 * 1024}`],
    ['maxPayloadBytes', Number.POSITIVE_INFINITY, 'must be an integer from 64 to'],
    ['lookupCacheMaxAgeMs', 99, `must be an integer from 100 to ${DAY_MS}`],
    ['lookupRefreshMs', -1, `must be an integer from 0 to ${DAY_MS}`],
    ['verify', 'yes', 'must be a boolean or a function'],
    ['verify', 1, 'must be a boolean or a function'],
  ])('rejects %s = %j with ERR_INVALID_OPTION naming the option and the rule', (name, value, rule) => {
    const err = thrown(() => resolveWith({ [name]: value }))
    expect(err.code).toBe('ERR_INVALID_OPTION')
    expect(err.message).toContain(`options.${name} ${rule}`)
  })

  it.each([null, undefined, 'apiPort', 30001])('rejects options %j that are not an object', (options) => {
    const err = thrown(() => resolveGrapeOptions(options as unknown as GrapeOptions))
    expect(err.code).toBe('ERR_INVALID_OPTION')
    expect(err.message).toContain('must be an object')
  })
})
