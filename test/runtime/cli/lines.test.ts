import { PassThrough, Readable } from 'node:stream'
import { describe, expect, it } from 'vitest'
import { entries } from '../../../runtime/cli/lines.js'

async function collect(
  input: NodeJS.ReadableStream,
  signal = new AbortController().signal,
): Promise<string[]> {
  const out: string[] = []
  for await (const entry of entries(input, signal)) out.push(entry)
  return out
}

describe('entries', () => {
  it('strips comments with the blanks before them, trims, and skips blank lines', async () => {
    const input = Readable.from([
      'svc-a 1234 # a comment\n',
      '  svc-b 5678\t; another\n',
      '\n',
      '   \t \n',
      '# only a comment\n',
      '; only a comment\n',
      'svc with spaces 1#no blank\r\n',
      'last line without newline',
    ])
    expect(await collect(input)).toEqual([
      'svc-a 1234',
      'svc-b 5678',
      'svc with spaces 1',
      'last line without newline',
    ])
  })

  it('joins a line split across chunks', async () => {
    expect(await collect(Readable.from(['ab', 'c\nd', 'ef\n']))).toEqual(['abc', 'def'])
  })

  it('yields nothing for empty input', async () => {
    expect(await collect(Readable.from([]))).toEqual([])
  })

  it('yields each line as it arrives, before the input ends', async () => {
    const input = new PassThrough()
    const lines = entries(input, new AbortController().signal)
    input.write('one\n')
    expect(await lines.next()).toEqual({ done: false, value: 'one' })
    input.write('# skipped\ntw')
    input.write('o\n')
    expect(await lines.next()).toEqual({ done: false, value: 'two' })
    input.end()
    expect(await lines.next()).toEqual({ done: true, value: undefined })
  })

  it('ends a pending read when the signal aborts', async () => {
    const input = new PassThrough()
    const controller = new AbortController()
    const lines = entries(input, controller.signal)
    input.write('one\n')
    expect(await lines.next()).toEqual({ done: false, value: 'one' })
    const pending = lines.next()
    controller.abort()
    expect(await pending).toEqual({ done: true, value: undefined })
    expect(input.writableEnded).toBe(false)
  })

  it('yields no line that was buffered when the signal aborted', async () => {
    const input = new PassThrough()
    const controller = new AbortController()
    const lines = entries(input, controller.signal)
    input.write('one\ntwo\nthree\n')
    expect(await lines.next()).toEqual({ done: false, value: 'one' })
    controller.abort()
    expect(await lines.next()).toEqual({ done: true, value: undefined })
  })

  it('yields nothing when the signal is already aborted', async () => {
    const controller = new AbortController()
    controller.abort()
    expect(await collect(Readable.from(['one\n', 'two\n']), controller.signal)).toEqual([])
  })
})
