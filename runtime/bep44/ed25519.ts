import { createHash, randomBytes } from 'node:crypto'
import * as ed from '@noble/ed25519'
import { GrenacheError } from '../errors.js'

// bittorrent-dht verifies synchronously, so noble's sync API needs a SHA-512.
ed.hashes.sha512 = (message) => new Uint8Array(createHash('sha512').update(message).digest())

const L = 2n ** 252n + 27742317777372353535851937790883648493n
const MINUS_G = ed.Point.BASE.negate()
let baseMultiplies = 0

/**
 * k·G. noble's first multiply of G builds a 4224-point table (about 35 ms), which pays off from a
 * process's third multiply on; a process that signs once (`grenache put -m`) makes two (the public
 * key and the nonce point). Those go through noble's constant-time ladder on −G instead, as noble
 * multiplies any other point: (L − k)·(−G) = k·G.
 */
function baseMultiply(k: bigint): ed.Point {
  if (baseMultiplies < 2) {
    baseMultiplies++
    return MINUS_G.multiply(L - k)
  }
  return ed.Point.BASE.multiply(k)
}

/** Signs BEP 44 data with one ed25519 key. */
export interface Signer {
  /** The 32-byte public key (`k` on the wire). */
  readonly publicKey: Uint8Array
  /** A 64-byte ed25519 signature of `message`. */
  sign(message: Uint8Array): Uint8Array
}

export interface KeyPair {
  /** 32-byte public key. */
  publicKey: Uint8Array
  /** 32-byte RFC 8032 seed. */
  secretKey: Uint8Array
}

/** A new random key pair. */
export function generateKeyPair(): KeyPair {
  const secretKey = new Uint8Array(randomBytes(32))
  return { secretKey, publicKey: ed.getPublicKey(secretKey) }
}

/**
 * A signer from a secret key: a 32-byte seed (RFC 8032, what `generateKeyPair` makes) or the
 * 64-byte expanded key grenache-cli keeps in `~/.grenache-cli/key` (the seed cannot be recovered
 * from it, so it is signed with directly). `publicKey`, when given, must match the secret.
 */
export function createSigner(secretKey: Uint8Array, publicKey?: Uint8Array): Signer {
  const signer = secretKey.length === 32 ? seedSigner(secretKey) : expandedSigner(secretKey)
  if (publicKey && !equalBytes(publicKey, signer.publicKey)) {
    throw new GrenacheError('ERR_INVALID_ARGUMENT', 'the public key does not belong to the secret key')
  }
  return signer
}

/** grenache-cli's 64-byte expanded secret of a seed: SHA-512(seed) with the scalar half clamped. */
export function expandSeed(seed: Uint8Array): Uint8Array {
  const { head, prefix } = ed.utils.getExtendedPublicKey(seed)
  return Buffer.concat([head, prefix])
}

/** Strict (RFC 8032) ed25519 verification; false for any malformed input, never throws. */
export function verifySignature(signature: Uint8Array, message: Uint8Array, publicKey: Uint8Array): boolean {
  if (signature.length !== 64 || publicKey.length !== 32) return false
  try {
    return ed.verify(signature, message, publicKey, { zip215: false })
  } catch {
    return false
  }
}

function seedSigner(seed: Uint8Array): Signer {
  const secret = Uint8Array.from(seed)
  return { publicKey: ed.getPublicKey(secret), sign: (message) => ed.sign(message, secret) }
}

function expandedSigner(expanded: Uint8Array): Signer {
  if (expanded.length !== 64) {
    throw new GrenacheError(
      'ERR_INVALID_ARGUMENT',
      `a secret key must be a 32-byte seed or a 64-byte expanded key, got ${expanded.length} bytes`,
    )
  }
  const scalar = ed.etc.mod(bytesToNumberLE(expanded.subarray(0, 32)), L)
  if (scalar === 0n) throw new GrenacheError('ERR_INVALID_ARGUMENT', 'the expanded secret key is zero')
  const prefix = Uint8Array.from(expanded.subarray(32))
  const publicKey = baseMultiply(scalar).toBytes()
  return {
    publicKey,
    sign(message) {
      // RFC 8032 §5.1.6 from step 2, with the expanded key standing in for SHA-512(seed).
      const r = ed.etc.mod(bytesToNumberLE(sha512(prefix, message)), L)
      const R = baseMultiply(r).toBytes()
      const k = ed.etc.mod(bytesToNumberLE(sha512(R, publicKey, message)), L)
      const S = ed.etc.mod(r + k * scalar, L)
      return Buffer.concat([R, numberToBytesLE(S, 32)])
    },
  }
}

function sha512(...parts: Uint8Array[]): Uint8Array {
  const hash = createHash('sha512')
  for (const part of parts) hash.update(part)
  return hash.digest()
}

function bytesToNumberLE(bytes: Uint8Array): bigint {
  return BigInt(`0x${Buffer.from(bytes).reverse().toString('hex') || '0'}`)
}

function numberToBytesLE(value: bigint, length: number): Uint8Array {
  return Buffer.from(value.toString(16).padStart(length * 2, '0'), 'hex').reverse()
}

function equalBytes(a: Uint8Array, b: Uint8Array): boolean {
  return a.length === b.length && Buffer.compare(a, b) === 0
}
