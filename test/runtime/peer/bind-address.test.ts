import { describe, expect, it } from 'vitest'
import { isGrenacheError } from '../../../runtime/errors.js'
import { bindHost } from '../../../runtime/peer/bind-address.js'

const request = { what: 'RpcServer listen[0] (http)', option: 'listen[0].host' }

function mismatch(run: () => unknown): string {
  try {
    run()
  } catch (err) {
    if (isGrenacheError(err, 'ERR_ANNOUNCE_MISMATCH')) return err.message
    throw err
  }
  throw new Error('expected ERR_ANNOUNCE_MISMATCH')
}

describe('bindHost()', () => {
  it('binds 127.0.0.1, or the given host, when the Grape cannot tell where announces go', () => {
    expect(bindHost({ ...request, host: undefined }, undefined)).toBe('127.0.0.1')
    expect(bindHost({ ...request, host: undefined }, [])).toBe('127.0.0.1')
    expect(bindHost({ ...request, host: '0.0.0.0' }, undefined)).toBe('0.0.0.0')
  })

  it('binds the one address announces are stored at when no host is given', () => {
    expect(bindHost({ ...request, host: undefined }, ['127.0.0.2'])).toBe('127.0.0.2')
  })

  it('accepts a host that is the announced address or a wildcard over it', () => {
    expect(bindHost({ ...request, host: '127.0.0.2' }, ['127.0.0.2'])).toBe('127.0.0.2')
    expect(bindHost({ ...request, host: '0.0.0.0' }, ['127.0.0.1', '127.0.0.2'])).toBe('0.0.0.0')
  })

  it('refuses with ERR_ANNOUNCE_MISMATCH a host the announced address does not reach, naming both', () => {
    const message = mismatch(() => bindHost({ ...request, host: '127.0.0.1' }, ['127.0.0.2']))
    expect(message).toContain('RpcServer listen[0] (http)')
    expect(message).toContain('binds 127.0.0.1 (listen[0].host) but is announced at 127.0.0.2')
  })

  it('refuses to pick one of several announced addresses', () => {
    const message = mismatch(() => bindHost({ ...request, host: undefined }, ['127.0.0.1', '127.0.0.2']))
    expect(message).toContain('several addresses (127.0.0.1, 127.0.0.2)')
  })

  it('refuses an announced address that is not this host’s: the Grape runs elsewhere', () => {
    // 192.0.2.0/24 is TEST-NET-1: never an address of a test machine.
    const message = mismatch(() => bindHost({ ...request, host: '0.0.0.0' }, ['192.0.2.7']))
    expect(message).toContain('192.0.2.7, not an address of this host')
  })

  it('skips the check with check: false', () => {
    expect(bindHost({ ...request, host: '127.0.0.1', check: false }, ['127.0.0.2'])).toBe('127.0.0.1')
    expect(bindHost({ ...request, host: undefined, check: false }, ['192.0.2.7'])).toBe('192.0.2.7')
  })
})
