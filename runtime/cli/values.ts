import { decodeUtf8, readAll, UsageError } from './io.js'

/** The DHT takes values under 1000 bytes (bittorrent-dht's `v.length < 1000`). */
export const MAX_VALUE_BYTES = 999
export const MAX_SALT_BYTES = 64

/** The value of `put`: the operands joined by spaces, or standard input (`-` or no operand). */
export async function readValue(
  operands: readonly string[],
  stdin: NodeJS.ReadableStream & { isTTY?: boolean },
): Promise<string> {
  if (operands.length > 0 && !(operands.length === 1 && operands[0] === '-')) return operands.join(' ')
  if (operands.length === 0 && stdin.isTTY) {
    throw new UsageError('missing VALUE: give it as arguments, or on standard input')
  }
  const text = decodeUtf8(await readAll(stdin))
  if (text === undefined) throw new UsageError('the value on standard input is not UTF-8 text')
  // As "$(cat file)" would: `put < file` and `put "$(cat file)"` store the same value.
  return text.replace(/\n+$/, '')
}

export function checkValue(value: string): void {
  const bytes = Buffer.byteLength(value)
  if (bytes > MAX_VALUE_BYTES)
    throw new UsageError(`value is too big: ${bytes} bytes, the DHT stores at most ${MAX_VALUE_BYTES}`)
}

/** `-s SALT` as grenache-cli checks it, counting bytes. */
export function checkSalt(salt: string | undefined): string | undefined {
  if (salt === undefined) return undefined
  if (salt === '') throw new UsageError('empty salt string')
  const bytes = Buffer.byteLength(salt)
  if (bytes > MAX_SALT_BYTES)
    throw new UsageError(`salt is too big: ${bytes} bytes, at most ${MAX_SALT_BYTES}`)
  return salt
}

const INT63_MAX = 2n ** 63n - 1n

/**
 * A seq or cas: decimal digits, at most 2^63 − 1 as BEP 44 says, and at most 2^53 − 1 because a
 * Grape reads JSON numbers as doubles (grenache-cli sends 2^53 + 1 as 2^53 and signs the other).
 */
export function parseCounter(text: string | undefined, what: string): number | undefined {
  if (text === undefined) return undefined
  if (!/^[0-9]+$/.test(text)) throw new UsageError(`invalid ${what}`)
  const value = BigInt(text)
  if (value > INT63_MAX) throw new UsageError(`${what} too big`)
  if (value > BigInt(Number.MAX_SAFE_INTEGER)) {
    throw new UsageError(
      `${what} ${text} is above ${Number.MAX_SAFE_INTEGER}: a Grape reads JSON numbers as doubles and would change it`,
    )
  }
  return Number(value)
}
