import { describe, expect, it } from 'vitest'
import {
  covers,
  isLoopback,
  isWildcard,
  localAddresses,
  routeSource,
} from '../../../runtime/util/local-address.js'

describe('local addresses', () => {
  it('tells wildcards and loopback addresses apart from the others', () => {
    expect(['0.0.0.0', '::'].every(isWildcard)).toBe(true)
    expect(isWildcard('127.0.0.1')).toBe(false)
    expect(['127.0.0.1', '127.9.9.9', '::1', 'localhost'].every(isLoopback)).toBe(true)
    expect(isLoopback('10.0.0.1')).toBe(false)
  })

  it('says a bind covers the same address and every one of its family under a wildcard', () => {
    expect(covers('127.0.0.1', '127.0.0.1')).toBe(true)
    expect(covers('127.0.0.1', '127.0.0.2')).toBe(false)
    expect(covers('0.0.0.0', '10.0.0.1')).toBe(true)
    expect(covers('0.0.0.0', '::1')).toBe(false)
    expect(covers('::', '10.0.0.1')).toBe(true)
    expect(covers('grape.internal', '10.0.0.1')).toBeUndefined()
  })

  it('lists this host’s loopback address among its own', () => {
    expect(localAddresses().has('127.0.0.1')).toBe(true)
  })

  it('finds the source address of the route to a host without sending anything', async () => {
    expect(await routeSource('127.0.0.1')).toBe('127.0.0.1')
    expect(await routeSource('127.0.0.5')).toMatch(/^127\./)
    expect(await routeSource('grape.internal')).toBeUndefined()
  })
})
