import { Readable } from 'node:stream'
import { describe, expect, it } from 'vitest'
import { UsageError } from '../../../runtime/cli/io.js'
import { checkSalt, checkValue, parseCounter, readValue } from '../../../runtime/cli/values.js'
import { usageError } from '../../helpers/usage-error.js'

/** A stdin made of `chunks`; a TTY when `tty` is set. */
function stdin(chunks: (string | Buffer)[], tty = false): Readable & { isTTY?: boolean } {
  const stream: Readable & { isTTY?: boolean } = Readable.from(
    chunks.map((chunk) => (typeof chunk === 'string' ? Buffer.from(chunk) : chunk)),
  )
  if (tty) stream.isTTY = true
  return stream
}

describe('readValue', () => {
  it('joins the operands with spaces and leaves stdin alone', async () => {
    const input = stdin(['unused'])
    expect(await readValue(['hello', 'big', ' world'], input)).toBe('hello big  world')
    expect(await readValue(['a', '-'], input)).toBe('a -')
    expect(input.readableEnded).toBe(false)
  })

  it("reads stdin for '-', stripping trailing newlines only", async () => {
    expect(await readValue(['-'], stdin(['\nline one\n', 'line two\n\n\n']))).toBe('\nline one\nline two')
  })

  it("reads stdin for '-' even on a TTY", async () => {
    expect(await readValue(['-'], stdin(['typed\n'], true))).toBe('typed')
  })

  it('reads stdin when there are no operands', async () => {
    expect(await readValue([], stdin(['piped value\n']))).toBe('piped value')
  })

  it('joins a multibyte character split across chunks', async () => {
    expect(
      await readValue([], stdin([Buffer.from([0x63, 0x61, 0x66, 0xc3]), Buffer.from([0xa9, 0x0a])])),
    ).toBe('café')
  })

  it('reads an empty stdin as an empty value', async () => {
    expect(await readValue([], stdin([]))).toBe('')
  })

  it('rejects a TTY with no operands', async () => {
    await expect(readValue([], stdin([], true))).rejects.toThrow(UsageError)
    await expect(readValue([], stdin([], true))).rejects.toThrow(/missing VALUE/)
  })

  it('rejects stdin that is not UTF-8', async () => {
    const read = readValue([], stdin([Buffer.from([0x61, 0xff, 0x62])]))
    await expect(read).rejects.toThrow(UsageError)
    await expect(readValue(['-'], stdin([Buffer.from([0xc3])]))).rejects.toThrow(/not UTF-8/)
  })
})

describe('checkValue', () => {
  it('accepts 999 bytes of multibyte text', () => {
    expect(() => checkValue(`${'é'.repeat(499)}a`)).not.toThrow()
    expect(() => checkValue('€'.repeat(333))).not.toThrow()
    expect(() => checkValue('')).not.toThrow()
  })

  it('rejects 1000 bytes, giving the byte count', () => {
    expect(usageError(() => checkValue(`${'€'.repeat(333)}a`))).toBe(
      'value is too big: 1000 bytes, the DHT stores at most 999',
    )
    // 500 characters, 1000 bytes: counted in bytes, not characters.
    expect(usageError(() => checkValue('é'.repeat(500)))).toMatch(/1000 bytes/)
  })
})

describe('checkSalt', () => {
  it('passes an absent salt through', () => {
    expect(checkSalt(undefined)).toBeUndefined()
  })

  it('rejects an empty salt', () => {
    expect(usageError(() => checkSalt(''))).toBe('empty salt string')
  })

  it('accepts 64 bytes', () => {
    expect(checkSalt('a'.repeat(64))).toBe('a'.repeat(64))
    expect(checkSalt('é'.repeat(32))).toBe('é'.repeat(32))
  })

  it('rejects 65 bytes, multibyte too', () => {
    expect(usageError(() => checkSalt('a'.repeat(65)))).toMatch(/^salt is too big: 65 bytes/)
    expect(usageError(() => checkSalt(`${'é'.repeat(32)}a`))).toMatch(/^salt is too big: 65 bytes/)
    expect(usageError(() => checkSalt('€'.repeat(22)))).toMatch(/^salt is too big: 66 bytes/)
  })
})

describe('parseCounter', () => {
  it('passes an absent counter through', () => {
    expect(parseCounter(undefined, 'sequence number')).toBeUndefined()
  })

  it.each(['', 'abc', '12a', '-1', '+1', '1.0', ' 1', '1e3', '0x10'])('rejects %j', (text) => {
    expect(usageError(() => parseCounter(text, 'sequence number'))).toBe('invalid sequence number')
  })

  it('rejects 2^63 as too big', () => {
    expect(usageError(() => parseCounter('9223372036854775808', 'sequence number'))).toBe(
      'sequence number too big',
    )
  })

  it('rejects 2^53 and up to 2^63 - 1, explaining doubles', () => {
    for (const text of ['9007199254740992', '9223372036854775807']) {
      const message = usageError(() => parseCounter(text, 'cas'))
      expect(message).toContain(text)
      expect(message).toMatch(/doubles/)
    }
  })

  it('accepts 0 to 2^53 - 1', () => {
    expect(parseCounter('0', 'sequence number')).toBe(0)
    expect(parseCounter('42', 'sequence number')).toBe(42)
    expect(parseCounter('9007199254740991', 'sequence number')).toBe(9007199254740991)
  })
})
