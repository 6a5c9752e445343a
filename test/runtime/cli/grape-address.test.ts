import { describe, expect, it } from 'vitest'
import { parseCommandLine } from '../../../runtime/cli/argv.js'
import { GRAPE_ENV, GRAPE_OPTIONS, grapeUrl, timeoutMs } from '../../../runtime/cli/grape-address.js'
import { UsageError } from '../../../runtime/cli/io.js'
import { usageError } from '../../helpers/usage-error.js'

const line = (...argv: string[]) => parseCommandLine(argv, GRAPE_OPTIONS)
const url = (argv: string[], grape?: string) =>
  grapeUrl(line(...argv), grape === undefined ? {} : { [GRAPE_ENV]: grape })

describe('grapeUrl', () => {
  it("defaults to grenache-cli's 127.0.0.1:30002", () => {
    expect(url([])).toBe('http://127.0.0.1:30002')
    expect(url([], '')).toBe('http://127.0.0.1:30002')
    expect(url([], '   ')).toBe('http://127.0.0.1:30002')
  })

  it('takes the host, port and tls flags', () => {
    expect(url(['-g', 'grape.local'])).toBe('http://grape.local:30002')
    expect(url(['-p', '40001'])).toBe('http://127.0.0.1:40001')
    expect(url(['--grape=10.0.0.1', '--port', '1', '-t'])).toBe('https://10.0.0.1:1')
    expect(url(['-t'])).toBe('https://127.0.0.1:30002')
  })

  it('brackets an IPv6 host', () => {
    expect(url(['-g', '::1', '-p', '30001'])).toBe('http://[::1]:30001')
    expect(url(['-g', '[::1]'])).toBe('http://[::1]:30002')
  })

  it(`reads ${GRAPE_ENV} as host:port`, () => {
    expect(url([], '127.0.0.1:30001')).toBe('http://127.0.0.1:30001')
    expect(url([], ' grape.local:40001\n')).toBe('http://grape.local:40001')
    expect(url([], '[::1]:30001')).toBe('http://[::1]:30001')
  })

  it(`reads ${GRAPE_ENV} as an http or https URL`, () => {
    expect(url([], 'http://127.0.0.1:30001')).toBe('http://127.0.0.1:30001')
    expect(url([], 'https://grape.example:8443')).toBe('https://grape.example:8443')
    expect(url([], 'https://grape.example')).toBe('https://grape.example:443')
    expect(url([], 'http://grape.example/')).toBe('http://grape.example:80')
  })

  it(`lets the flags override ${GRAPE_ENV}`, () => {
    const env = 'https://grape.example:8443'
    expect(url(['-g', 'other'], env)).toBe('https://other:8443')
    expect(url(['-p', '30005'], env)).toBe('https://grape.example:30005')
    expect(url(['-t'], 'http://h:1')).toBe('https://h:1')
    expect(url(['-g', 'a', '-p', '2'], 'b:3')).toBe('http://a:2')
  })

  it('rejects an empty hostname', () => {
    expect(usageError(() => url(['-g', '']))).toBe('empty Grape hostname')
    expect(usageError(() => url(['--grape=']))).toBe('empty Grape hostname')
  })

  it.each([
    ['x', 'invalid Grape port number'],
    ['', 'invalid Grape port number'],
    ['-1', 'invalid Grape port number'],
    ['1.5', 'invalid Grape port number'],
    ['0', 'Grape port number must be greater than zero'],
    ['000', 'Grape port number must be greater than zero'],
    ['65536', 'Grape port number too big'],
    ['99999999999999999999', 'Grape port number too big'],
  ])('rejects port %j', (port, message) => {
    expect(usageError(() => url(['-p', port]))).toBe(message)
  })

  it('accepts ports 1 and 65535', () => {
    expect(url(['-p', '1'])).toBe('http://127.0.0.1:1')
    expect(url(['-p', '65535'])).toBe('http://127.0.0.1:65535')
  })

  it.each(['ftp://grape:21', 'http://', 'grape host:30001', 'grape:99999', 'grape:port'])(
    `rejects ${GRAPE_ENV}=%j`,
    (value) => {
      expect(usageError(() => url([], value))).toContain(GRAPE_ENV)
    },
  )

  it(`rejects port 0 in ${GRAPE_ENV} as -p 0 is rejected`, () => {
    expect(() => url([], '127.0.0.1:0')).toThrow(UsageError)
  })
})

describe('timeoutMs', () => {
  it('defaults to 10 seconds', () => {
    expect(timeoutMs(line())).toBe(10_000)
  })

  it('reads --timeout', () => {
    expect(timeoutMs(line('--timeout', '250'))).toBe(250)
    expect(timeoutMs(line('--timeout=1'))).toBe(1)
    expect(timeoutMs(line('--timeout', '2147483647'))).toBe(2147483647)
  })

  it.each(['0', '', 'abc', '1.5', '-5', '2147483648', '1e3'])('rejects --timeout %j', (text) => {
    expect(usageError(() => timeoutMs(line('--timeout', text)))).toMatch(/^--timeout must be a whole number/)
  })
})
