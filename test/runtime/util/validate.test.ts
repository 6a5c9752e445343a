import { describe, expect, it } from 'vitest'
import { GrenacheError } from '../../../runtime/errors.js'
import { Checker, checkArgument, checkOption, show } from '../../../runtime/util/validate.js'

/** Runs `fn` and returns what it threw. */
function thrown(fn: () => unknown): GrenacheError {
  try {
    fn()
  } catch (err) {
    expect(err).toBeInstanceOf(GrenacheError)
    return err as GrenacheError
  }
  throw new Error('expected a throw')
}

describe('checkOption', () => {
  it('throws ERR_INVALID_OPTION naming options.<name>, the rule and the value', () => {
    const err = thrown(() => checkOption.integer('apiPort', 1.5, 0, 10))
    expect(err.code).toBe('ERR_INVALID_OPTION')
    expect(err.message).toBe('options.apiPort must be an integer from 0 to 10, got 1.5')
  })
})

describe('checkArgument', () => {
  it('throws ERR_INVALID_ARGUMENT naming the argument without a prefix', () => {
    const err = thrown(() => checkArgument.string('name', ''))
    expect(err.code).toBe('ERR_INVALID_ARGUMENT')
    expect(err.message).toBe('name must be a non-empty string, got ""')
  })
})

describe('Checker', () => {
  const check = new Checker('ERR_INVALID_OPTION', 'opts.')

  describe('fail()', () => {
    it('always throws with the prefix, the name, the rule and the shown value', () => {
      const err = thrown(() => check.fail('x', 'must be blue', [1, 2]))
      expect(err.message).toBe('opts.x must be blue, got an array of 2')
    })
  })

  describe('integer()', () => {
    it('returns an integer within the bounds, bounds included', () => {
      expect(check.integer('n', 0, 0, 10)).toBe(0)
      expect(check.integer('n', 10, 0, 10)).toBe(10)
      expect(check.integer('n', Number.MAX_SAFE_INTEGER, 1)).toBe(Number.MAX_SAFE_INTEGER)
    })

    it.each([-1, 11, 1.5, Number.NaN, Number.POSITIVE_INFINITY, '5', null, undefined, 5n])(
      'rejects %s, naming the option and its range',
      (bad) => {
        const err = thrown(() => check.integer('n', bad, 0, 10))
        expect(err.message).toMatch(/^opts\.n must be an integer from 0 to 10, got /)
      },
    )

    it('defaults the upper bound to MAX_SAFE_INTEGER', () => {
      const err = thrown(() => check.integer('n', 2 ** 53, 1))
      expect(err.message).toBe(
        `opts.n must be an integer from 1 to ${Number.MAX_SAFE_INTEGER}, got ${2 ** 53}`,
      )
    })
  })

  describe('port()', () => {
    it('accepts 0 to 65535 and rejects the rest', () => {
      expect(check.port('p', 0)).toBe(0)
      expect(check.port('p', 65535)).toBe(65535)
      expect(thrown(() => check.port('p', 65536)).message).toBe(
        'opts.p must be an integer from 0 to 65535, got 65536',
      )
      expect(thrown(() => check.port('p', -1)).message).toMatch(/^opts\.p must be an integer from 0 to 65535/)
    })
  })

  describe('string()', () => {
    it('accepts a non-empty string and rejects an empty one by default', () => {
      expect(check.string('s', 'x')).toBe('x')
      expect(thrown(() => check.string('s', '')).message).toBe('opts.s must be a non-empty string, got ""')
    })

    it('accepts an empty string when nonEmpty is false, but never a non-string', () => {
      expect(check.string('s', '', false)).toBe('')
      expect(thrown(() => check.string('s', 5, false)).message).toBe('opts.s must be a string, got 5')
      expect(thrown(() => check.string('s', undefined)).message).toBe(
        'opts.s must be a non-empty string, got undefined',
      )
    })
  })

  describe('boolean()', () => {
    it('accepts true and false only', () => {
      expect(check.boolean('b', true)).toBe(true)
      expect(check.boolean('b', false)).toBe(false)
      expect(thrown(() => check.boolean('b', 'true')).message).toBe('opts.b must be a boolean, got "true"')
      expect(thrown(() => check.boolean('b', 0)).message).toBe('opts.b must be a boolean, got 0')
    })
  })

  describe('hostPort()', () => {
    it.each(['127.0.0.1:20001', 'localhost:1', 'grape.example:65535'])('accepts %s', (good) => {
      expect(check.hostPort('node', good)).toBe(good)
    })

    it.each(['127.0.0.1', '127.0.0.1:0', '127.0.0.1:65536', ':20001', 'host:port', 'host:123456', 'a:1 '])(
      'rejects %j naming the rule',
      (bad) => {
        expect(thrown(() => check.hostPort('bootstrap[0]', bad)).message).toBe(
          `opts.bootstrap[0] must be "host:port" with a port from 1 to 65535, got ${JSON.stringify(bad)}`,
        )
      },
    )

    it('rejects a value that is not a non-empty string as such', () => {
      expect(thrown(() => check.hostPort('node', 20001)).message).toBe(
        'opts.node must be a non-empty string, got 20001',
      )
      expect(thrown(() => check.hostPort('node', '')).message).toBe(
        'opts.node must be a non-empty string, got ""',
      )
    })
  })
})

describe('show()', () => {
  it('quotes strings and cuts them after 80 characters', () => {
    expect(show('abc')).toBe('"abc"')
    expect(show('a"b')).toBe('"a\\"b"')
    expect(show('x'.repeat(80))).toBe(`"${'x'.repeat(80)}"`)
    expect(show('x'.repeat(81))).toBe(`"${'x'.repeat(80)}…"`)
  })

  it('renders primitives as text and containers by their size', () => {
    expect(show(5)).toBe('5')
    expect(show(Number.NaN)).toBe('NaN')
    expect(show(10n)).toBe('10n')
    expect(show(null)).toBe('null')
    expect(show(undefined)).toBe('undefined')
    expect(show(true)).toBe('true')
    expect(show([1, 2, 3])).toBe('an array of 3')
    expect(show(new Uint8Array(7))).toBe('7 bytes')
    expect(show(Buffer.alloc(2))).toBe('2 bytes')
    expect(show({ secret: 'do not print me' })).toBe('an object')
  })
})
