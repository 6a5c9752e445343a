import { createHash } from 'node:crypto'
import { describe, expect, it } from 'vitest'
import { immutableTarget, mutableTarget } from '../../../runtime/bep44/targets.js'

const sha1 = (...parts: Array<Buffer | Uint8Array | string>): string => {
  const hash = createHash('sha1')
  for (const part of parts) hash.update(part)
  return hash.digest('hex')
}

// BEP 44 test vectors (shared/reference/grenache-cli-bep44.md §6).
const PUBLIC_KEY = Buffer.from('77ff84905a91936367c01360803104f92432fcd904a43511876df5cdf3e7e548', 'hex')

describe('immutableTarget()', () => {
  it("gives the BEP 44 vector for 'Hello World!'", () => {
    expect(immutableTarget('Hello World!')).toBe('e5f96f6f38320f0f33959cb4d3d656452117aadb')
  })

  it("gives the key a Grape answers for 'hello world'", () => {
    expect(immutableTarget('hello world')).toBe('6d33adc2b6b2c14c3036feefb7fedbca1a880527')
  })

  it('hashes a string and its UTF-8 bytes alike', () => {
    expect(immutableTarget(Buffer.from('Hello World!'))).toBe(immutableTarget('Hello World!'))
    expect(immutableTarget(new Uint8Array(Buffer.from('héllo')))).toBe(immutableTarget('héllo'))
  })

  it('counts non-ASCII values in bytes: SHA-1 of <byte length>:<bytes>', () => {
    expect(immutableTarget('é')).toBe(sha1(Buffer.from('2:é')))
    expect(immutableTarget('€€')).toBe(sha1(Buffer.from('6:€€')))
    expect(immutableTarget('😀')).toBe(sha1(Buffer.from('4:😀')))
  })

  it('hashes the empty value and binary values', () => {
    expect(immutableTarget('')).toBe(sha1('0:'))
    const binary = Uint8Array.from([0, 0xff, 0x80])
    expect(immutableTarget(binary)).toBe(sha1(Buffer.from('3:'), binary))
  })

  it('returns 40 lower-case hex digits', () => {
    expect(immutableTarget('anything')).toMatch(/^[0-9a-f]{40}$/)
  })
})

describe('mutableTarget()', () => {
  it('gives the BEP 44 case 1 target without a salt', () => {
    expect(mutableTarget(PUBLIC_KEY)).toBe('4a533d47ec9c7d95b1ad75f576cffc641853b750')
  })

  it('gives the BEP 44 case 2 target with salt "foobar"', () => {
    expect(mutableTarget(PUBLIC_KEY, Buffer.from('foobar'))).toBe('411eba73b6f087ca51a3795d9c8c938d365e32c1')
  })

  it('treats an empty salt as no salt', () => {
    expect(mutableTarget(PUBLIC_KEY, new Uint8Array(0))).toBe('4a533d47ec9c7d95b1ad75f576cffc641853b750')
    expect(mutableTarget(PUBLIC_KEY, undefined)).toBe('4a533d47ec9c7d95b1ad75f576cffc641853b750')
  })

  it('hashes the public key followed by the salt bytes, non-ASCII and binary salts included', () => {
    expect(mutableTarget(PUBLIC_KEY, Buffer.from('sälz'))).toBe(sha1(PUBLIC_KEY, Buffer.from('sälz')))
    const binary = Uint8Array.from([0xff, 0, 1])
    expect(mutableTarget(PUBLIC_KEY, binary)).toBe(sha1(PUBLIC_KEY, binary))
  })

  it('gives different targets for different salts of one key', () => {
    expect(mutableTarget(PUBLIC_KEY, Buffer.from('a'))).not.toBe(mutableTarget(PUBLIC_KEY, Buffer.from('b')))
  })
})
