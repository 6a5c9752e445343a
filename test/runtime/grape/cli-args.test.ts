import { readFileSync } from 'node:fs'
import { describe, expect, it } from 'vitest'
import { parseGrapeArgs } from '../../../runtime/grape/cli-args.js'
import { resolveGrapeOptions } from '../../../runtime/grape/grape-options.js'

const REQUIRED = ['--dp', '20001', '--aph', '30001', '--bn', '']
const REQUIRED_NAMES = [
  ['--dp', '--dht_port'],
  ['--aph', '--api_port'],
  ['--bn', '--bootstrap'],
]

/** The required flags, less the one `flag` is a spelling of (so a test can give it itself). */
function requiredWithout(flag: string): string[] {
  return REQUIRED.filter((_, i) => !REQUIRED_NAMES[Math.floor(i / 2)]?.includes(flag))
}

function run(argv: string[]) {
  const result = parseGrapeArgs(argv)
  if (result.kind !== 'run') throw new Error(`expected run, got ${JSON.stringify(result)}`)
  return result.options
}

const escapeRegExp = (text: string) => text.replace(/[.*+?^${}()|[\]\\]/g, '\\$&')

function errorOf(argv: string[]): string {
  const result = parseGrapeArgs(argv)
  if (result.kind !== 'error') throw new Error(`expected error, got ${JSON.stringify(result)}`)
  return result.message
}

describe('parseGrapeArgs()', () => {
  describe('flags', () => {
    // [flags (every spelling), value given, option key, value expected]
    const cases: [string[], string, string, unknown][] = [
      [['--dp', '--dht_port'], '20005', 'dhtPort', 20005],
      [['--aph', '--api_port'], '30005', 'apiPort', 30005],
      [['-b', '--b', '--bind'], '10.0.0.1', 'host', '10.0.0.1'],
      [['--dht_host'], '127.0.0.1', 'dhtHost', '127.0.0.1'],
      [['--dc', '--dht_concurrency'], '32', 'dhtConcurrency', 32],
      [['--dht_maxTables'], '100', 'dhtMaxTables', 100],
      [['--dht_maxValues'], '200', 'dhtMaxValues', 200],
      [['--dpa', '--dht_peer_maxAge'], '60000', 'dhtPeerMaxAgeMs', 60000],
      [['--cache_maxAge'], '5000', 'lookupCacheMaxAgeMs', 5000],
      [['--dnl', '--dht_nodeLiveness'], '90000', 'dhtNodeLivenessMs', 90000],
      [['--check_maxPayloadSize'], '4096', 'maxPayloadBytes', 4096],
      [['--lookup_refresh'], '0', 'lookupRefreshMs', 0],
      [
        ['--allowed_origins'],
        'https://a.example, http://b.example:8080',
        'allowedOrigins',
        ['https://a.example', 'http://b.example:8080'],
      ],
      [['--allowed_origins'], '*', 'allowedOrigins', ['*']],
      [
        ['--allowed_hosts'],
        'grape.internal,grape.internal:30001',
        'allowedHosts',
        ['grape.internal', 'grape.internal:30001'],
      ],
      [['--allowed_hosts'], '*', 'allowedHosts', ['*']],
      [['--allowed_hosts'], '', 'allowedHosts', []],
    ]
    for (const [names, text, key, expected] of cases) {
      for (const name of names) {
        it(`${name} <value> and ${name}=<value> set ${key}`, () => {
          const rest = requiredWithout(name)
          const spaced = run([...rest, name, text])
          const joined = run([...rest, `${name}=${text}`])
          expect(spaced).toHaveProperty(key, expected)
          expect(joined).toEqual(spaced)
        })
      }
    }

    it('-b<value> works as yargs does', () => {
      expect(run([...REQUIRED, '-b127.0.0.1'])).toHaveProperty('host', '127.0.0.1')
    })

    it('--bn and --bootstrap take a comma-separated list, dropping empty items and spaces', () => {
      const expected = ['127.0.0.1:20002', 'localhost:20003']
      expect(run(['--dp', '0', '--aph', '0', '--bn', '127.0.0.1:20002,,localhost:20003,'])).toHaveProperty(
        'bootstrap',
        expected,
      )
      expect(run(['--dp', '0', '--aph', '0', '--bootstrap=127.0.0.1:20002, localhost:20003'])).toHaveProperty(
        'bootstrap',
        expected,
      )
    })

    it("--bn '' (or --bn=) gives an isolated node", () => {
      expect(run(['--dp', '0', '--aph', '0', '--bn', ''])).toHaveProperty('bootstrap', [])
      expect(run(['--dp', '0', '--aph', '0', '--bn='])).toHaveProperty('bootstrap', [])
    })

    it('accepts the flags in any order', () => {
      expect(run(['--bn', '', '--dc', '8', '--aph', '1', '--dp', '2'])).toEqual({
        bootstrap: [],
        dhtConcurrency: 8,
        apiPort: 1,
        dhtPort: 2,
      })
    })
  })

  describe('defaults', () => {
    it('leaves absent flags out, so the documented defaults apply (never undefined: bug G1)', () => {
      const options = run(REQUIRED)
      expect(options).toEqual({ dhtPort: 20001, apiPort: 30001, bootstrap: [] })
      expect(Object.values(options)).not.toContain(undefined)
      expect(resolveGrapeOptions(options)).toMatchObject({
        host: '127.0.0.1',
        selfAnnounce: false,
        dhtHost: '0.0.0.0',
        dhtConcurrency: 16,
        dhtMaxTables: 5000,
        dhtMaxValues: 5000,
        dhtPeerMaxAgeMs: 120_000,
        dhtNodeLivenessMs: 300_000,
        maxPayloadBytes: 8192,
        lookupCacheMaxAgeMs: 60_000,
        lookupRefreshMs: 1000,
      })
    })

    it('-b turns on the self-announce, as the reference', () => {
      expect(resolveGrapeOptions(run([...REQUIRED, '-b', '127.0.0.1'])).selfAnnounce).toBe(true)
    })
  })

  describe('help and version', () => {
    it.each([['-h'], ['--help'], ['--help', '--dp', 'x']])(
      '%s prints the help, even without required flags',
      (...argv) => {
        const result = parseGrapeArgs(argv)
        expect(result.kind).toBe('help')
        const text = (result as { text: string }).text
        for (const flag of ['--dp, --dht_port', '--aph, --api_port', '--bn, --bootstrap', '-b, --bind']) {
          expect(text).toContain(flag)
        }
        expect(text).toContain('--lookup_refresh')
        expect(text).toContain('--allowed_origins <list>')
        expect(text).toContain('--allowed_hosts <list>')
        expect(text).toContain('grape: api http://')
      },
    )

    it.each([['-V'], ['--version']])('%s prints the version from package.json', (flag) => {
      const pkg = JSON.parse(readFileSync(new URL('../../../package.json', import.meta.url), 'utf8'))
      expect(parseGrapeArgs([flag])).toEqual({ kind: 'version', text: pkg.version })
    })
  })

  describe('errors', () => {
    it('names every missing required flag', () => {
      expect(errorOf([])).toBe(
        "missing required flags --dp/--dht_port, --aph/--api_port, --bn/--bootstrap (--bn '' gives an isolated node)",
      )
      expect(errorOf(['--dp', '1', '--bn', ''])).toBe('missing required flag --aph/--api_port')
    })

    it('rejects an unknown flag', () => {
      expect(errorOf([...REQUIRED, '--dht-port', '1'])).toBe('unknown flag --dht-port')
      expect(errorOf([...REQUIRED, '-x'])).toBe('unknown flag -x')
    })

    it('rejects a flag without its value', () => {
      expect(errorOf(['--aph', '1', '--bn', '', '--dp'])).toMatch(/^--dp needs a value/)
      expect(errorOf(['--dp', '--aph', '1', '--bn', ''])).toMatch(/^--dp needs a value/)
    })

    it('rejects a value given to --help or --version', () => {
      expect(errorOf(['--help=yes'])).toBe('-h, --help takes no value')
      expect(errorOf(['-h=yes'])).toBe('-h, --help takes no value')
      expect(errorOf(['-V=1'])).toBe('-V, --version takes no value')
    })

    it('names -b by its short form when its value is missing', () => {
      expect(errorOf([...REQUIRED, '-b'])).toMatch(/^-b needs a value/)
    })

    it('rejects positional arguments', () => {
      expect(errorOf([...REQUIRED, 'extra'])).toBe('unexpected argument "extra": grape takes only flags')
      expect(errorOf([...REQUIRED, '--', '--dp'])).toBe('unexpected argument "--dp": grape takes only flags')
      expect(errorOf([...REQUIRED, "it's"])).toBe('unexpected argument "it\'s": grape takes only flags')
    })

    it('rejects a flag given twice, under one name or two', () => {
      expect(errorOf([...REQUIRED, '--dp', '2'])).toBe('--dp/--dht_port was given 2 times; give it once')
      expect(errorOf([...REQUIRED, '--dht_port=2'])).toBe('--dp/--dht_port was given 2 times; give it once')
    })

    it.each([
      ['--dp', 'abc', '--dp/--dht_port must be an integer from 0 to 65535, got "abc"'],
      ['--dp', '1.5', '--dp/--dht_port must be an integer from 0 to 65535, got 1.5'],
      ['--dp', '65536', '--dp/--dht_port must be an integer from 0 to 65535, got 65536'],
      ['--dp', '', '--dp/--dht_port must be an integer from 0 to 65535, got ""'],
      ['--dp', '0x10', '--dp/--dht_port must be an integer from 0 to 65535, got "0x10"'],
      ['--aph', '-1', '--aph/--api_port must be an integer from 0 to 65535, got -1'],
      ['--dc', '0', '--dc/--dht_concurrency must be an integer from 1 to 256, got 0'],
      ['--dht_maxTables', '0', '--dht_maxTables must be an integer from 1 to 9007199254740991, got 0'],
      [
        '--dht_maxValues',
        'many',
        '--dht_maxValues must be an integer from 1 to 9007199254740991, got "many"',
      ],
      ['--dpa', '999', '--dpa/--dht_peer_maxAge must be an integer from 1000 to 86400000, got 999'],
      ['--dnl', '1e3', '--dnl/--dht_nodeLiveness must be an integer from 1000 to 86400000, got "1e3"'],
      [
        '--check_maxPayloadSize',
        '10',
        '--check_maxPayloadSize must be an integer from 64 to 16777216, got 10',
      ],
      ['--cache_maxAge', '50', '--cache_maxAge must be an integer from 100 to 86400000, got 50'],
      ['--lookup_refresh', '-5', '--lookup_refresh must be an integer from 0 to 86400000, got -5'],
      ['-b', '', '-b/--bind must be a non-empty string, got ""'],
      ['--dht_host', '', '--dht_host must be a non-empty string, got ""'],
    ])('%s=%s is rejected, naming the flag and the rule', (flag, value, message) => {
      expect(errorOf([...requiredWithout(flag), `${flag}=${value}`])).toBe(message)
    })

    it.each([
      ['--allowed_origins', 'https://a.example,a.example', 'item 2 must be "*", "null" or an origin'],
      ['--allowed_origins', 'https://a.example/app', 'item 1 must be "*", "null" or an origin'],
      ['--allowed_hosts', 'http://grape.internal', 'item 1 must be "*" or a host name or address'],
      ['--allowed_hosts', 'grape:70000', 'item 1 must be "*" or a host name or address'],
    ])('%s %s is rejected, naming the bad item', (flag, list, message) => {
      expect(errorOf([...REQUIRED, flag, list])).toMatch(new RegExp(`^${flag} ${escapeRegExp(message)}`))
    })

    it.each([
      ['localhost', 'item 1 must be "host:port" with a port from 1 to 65535, got "localhost"'],
      [
        '127.0.0.1:20002,127.0.0.1:0',
        'item 2 must be "host:port" with a port from 1 to 65535, got "127.0.0.1:0"',
      ],
      ['127.0.0.1:port', 'item 1 must be "host:port" with a port from 1 to 65535, got "127.0.0.1:port"'],
    ])('--bn %s is rejected, naming the bad item', (list, message) => {
      expect(errorOf(['--dp', '0', '--aph', '0', '--bn', list])).toBe(`--bn/--bootstrap ${message}`)
    })
  })
})
