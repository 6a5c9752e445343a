import { describe, expect, it } from 'vitest'
import { GrenacheError } from '../../../runtime/errors.js'
import { type LinkOptions, resolveLinkOptions } from '../../../runtime/link/link-options.js'

const HOUR_MS = 60 * 60 * 1000
const GRAPE = 'http://127.0.0.1:30001'

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

/** Resolves `{ grape: GRAPE, ...extra }`, taking any value (as a JavaScript caller could pass). */
const resolveWith = (extra: Record<string, unknown>) =>
  resolveLinkOptions({ grape: GRAPE, ...extra } as unknown as LinkOptions)

describe('resolveLinkOptions()', () => {
  it('fills every default documented in README', () => {
    const resolved = resolveLinkOptions({ grape: GRAPE })
    expect(resolved).toEqual({
      grape: new URL(GRAPE),
      requestTimeoutMs: 2500,
      maxAttempts: 3,
      lookupCacheMaxAgeMs: 10_000,
      lookupRefreshMs: 1000,
      lookupCacheMaxNames: 2500,
      announceIntervalMs: 30_000,
      announceTimeoutMs: 10_000,
      connections: 8,
    })
    expect(resolved.grape).toBeInstanceOf(URL)
  })

  it('keeps every valid value given', () => {
    const options: Required<LinkOptions> = {
      grape: 'https://grape.example:443/base',
      requestTimeoutMs: HOUR_MS,
      maxAttempts: 100,
      lookupCacheMaxAgeMs: 0,
      lookupRefreshMs: 0,
      lookupCacheMaxNames: 1,
      announceIntervalMs: 100,
      announceTimeoutMs: 1,
      connections: 1024,
    }
    expect(resolveLinkOptions(options)).toEqual({ ...options, grape: new URL(options.grape) })
  })

  it('keeps connections: 0 (a connection per call)', () => {
    expect(resolveLinkOptions({ grape: 'http://127.0.0.1:30001', connections: 0 }).connections).toBe(0)
  })

  describe('grape', () => {
    it('keeps a path prefix', () => {
      expect(resolveLinkOptions({ grape: 'http://127.0.0.1:30001/grape/' }).grape.pathname).toBe('/grape/')
    })

    it.each([
      [undefined, 'must be a non-empty string'],
      ['', 'must be a non-empty string'],
      [30001, 'must be a non-empty string'],
      ['127.0.0.1:30001x', 'must be a URL such as "http://127.0.0.1:30001"'],
      ['not a url', 'must be a URL such as "http://127.0.0.1:30001"'],
      ['ftp://127.0.0.1:30001', 'must be an http: or https: URL'],
      ['ws://127.0.0.1:30001', 'must be an http: or https: URL'],
      ['http://127.0.0.1:30001/?x=1', 'must not have a query or a fragment'],
      ['http://127.0.0.1:30001/#top', 'must not have a query or a fragment'],
    ])('rejects %j: %s', (grape, rule) => {
      const err = thrown(() => resolveLinkOptions({ grape } as unknown as LinkOptions))
      expect(err.code).toBe('ERR_INVALID_OPTION')
      expect(err.message).toBe(`options.grape ${rule}, got ${JSON.stringify(grape) ?? 'undefined'}`)
    })
  })

  it.each<[string, unknown, string]>([
    ['requestTimeoutMs', 0, `must be an integer from 1 to ${HOUR_MS}`],
    ['requestTimeoutMs', HOUR_MS + 1, `must be an integer from 1 to ${HOUR_MS}`],
    ['requestTimeoutMs', '2500', `must be an integer from 1 to ${HOUR_MS}`],
    ['maxAttempts', 0, 'must be an integer from 1 to 100'],
    ['maxAttempts', 101, 'must be an integer from 1 to 100'],
    ['maxAttempts', 1.5, 'must be an integer from 1 to 100'],
    ['lookupCacheMaxAgeMs', -1, `must be an integer from 0 to ${HOUR_MS}`],
    ['lookupCacheMaxAgeMs', HOUR_MS + 1, `must be an integer from 0 to ${HOUR_MS}`],
    ['lookupRefreshMs', -1, `must be an integer from 0 to ${HOUR_MS}`],
    ['lookupCacheMaxNames', 0, 'must be an integer from 1 to'],
    ['announceIntervalMs', 99, `must be an integer from 100 to ${HOUR_MS}`],
    ['announceIntervalMs', HOUR_MS + 1, `must be an integer from 100 to ${HOUR_MS}`],
    ['announceTimeoutMs', 0, `must be an integer from 1 to ${HOUR_MS}`],
    ['connections', -1, 'must be an integer from 0 to 1024'],
    ['connections', 1025, 'must be an integer from 0 to 1024'],
    ['connections', Number.NaN, 'must be an integer from 0 to 1024'],
  ])('rejects %s = %j with ERR_INVALID_OPTION naming the option and the rule', (name, value, rule) => {
    const err = thrown(() => resolveWith({ [name]: value }))
    expect(err.code).toBe('ERR_INVALID_OPTION')
    expect(err.message).toContain(`options.${name} ${rule}`)
  })

  it.each([null, undefined, GRAPE, 5])('rejects options %j that are not an object', (options) => {
    const err = thrown(() => resolveLinkOptions(options as unknown as LinkOptions))
    expect(err.code).toBe('ERR_INVALID_OPTION')
    expect(err.message).toContain('must be an object')
  })
})
