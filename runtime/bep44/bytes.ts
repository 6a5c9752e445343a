import { createHash } from 'node:crypto'

const encoder = new TextEncoder()

/** UTF-8 bytes of a string. */
export function utf8(text: string): Uint8Array {
  return encoder.encode(text)
}

export function concatBytes(parts: readonly Uint8Array[]): Uint8Array {
  return Buffer.concat(parts)
}

export function sha1Hex(...parts: Uint8Array[]): string {
  const hash = createHash('sha1')
  for (const part of parts) hash.update(part)
  return hash.digest('hex')
}

export function toHex(bytes: Uint8Array): string {
  return Buffer.from(bytes.buffer, bytes.byteOffset, bytes.byteLength).toString('hex')
}

/** Decodes hex of exactly `bytes` bytes (any case); undefined when it is not. */
export function fromHex(text: unknown, bytes: number): Uint8Array | undefined {
  if (typeof text !== 'string' || text.length !== bytes * 2 || !/^[0-9a-fA-F]*$/.test(text)) return undefined
  return Buffer.from(text, 'hex')
}
