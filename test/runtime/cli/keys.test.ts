import { mkdir, mkdtemp, readdir, readFile, rm, stat, writeFile } from 'node:fs/promises'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { afterEach, beforeEach, describe, expect, it } from 'vitest'
import { fromHex, toHex, utf8 } from '../../../runtime/bep44/bytes.js'
import { createSigner, verifySignature } from '../../../runtime/bep44/ed25519.js'
import { CommandFailure } from '../../../runtime/cli/io.js'
import { generateKeyFiles, keyPaths, readSigner } from '../../../runtime/cli/keys.js'

// BEP 44 test vector (shared/reference/grenache-cli-bep44.md §6): grenache-cli's expanded secret.
const SECRET =
  'e06d3183d14159228433ed599221b80bd0a5ce8352e4bdf0262f76786ef1c74d' +
  'b7e7a9fea2c0eb269d61e3b38e450a22e754941ac78479d6c54e1faf6037881d'
const PUBLIC = '77ff84905a91936367c01360803104f92432fcd904a43511876df5cdf3e7e548'
const MESSAGE = '3:seqi1e1:v12:Hello World!'
const SIG =
  '305ac8aeb6c9c151fa120f120ea2cfb923564e11552d06a5d856091e5e853cff' +
  '1260d3f39e4999684aa92eb73ffd136e6f4f3ecbfda0ce53a1608ecd7ae21f01'

let home: string

beforeEach(async () => {
  home = await mkdtemp(join(tmpdir(), 'grenache-keys-'))
})

afterEach(async () => {
  await rm(home, { recursive: true, force: true })
})

const mode = async (path: string) => (await stat(path)).mode & 0o777

/** The CommandFailure `promise` rejects with. */
async function failure(promise: Promise<unknown>): Promise<string> {
  const err = await promise.then(
    () => undefined,
    (e: unknown) => e,
  )
  expect(err).toBeInstanceOf(CommandFailure)
  return (err as Error).message
}

/** Writes the key files as given. */
async function writeKeys(key: string, pub: string): Promise<void> {
  await generateKeyFiles(home, true)
  const paths = keyPaths(home)
  await writeFile(paths.key, key)
  await writeFile(paths.pub, pub)
}

describe('generateKeyFiles', () => {
  it("writes grenache-cli's files with its formats and modes", async () => {
    await generateKeyFiles(home, false)
    const paths = keyPaths(home)
    expect(paths.dir).toBe(join(home, '.grenache-cli'))
    expect(await mode(paths.dir)).toBe(0o700)
    const key = await readFile(paths.key, 'utf8')
    const pub = await readFile(paths.pub, 'utf8')
    expect(key).toMatch(/^[0-9a-f]{128}$/)
    expect(pub).toMatch(/^[0-9a-f]{64}$/)
    expect(await mode(paths.key)).toBe(0o600)
    expect(await mode(paths.pub)).toBe(0o600)
    expect(await readFile(paths.conf, 'utf8')).toContain('max-time 10')
    // The public key is the secret's, and the scalar half is clamped.
    expect(toHex(createSigner(fromHex(key, 64)!).publicKey)).toBe(pub)
    const secret = fromHex(key, 64)!
    expect(secret[0]! & 7).toBe(0)
    expect(secret[31]! & 0xc0).toBe(0x40)
  })

  it('refuses to replace an existing key pair without force', async () => {
    await generateKeyFiles(home, false)
    const paths = keyPaths(home)
    const before = [await readFile(paths.key, 'utf8'), await readFile(paths.pub, 'utf8')]
    expect(await failure(generateKeyFiles(home, false))).toMatch(/^cannot create new keypair/)
    expect([await readFile(paths.key, 'utf8'), await readFile(paths.pub, 'utf8')]).toEqual(before)
  })

  it('refuses when only one of the files exists', async () => {
    await generateKeyFiles(home, false)
    await rm(keyPaths(home).key)
    expect(await failure(generateKeyFiles(home, false))).toMatch(/^cannot create new keypair/)
  })

  it('replaces both files with force, and they still match', async () => {
    await generateKeyFiles(home, false)
    const paths = keyPaths(home)
    const oldKey = await readFile(paths.key, 'utf8')
    const oldPub = await readFile(paths.pub, 'utf8')
    await generateKeyFiles(home, true)
    const key = await readFile(paths.key, 'utf8')
    const pub = await readFile(paths.pub, 'utf8')
    expect(key).not.toBe(oldKey)
    expect(pub).not.toBe(oldPub)
    expect(toHex((await readSigner(home)).publicKey)).toBe(pub)
    expect(await mode(paths.key)).toBe(0o600)
    expect(await mode(paths.pub)).toBe(0o600)
    expect((await readdir(paths.dir)).sort()).toEqual(['grenache-cli.conf', 'key', 'key.pub'])
  })

  it('writes the config again when it is missing from an existing directory', async () => {
    await generateKeyFiles(home, false)
    const paths = keyPaths(home)
    await rm(paths.conf)
    await generateKeyFiles(home, true)
    expect(await readFile(paths.conf, 'utf8')).toContain('request POST')
    expect(await mode(paths.conf)).toBe(0o600)
  })

  it('keeps an existing config', async () => {
    await generateKeyFiles(home, false)
    await writeFile(keyPaths(home).conf, 'mine')
    await generateKeyFiles(home, true)
    expect(await readFile(keyPaths(home).conf, 'utf8')).toBe('mine')
  })
})

describe('readSigner', () => {
  it('signs the BEP 44 test vector with grenache-cli key files', async () => {
    await writeKeys(SECRET, PUBLIC)
    const signer = await readSigner(home)
    expect(toHex(signer.publicKey)).toBe(PUBLIC)
    expect(toHex(signer.sign(utf8(MESSAGE)))).toBe(SIG)
  })

  it('reads key files in upper case with trailing newlines', async () => {
    await writeKeys(`${SECRET.toUpperCase()}\n`, `${PUBLIC.toUpperCase()}\r\n`)
    expect(toHex((await readSigner(home)).sign(utf8(MESSAGE)))).toBe(SIG)
  })

  it('reads a 64-hex seed (RFC 8032 test 1)', async () => {
    const seed = '9d61b19deffd5a60ba844af492ec2cc44449c5697b326919703bac031cae7f60'
    const pub = 'd75a980182b10ab7d54bfed3c964073a0ee172f3daa62325af021a68f707511a'
    await writeKeys(seed, pub)
    const signature = (await readSigner(home)).sign(new Uint8Array())
    expect(toHex(signature)).toBe(
      'e5564300c360ac729086e2cc806e828a84877f1eb8e5d974d873e065224901555fb8821590a33bacc61e39701cf9b46bd25bf5f0595bbe24655141438e7a100b',
    )
    expect(verifySignature(signature, new Uint8Array(), fromHex(pub, 32)!)).toBe(true)
  })

  it('asks for grenache-keygen when the files are missing', async () => {
    expect(await failure(readSigner(home))).toMatch(/grenache-keygen/)
    await writeKeys(SECRET, PUBLIC)
    await rm(keyPaths(home).pub)
    expect(await failure(readSigner(home))).toMatch(/grenache-keygen/)
  })

  it.each([
    ['key', 'without key.pub'],
    ['key', 'with key.pub'],
    ['key.pub', 'with key'],
  ])('says that %s is a directory (%s), instead of asking for grenache-keygen', async (name, other) => {
    const paths = keyPaths(home)
    await mkdir(join(paths.dir, name), { recursive: true })
    if (other !== 'without key.pub') await writeFile(name === 'key' ? paths.pub : paths.key, PUBLIC)
    expect(await failure(readSigner(home))).toBe(`${join(paths.dir, name)} is a directory, not a key file`)
    expect(await failure(generateKeyFiles(home, true))).toBe(
      `${join(paths.dir, name)} is a directory, not a key file`,
    )
  })

  it('names the path when ~/.grenache-cli is a file', async () => {
    await writeFile(keyPaths(home).dir, '')
    expect(await failure(readSigner(home))).toBe(
      `cannot read ${keyPaths(home).key}: a folder on its path is a file`,
    )
  })

  it('rejects a key.pub that is not the public key of key', async () => {
    await writeKeys(SECRET, `${PUBLIC.slice(0, -1)}9`)
    expect(await failure(readSigner(home))).toMatch(/key\.pub is not the public key of/)
  })

  it.each([
    ['not hex', 'zz'.repeat(64), PUBLIC, /key does not hold 128 hex digits/],
    ['too short', SECRET.slice(0, 127), PUBLIC, /key does not hold 128 hex digits/],
    ['empty', '', PUBLIC, /key does not hold 128 hex digits/],
    ['inner spaces', `${SECRET.slice(0, 64)} ${SECRET.slice(64)}`, PUBLIC, /key does not hold/],
    ['bad key.pub', SECRET, 'garbage', /key\.pub does not hold 64 hex digits/],
    ['zero secret', '00'.repeat(64), PUBLIC, /key/],
  ])('rejects garbage: %s', async (_, key, pub, message) => {
    await writeKeys(key, pub)
    expect(await failure(readSigner(home))).toMatch(message)
  })
})
