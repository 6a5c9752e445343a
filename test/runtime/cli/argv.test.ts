import { describe, expect, it } from 'vitest'
import { type OptionSpec, optionRows, parseCommandLine } from '../../../runtime/cli/argv.js'
import { usageError as messageOf } from '../../helpers/usage-error.js'

const SPECS: readonly OptionSpec[] = [
  { name: 'mutable', short: 'm', help: 'mutable item' },
  { name: 'salt', short: 's', value: 'SALT', help: 'salt of the item' },
  { name: 'seq', value: 'N', help: 'sequence number' },
  { name: 'tag', short: 'T', value: 'TAG', multiple: true, help: 'a tag' },
]

const parse = (...argv: string[]) => parseCommandLine(argv, SPECS)

/** The UsageError message `argv` is rejected with. */
function usageError(...argv: string[]): string {
  return messageOf(() => parse(...argv))
}

describe('parseCommandLine', () => {
  it.each([[['-s', 'v']], [['-sv']], [['--salt', 'v']], [['--salt=v']]])('reads the salt from %j', (argv) => {
    const line = parse(...argv, 'value')
    expect(line.value('salt')).toBe('v')
    expect(line.operands).toEqual(['value'])
  })

  it('reads bundled switches with a value at the end (-ms foo)', () => {
    const line = parse('-ms', 'foo', 'bar')
    expect(line.has('mutable')).toBe(true)
    expect(line.value('salt')).toBe('foo')
    expect(line.operands).toEqual(['bar'])
    expect(line.given).toEqual([
      { name: 'mutable', value: true },
      { name: 'salt', value: 'foo' },
    ])
  })

  it('recognises options after the operands', () => {
    const line = parse('hello', 'world', '-m', '--salt', 'x')
    expect(line.operands).toEqual(['hello', 'world'])
    expect(line.has('mutable')).toBe(true)
    expect(line.value('salt')).toBe('x')
  })

  it('treats everything after -- as operands', () => {
    const line = parse('-m', '--', '-s', 'x', '--salt=y', '--')
    expect(line.has('mutable')).toBe(true)
    expect(line.has('salt')).toBe(false)
    expect(line.operands).toEqual(['-s', 'x', '--salt=y', '--'])
  })

  it('keeps negative numbers as operands, in order', () => {
    const line = parse('a', '-5', 'b', '-0.3', '-m', '-.5', 'c')
    expect(line.operands).toEqual(['a', '-5', 'b', '-0.3', '-.5', 'c'])
    expect(line.given).toEqual([{ name: 'mutable', value: true }])
  })

  it('takes a negative number as the value of an option', () => {
    expect(parse('-s', '-5', 'v').value('salt')).toBe('-5')
  })

  it('keeps the operand after a negative reading whose letters name an option (-5s bar)', () => {
    // `-5s` starts with `-` and a digit, so it is one operand; `bar` must not become a salt.
    const line = parse('-5s', 'bar')
    expect(line.operands).toEqual(['-5s', 'bar'])
    expect(line.has('salt')).toBe(false)
  })

  it('keeps an argument that starts with NUL as it is, next to negative numbers (found by the fuzz)', () => {
    // The stand-ins for negative numbers start with NUL: one was restored from any such text.
    const line = parse('-5', '\u0000', '-s', '\u00001', '--seq', '-2', '\u00000')
    expect(line.operands).toEqual(['-5', '\u0000', '\u00000'])
    expect(line.value('salt')).toBe('\u00001')
    expect(line.value('seq')).toBe('-2')
  })

  it('rejects unknown options, naming them', () => {
    expect(usageError('--bogus')).toBe('unknown option --bogus')
    expect(usageError('--bogus=1')).toBe('unknown option --bogus')
    expect(usageError('-x')).toBe('unknown option -x')
    expect(usageError('-mx')).toBe('unknown option -x')
    expect(usageError('value', '-q')).toBe('unknown option -q')
  })

  it('rejects an option missing its value', () => {
    expect(usageError('-s')).toMatch(/-s\/--salt needs a value \(SALT\)/)
    expect(usageError('value', '--seq')).toMatch(/--seq needs a value \(N\)/)
  })

  it('rejects a value given to a switch', () => {
    expect(usageError('--mutable=x')).toMatch(/-m\/--mutable takes no value/)
    expect(usageError('--mutable=')).toMatch(/takes no value/)
  })

  it('rejects a non-multiple option given twice', () => {
    expect(usageError('-s', 'a', '--salt=b')).toMatch(/-s\/--salt was given more than once/)
    expect(usageError('--seq', '1', '--seq', '2')).toMatch(/--seq was given more than once/)
  })

  it('allows a switch given twice', () => {
    const line = parse('-m', '-m')
    expect(line.has('mutable')).toBe(true)
  })

  it('keeps the order of a multiple option; value() gives the last one', () => {
    const line = parse('-T', 'a', 'x', '--tag=b', '-Tc')
    expect(line.values('tag')).toEqual(['a', 'b', 'c'])
    expect(line.value('tag')).toBe('c')
    expect(line.operands).toEqual(['x'])
  })

  it('answers absent options', () => {
    const line = parse('x')
    expect(line.has('salt')).toBe(false)
    expect(line.value('salt')).toBeUndefined()
    expect(line.values('tag')).toEqual([])
    expect(line.given).toEqual([])
  })
})

describe('optionRows', () => {
  it('aligns the help column and shows short names and values', () => {
    const rows = optionRows(SPECS)
    expect(rows).toEqual([
      '  -m, --mutable    mutable item',
      '  -s, --salt SALT  salt of the item',
      '      --seq N      sequence number',
      '  -T, --tag TAG    a tag',
    ])
  })
})
