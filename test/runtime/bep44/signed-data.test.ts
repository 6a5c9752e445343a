import { describe, expect, it } from 'vitest'
import { createSigner, verifySignature } from '../../../runtime/bep44/ed25519.js'
import { encodeSignedData } from '../../../runtime/bep44/signed-data.js'

const bytes = (text: string): Uint8Array => new Uint8Array(Buffer.from(text))
const text = (data: Uint8Array): string => Buffer.from(data).toString('latin1')

describe('encodeSignedData()', () => {
  it('encodes BEP 44 case 1 (no salt) as 3:seqi1e1:v12:Hello World!', () => {
    expect(text(encodeSignedData({ v: bytes('Hello World!'), seq: 1 }))).toBe('3:seqi1e1:v12:Hello World!')
  })

  it('encodes BEP 44 case 2 (salt foobar) with the salt first', () => {
    expect(text(encodeSignedData({ v: bytes('Hello World!'), seq: 1, salt: bytes('foobar') }))).toBe(
      '4:salt6:foobar3:seqi1e1:v12:Hello World!',
    )
  })

  it('produces bytes the BEP 44 vector signatures verify against', () => {
    const signer = createSigner(
      Buffer.from(
        'e06d3183d14159228433ed599221b80bd0a5ce8352e4bdf0262f76786ef1c74d' +
          'b7e7a9fea2c0eb269d61e3b38e450a22e754941ac78479d6c54e1faf6037881d',
        'hex',
      ),
    )
    const sig = Buffer.from(
      '6834284b6b24c3204eb2fea824d82f88883a3d95e8b4a21b8c0ded553d17d17d' +
        'df9a8a7104b1258f30bed3787e6cb896fca78c58f8e03b5f18f14951a87d9a08',
      'hex',
    )
    const signed = encodeSignedData({ v: bytes('Hello World!'), seq: 1, salt: bytes('foobar') })
    expect(verifySignature(sig, signed, signer.publicKey)).toBe(true)
  })

  it('leaves out an empty or absent salt', () => {
    const expected = '3:seqi5e1:v1:x'
    expect(text(encodeSignedData({ v: bytes('x'), seq: 5 }))).toBe(expected)
    expect(text(encodeSignedData({ v: bytes('x'), seq: 5, salt: undefined }))).toBe(expected)
    expect(text(encodeSignedData({ v: bytes('x'), seq: 5, salt: new Uint8Array(0) }))).toBe(expected)
  })

  it('counts non-ASCII values and salts in bytes, not characters', () => {
    const signed = encodeSignedData({ v: bytes('héllo €'), seq: 2, salt: bytes('sälz') })
    const expected = Buffer.concat([
      Buffer.from('4:salt5:'),
      Buffer.from('sälz'),
      Buffer.from('3:seqi2e1:v10:'),
      Buffer.from('héllo €'),
    ])
    expect(Buffer.from(signed).equals(expected)).toBe(true)
  })

  it('copies binary values and salts byte for byte', () => {
    const v = Uint8Array.from([0, 255, 58, 101, 10])
    const salt = Uint8Array.from([0xff, 0x00])
    const signed = Buffer.from(encodeSignedData({ v, seq: 0, salt }))
    const expected = Buffer.concat([
      Buffer.from('4:salt2:'),
      Buffer.from(salt),
      Buffer.from('3:seqi0e1:v5:'),
      Buffer.from(v),
    ])
    expect(signed.equals(expected)).toBe(true)
  })

  it('writes seq in plain decimal, as large as grenache-cli microsecond seqs and beyond', () => {
    expect(text(encodeSignedData({ v: bytes(''), seq: 0 }))).toBe('3:seqi0e1:v0:')
    expect(text(encodeSignedData({ v: bytes('a'), seq: 1_712_345_678_901_234 }))).toBe(
      '3:seqi1712345678901234e1:v1:a',
    )
    expect(text(encodeSignedData({ v: bytes('a'), seq: Number.MAX_SAFE_INTEGER }))).toBe(
      '3:seqi9007199254740991e1:v1:a',
    )
  })
})
