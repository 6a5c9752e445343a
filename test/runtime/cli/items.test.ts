/**
 * `grenache keygen/put/get` and their grenache-cli aliases, as users run them: the built binaries
 * against two Grapes on loopback, with HOME in a throwaway directory.
 */
import { mkdirSync, writeFileSync } from 'node:fs'
import { join } from 'node:path'
import { afterAll, afterEach, beforeAll, beforeEach, describe, expect, it } from 'vitest'
import { toHex } from '../../../runtime/bep44/bytes.js'
import { createSigner, expandSeed } from '../../../runtime/bep44/ed25519.js'
import { encodeSignedData } from '../../../runtime/bep44/signed-data.js'
import { immutableTarget, mutableTarget } from '../../../runtime/bep44/targets.js'
import { ensureCliBuilt, killAllCli, runCli, tempHome } from '../../helpers/cli.js'
import { startFakeGrape } from '../../helpers/fake-grape.js'
import { REFUSED_PORT } from '../../helpers/reference.js'
import { createTestnet, type Testnet } from '../../helpers/testnet.js'

/** The BEP 44 test vector key, as grenache-cli's `key` and `key.pub` hold it. */
const VECTOR_SECRET =
  'e06d3183d14159228433ed599221b80bd0a5ce8352e4bdf0262f76786ef1c74db7e7a9fea2c0eb269d61e3b38e450a22e754941ac78479d6c54e1faf6037881d'
const VECTOR_PUBLIC = '77ff84905a91936367c01360803104f92432fcd904a43511876df5cdf3e7e548'

let net: Testnet
let home: ReturnType<typeof tempHome>
/** Environment of a CLI run through Grape `index`. */
const env = (index = 0): NodeJS.ProcessEnv => ({ HOME: home.home, GRENACHE_GRAPE: net.urls[index] })

function writeKey(secret: string, pub: string): void {
  const dir = join(home.home, '.grenache-cli')
  mkdirSync(dir, { recursive: true })
  writeFileSync(join(dir, 'key'), secret)
  writeFileSync(join(dir, 'key.pub'), pub)
}

beforeAll(async () => {
  ensureCliBuilt()
  net = await createTestnet(2)
}, 240_000)
afterAll(async () => {
  killAllCli()
  await net?.close()
})
beforeEach(() => {
  home = tempHome()
})
afterEach(() => {
  killAllCli()
  home.remove()
})

describe('keygen', () => {
  it('writes a key pair the next put -m signs with, and refuses to replace it without -f', async () => {
    const first = await runCli('grenache-keygen', [], { env: env() })
    expect(first).toMatchObject({
      code: 0,
      stdout: 'grenache-keygen: keypair generated successfully.\n',
      stderr: '',
    })
    const again = await runCli('grenache', ['keygen'], { env: env() })
    expect(again.code).toBe(1)
    expect(again.stderr).toBe(
      'grenache keygen: error: cannot create new keypair: one exists (-f replaces it).\n',
    )
    const forced = await runCli('grenache', ['keygen', '-f'], { env: env() })
    expect(forced.code).toBe(0)
    const put = await runCli('grenache-put', ['-m', 'signed with a new key'], { env: env() })
    expect(put.code).toBe(0)
    expect(put.stdout).toMatch(/^[0-9a-f]{40}\n$/)
  })
})

describe('put and get', () => {
  it('stores an immutable item under the BEP 44 key and reads it through the other Grape', async () => {
    const put = await runCli('grenache-put', ['Hello World!'], { env: env(0) })
    expect(put).toMatchObject({ code: 0, stdout: 'e5f96f6f38320f0f33959cb4d3d656452117aadb\n', stderr: '' })
    const get = await runCli('grenache-get', ['e5f96f6f38320f0f33959cb4d3d656452117aadb'], { env: env(1) })
    expect(get).toMatchObject({ code: 0, stdout: 'Hello World!\n', stderr: '' })
  })

  it('joins the arguments with spaces, or reads standard input without its trailing newlines', async () => {
    const joined = await runCli('grenache', ['put', 'two', 'words'], { env: env() })
    expect(joined.stdout).toBe(`${immutableTarget('two words')}\n`)
    const piped = await runCli('grenache', ['put'], { env: env(), stdin: 'from stdin\n\n' })
    expect(piped.stdout).toBe(`${immutableTarget('from stdin')}\n`)
    const dash = await runCli('grenache-put', ['-'], { env: env(), stdin: 'dash' })
    expect(dash.stdout).toBe(`${immutableTarget('dash')}\n`)
  })

  it('counts bytes: non-ASCII values are stored, verified and printed unchanged (grenache-cli counted characters)', async () => {
    const value = 'héllo € 日本'
    const put = await runCli('grenache-put', [value], { env: env() })
    expect(put.stdout).toBe(`${immutableTarget(value)}\n`)
    const get = await runCli('grenache-get', [immutableTarget(value)], { env: env(1) })
    expect(get).toMatchObject({ code: 0, stdout: `${value}\n` })

    writeKey(VECTOR_SECRET, VECTOR_PUBLIC)
    const mutable = await runCli('grenache-put', ['-m', '-s', 'sålt', '-n', '7', value], { env: env() })
    expect(mutable).toMatchObject({ code: 0, stderr: '' })
    const back = await runCli('grenache-get', ['-s', 'sålt', mutable.stdout.trim()], { env: env(1) })
    expect(back).toMatchObject({ code: 0, stdout: `${value}\n` })
  })

  it('stores a value of exactly 999 bytes and refuses 1000 before sending anything', async () => {
    const exact = `${'é'.repeat(499)}x`
    expect(Buffer.byteLength(exact)).toBe(999)
    const put = await runCli('grenache-put', [exact], { env: env() })
    expect(put).toMatchObject({ code: 0, stdout: `${immutableTarget(exact)}\n` })
    expect((await runCli('grenache-get', [immutableTarget(exact)], { env: env(1) })).stdout).toBe(
      `${exact}\n`,
    )

    const over = await runCli('grenache-put', ['é'.repeat(500)], { env: env() })
    expect(over.code).toBe(2)
    expect(over.stderr).toContain(
      'grenache-put: error: value is too big: 1000 bytes, the DHT stores at most 999.',
    )
    expect(over.stdout).toBe('')
  })

  it('signs with a key file in grenache-cli format: the BEP 44 vectors, bit for bit', async () => {
    writeKey(VECTOR_SECRET, VECTOR_PUBLIC)
    const plain = await runCli('grenache-put', ['-m', '-n', '1', 'Hello World!'], { env: env() })
    expect(plain).toMatchObject({ code: 0, stdout: '4a533d47ec9c7d95b1ad75f576cffc641853b750\n' })
    const raw = await runCli('grenache-get', ['-r', '4a533d47ec9c7d95b1ad75f576cffc641853b750'], {
      env: env(1),
    })
    expect(raw.code).toBe(0)
    const item = JSON.parse(raw.stdout) as Record<string, unknown>
    expect(item).toMatchObject({
      v: 'Hello World!',
      seq: 1,
      k: VECTOR_PUBLIC,
      sig: '305ac8aeb6c9c151fa120f120ea2cfb923564e11552d06a5d856091e5e853cff1260d3f39e4999684aa92eb73ffd136e6f4f3ecbfda0ce53a1608ecd7ae21f01',
    })

    const salted = await runCli('grenache-put', ['-m', '-s', 'foobar', '-n', '1', 'Hello World!'], {
      env: env(),
    })
    expect(salted.stdout).toBe('411eba73b6f087ca51a3795d9c8c938d365e32c1\n')
    const saltedRaw = await runCli(
      'grenache-get',
      ['-r', '--salt', 'foobar', '411eba73b6f087ca51a3795d9c8c938d365e32c1'],
      {
        env: env(1),
      },
    )
    expect(JSON.parse(saltedRaw.stdout)).toMatchObject({
      sig: '6834284b6b24c3204eb2fea824d82f88883a3d95e8b4a21b8c0ded553d17d17ddf9a8a7104b1258f30bed3787e6cb896fca78c58f8e03b5f18f14951a87d9a08',
    })
  })

  it('reads a key file written in upper case and with a trailing newline (grenache-cli decoded it as zeros)', async () => {
    writeKey(`${VECTOR_SECRET.toUpperCase()}\n`, `${VECTOR_PUBLIC.toUpperCase()}\n`)
    const put = await runCli('grenache-put', ['-m', '-s', 'upper', '-n', '1', 'Hello World!'], { env: env() })
    const hash = mutableTarget(Buffer.from(VECTOR_PUBLIC, 'hex'), Buffer.from('upper'))
    expect(put).toMatchObject({ code: 0, stdout: `${hash}\n` })
    const raw = await runCli('grenache-get', ['-r', '-s', 'upper', hash], { env: env(1) })
    const signer = createSigner(Buffer.from(VECTOR_SECRET, 'hex'))
    const expected = signer.sign(
      encodeSignedData({ v: Buffer.from('Hello World!'), seq: 1, salt: Buffer.from('upper') }),
    )
    expect(JSON.parse(raw.stdout)).toMatchObject({ sig: toHex(expected) })
  })

  it('works with a public key that contains a NUL byte (grenache-cli lost it in a shell string)', async () => {
    let secret: Uint8Array
    let pub: Uint8Array
    do {
      secret = expandSeed(crypto.getRandomValues(new Uint8Array(32)))
      pub = createSigner(secret).publicKey
    } while (!pub.includes(0))
    writeKey(toHex(secret), toHex(pub))
    const put = await runCli('grenache-put', ['-m', '-s', 'nul', 'zero inside'], { env: env() })
    expect(put).toMatchObject({ code: 0, stdout: `${mutableTarget(pub, Buffer.from('nul'))}\n` })
    const get = await runCli('grenache-get', ['-s', 'nul', put.stdout.trim()], { env: env(1) })
    expect(get).toMatchObject({ code: 0, stdout: 'zero inside\n' })
  })

  it('updates a mutable item with a higher seq; a lower seq and a wrong cas fail as the Grape says', async () => {
    writeKey(VECTOR_SECRET, VECTOR_PUBLIC)
    const put = (...args: string[]) =>
      runCli('grenache-put', ['-m', '-s', 'counter', ...args], { env: env() })
    const first = await put('-n', '5', 'five')
    expect(first.code).toBe(0)
    expect((await put('-n', '6', '-c', '5', 'six')).code).toBe(0)
    const low = await put('-n', '6', 'six again')
    expect(low).toMatchObject({
      code: 1,
      stderr: 'grenache-put: error: 302 sequence number less than current.\n',
    })
    const cas = await put('-n', '9', '-c', '5', 'nine')
    expect(cas).toMatchObject({
      code: 1,
      stderr: 'grenache-put: error: 301 CAS mismatch, re-read and try again.\n',
    })
    const get = await runCli('grenache-get', ['-s', 'counter', first.stdout.trim()], { env: env(1) })
    expect(get.stdout).toBe('six\n')
  })

  it('uses microseconds since the epoch as the default seq, so repeated puts update the item', async () => {
    writeKey(VECTOR_SECRET, VECTOR_PUBLIC)
    const before = Date.now() * 1000
    const one = await runCli('grenache-put', ['-m', '-s', 'clock', 'one'], { env: env() })
    const two = await runCli('grenache-put', ['-m', '-s', 'clock', 'two'], { env: env() })
    expect([one.code, two.code]).toEqual([0, 0])
    const raw = await runCli('grenache-get', ['-r', '-s', 'clock', one.stdout.trim()], { env: env(1) })
    const item = JSON.parse(raw.stdout) as { v: string; seq: number }
    expect(item.v).toBe('two')
    expect(item.seq).toBeGreaterThan(before)
    expect(item.seq).toBeLessThanOrEqual(Date.now() * 1000)
  })

  it('prints the node id, the token (nothing when the Grape had it itself) and the value; the last flag wins', async () => {
    const hash = immutableTarget('outputs')
    await runCli('grenache-put', ['outputs'], { env: env(0) })
    const raw = JSON.parse((await runCli('grenache-get', ['-r', hash], { env: env(1) })).stdout) as {
      id: string
      token: string | null
    }
    const id = await runCli('grenache-get', ['-i', hash], { env: env(1) })
    expect(id.stdout).toBe(`${raw.id}\n`)
    const token = await runCli('grenache-get', ['--write', hash], { env: env(1) })
    expect(token).toMatchObject({ code: 0, stdout: raw.token === null ? '' : `${raw.token}\n` })
    const last = await runCli('grenache-get', ['-r', '-i', '-v', hash], { env: env(1) })
    expect(last.stdout).toBe('outputs\n')
  })

  it('accepts an upper-case hash (grenache-cli always reported "unexpected value")', async () => {
    await runCli('grenache-put', ['Hello World!'], { env: env() })
    const get = await runCli('grenache-get', ['E5F96F6F38320F0F33959CB4D3D656452117AADB'], { env: env(1) })
    expect(get).toMatchObject({ code: 0, stdout: 'Hello World!\n' })
  })

  it('says "not found" with exit 1 for a key nobody stored', async () => {
    const get = await runCli('grenache-get', ['0'.repeat(40)], { env: env() })
    expect(get).toMatchObject({
      code: 1,
      stdout: '',
      stderr: `grenache-get: error: hash ${'0'.repeat(40)} not found.\n`,
    })
  })
})

describe('bad input: a message naming the problem, a non-zero exit, nothing sent', () => {
  it.each([
    [['--bogus', 'x'], 'unknown option --bogus'],
    [['-x', 'v'], 'unknown option -x'],
    [['-m', '-s', '', 'v'], 'empty salt string'],
    [['-m', '-s', 's'.repeat(65), 'v'], 'salt is too big: 65 bytes, at most 64'],
    [['-m', '-s', 'é'.repeat(33), 'v'], 'salt is too big: 66 bytes, at most 64'],
    [['-m', '-n', 'one', 'v'], 'invalid sequence number'],
    [['-m', '-n', '9223372036854775808', 'v'], 'sequence number too big'],
    [['-m', '-n', '9007199254740993', 'v'], 'sequence number 9007199254740993 is above 9007199254740991'],
    [['-m', '-c', '-1', 'v'], 'invalid compare and swap number'],
    [['-p', '0', 'v'], 'Grape port number must be greater than zero'],
    [['-p', '65536', 'v'], 'Grape port number too big'],
    [['-g', '', 'v'], 'empty Grape hostname'],
    [['--salt'], 'option -s/--salt needs a value (SALT)'],
  ])('put %j exits 2: %s', async (args, message) => {
    const grape = await startFakeGrape(() => ({ body: '"never"' }))
    try {
      const put = await runCli('grenache-put', args, {
        env: { HOME: home.home, GRENACHE_GRAPE: grape.url },
        stdin: 'value',
      })
      expect(put.code).toBe(2)
      expect(put.stderr).toContain(`grenache-put: error: ${message}`)
      expect(put.stdout).toBe('')
      expect(grape.requests).toEqual([])
    } finally {
      await grape.close()
    }
  })

  it.each([
    [['zz'], 'invalid hash provided: zz'],
    [['a'.repeat(39)], `invalid hash provided: ${'a'.repeat(39)}`],
    [[], 'missing HASH'],
    [['a'.repeat(40), 'b'.repeat(40)], 'unexpected argument'],
  ])('get %j exits 2: %s', async (args, message) => {
    const get = await runCli('grenache-get', args, { env: env() })
    expect(get.code).toBe(2)
    expect(get.stderr).toContain(`grenache-get: error: ${message}`)
  })

  it('put -m without keys asks for grenache-keygen', async () => {
    const put = await runCli('grenache-put', ['-m', 'v'], { env: env() })
    expect(put).toMatchObject({
      code: 1,
      stderr: "grenache-put: error: you need to run `grenache-keygen' first.\n",
    })
  })

  it('put -m with a key path that is a directory says so, instead of asking for grenache-keygen', async () => {
    mkdirSync(join(home.home, '.grenache-cli', 'key'), { recursive: true })
    const put = await runCli('grenache-put', ['-m', 'v'], { env: env() })
    expect(put).toMatchObject({
      code: 1,
      stderr: `grenache-put: error: ${join(home.home, '.grenache-cli', 'key')} is a directory, not a key file.\n`,
    })
  })

  it('a Grape that is down is reported as such, never as "not found" or an empty answer', async () => {
    const down = { HOME: home.home, GRENACHE_GRAPE: `127.0.0.1:${REFUSED_PORT}` }
    for (const [bin, args] of [
      ['grenache-put', ['v']],
      ['grenache-get', ['0'.repeat(40)]],
      ['grenache-lookup', ['svc']],
    ] as const) {
      const result = await runCli(bin, args, { env: down })
      expect(result.code, bin).toBe(1)
      expect(result.stderr, bin).toMatch(
        new RegExp(
          `^${bin}: error: cannot reach the Grape at http://127.0.0.1:\\d+: .*ERR_CONNECTION_REFUSED`,
        ),
      )
    }
  })

  it('a Grape that never answers is given up on after --timeout', async () => {
    const grape = await startFakeGrape(() => 'hang')
    try {
      const started = Date.now()
      const get = await runCli('grenache-get', ['--timeout', '300', '0'.repeat(40)], {
        env: { HOME: home.home, GRENACHE_GRAPE: grape.url },
      })
      expect(get.code).toBe(1)
      expect(get.stderr).toContain('did not answer within 300 ms (ERR_TIMEOUT)')
      expect(Date.now() - started).toBeLessThan(10_000)
    } finally {
      await grape.close()
    }
  })

  it('a forged item is an error, never output: wrong value, flipped signature, salt mismatch', async () => {
    writeKey(VECTOR_SECRET, VECTOR_PUBLIC)
    const signed = {
      id: 'ab'.repeat(20),
      token: null,
      v: 'Hello World!',
      seq: 1,
      k: VECTOR_PUBLIC,
      sig: '305ac8aeb6c9c151fa120f120ea2cfb923564e11552d06a5d856091e5e853cff1260d3f39e4999684aa92eb73ffd136e6f4f3ecbfda0ce53a1608ecd7ae21f01',
    }
    const answers: Record<string, unknown> = {
      [immutableTarget('real')]: { id: 'ab'.repeat(20), token: null, v: 'forged' },
      '4a533d47ec9c7d95b1ad75f576cffc641853b750': { ...signed, sig: `${signed.sig.slice(0, -1)}0` },
      '411eba73b6f087ca51a3795d9c8c938d365e32c1': { ...signed, salt: 'other' },
    }
    const grape = await startFakeGrape((request) => {
      const { hash } = request.data as { hash: string }
      return { body: JSON.stringify(answers[hash]) }
    })
    const run = (...args: string[]) =>
      runCli('grenache-get', args, { env: { HOME: home.home, GRENACHE_GRAPE: grape.url } })
    try {
      const value = await run(immutableTarget('real'))
      expect(value).toMatchObject({ code: 1, stdout: '' })
      expect(value.stderr).toBe(
        'grenache-get: error: unexpected value: the value does not hash to the key.\n',
      )
      const signature = await run('4a533d47ec9c7d95b1ad75f576cffc641853b750')
      expect(signature).toMatchObject({ code: 1, stdout: '' })
      expect(signature.stderr).toBe(
        'grenache-get: error: cannot verify challenge buffer: the signature does not verify.\n',
      )
      const salt = await run('-s', 'foobar', '411eba73b6f087ca51a3795d9c8c938d365e32c1')
      expect(salt).toMatchObject({ code: 1, stdout: '', stderr: 'grenache-get: error: salt mismatch.\n' })
    } finally {
      await grape.close()
    }
  })

  it('a salted item read without its salt is never printed, through either Grape', async () => {
    writeKey(VECTOR_SECRET, VECTOR_PUBLIC)
    const put = await runCli('grenache-put', ['-m', '-s', 'no-salt-given', 'salted'], { env: env() })
    expect(put.code).toBe(0)
    for (const index of [0, 1]) {
      // The Grape storing it answers unverified (our check names the salt); the other drops it.
      const get = await runCli('grenache-get', [put.stdout.trim()], { env: env(index) })
      expect(get.code).toBe(1)
      expect(get.stdout).toBe('')
      expect(get.stderr).toMatch(
        /^grenache-get: error: (hash [0-9a-f]{40} not found|unexpected value: .*salt.*)\.\n$/,
      )
    }
  })
})

describe('help and version', () => {
  it.each([
    ['grenache-put'],
    ['grenache-get'],
    ['grenache-keygen'],
    ['grenache-lookup'],
    ['grenache-announce'],
  ])('%s --help and --version exit 0 on stdout', async (bin) => {
    const help = await runCli(bin, ['--help'])
    expect(help.code).toBe(0)
    expect(help.stdout).toMatch(new RegExp(`^${bin} .*\\n\\nUsage: ${bin} `))
    expect(help.stderr).toBe('')
    const version = await runCli(bin, ['-V'])
    expect(version).toMatchObject({
      code: 0,
      stdout: expect.stringMatching(new RegExp(`^${bin} \\(grenache-gen\\) \\d+\\.\\d+\\.\\d+\\n$`)),
    })
  })

  it('grenache lists its commands; an unknown one exits 2', async () => {
    const help = await runCli('grenache', ['--help'])
    expect(help.code).toBe(0)
    for (const command of ['keygen', 'put', 'get', 'lookup', 'announce', 'request', 'map', 'sub'])
      expect(help.stdout).toContain(`  ${command} `)
    const none = await runCli('grenache', [])
    expect(none.code).toBe(2)
    const unknown = await runCli('grenache', ['fetch'])
    expect(unknown).toMatchObject({ code: 2, stderr: expect.stringContaining('unknown command "fetch"') })
    const topic = await runCli('grenache', ['help', 'get'])
    expect(topic.stdout).toMatch(/^grenache get sends a GET request/)
  })
})
