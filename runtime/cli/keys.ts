import { randomBytes } from 'node:crypto'
import { chmod, mkdir, open, readFile, rename, rm, stat, writeFile } from 'node:fs/promises'
import { join } from 'node:path'
import { fromHex, toHex } from '../bep44/bytes.js'
import { createSigner, expandSeed, type Signer } from '../bep44/ed25519.js'
import { isGrenacheError } from '../errors.js'
import { CommandFailure } from './io.js'

/** grenache-cli's files, which both CLIs share: `~/.grenache-cli/{key,key.pub,grenache-cli.conf}`. */
export function keyPaths(home: string) {
  const dir = join(home, '.grenache-cli')
  return { dir, key: join(dir, 'key'), pub: join(dir, 'key.pub'), conf: join(dir, 'grenache-cli.conf') }
}

/**
 * The curl config grenache-cli's commands read (`curl -K`); it must exist for them to run. We do not
 * read it ourselves, we write it so that grenache-cli works with a directory we created.
 */
const CURL_CONFIG = [
  '#',
  '# General',
  '#',
  'silent',
  'no-buffer',
  'max-time 10',
  'connect-timeout 5',
  '',
  '#',
  '# Request',
  '#',
  'compressed',
  'tcp-nodelay',
  'tcp-fastopen',
  'request POST',
  'data-binary = "@-"',
  '',
  '#',
  '# Headers',
  '#',
  'header = "Connection: close"',
  'header = "Accept: application/json"',
  'header = "Content-Type: application/json; charset=UTF-8"',
  '',
].join('\n')

/**
 * Writes a new key pair as grenache-cli's `grc-keygen` does: `key` holds the 64-byte expanded
 * secret (SHA-512 of a random seed, clamped; the seed is dropped) as 128 lower-case hex digits,
 * `key.pub` the 32-byte public key as 64; no newline; directory 0700, files 0600. The curl config
 * is written whenever it is missing. Without `force`, existing keys are kept and it fails.
 */
export async function generateKeyFiles(home: string, force: boolean): Promise<void> {
  const paths = keyPaths(home)
  await mkdir(paths.dir, { recursive: true, mode: 0o700 })
  await writeFile(paths.conf, CURL_CONFIG, { flag: 'wx', mode: 0o600 }).catch(
    (err: NodeJS.ErrnoException) => {
      if (err.code !== 'EEXIST') throw err
    },
  )
  const existing = await Promise.all([paths.key, paths.pub].map((path) => stat(path).catch(() => undefined)))
  for (const [i, found] of existing.entries()) {
    if (found?.isDirectory()) throw new CommandFailure(notAFile(i === 0 ? paths.key : paths.pub))
  }
  const seed = randomBytes(32)
  const secret = expandSeed(seed)
  seed.fill(0)
  const signer = createSigner(secret)
  if (force) {
    // A crash halfway must not leave a key with the wrong public key next to it.
    await replaceFile(paths.key, toHex(secret))
    await replaceFile(paths.pub, toHex(signer.publicKey))
    return
  }
  if (existing.some(Boolean))
    throw new CommandFailure('cannot create new keypair: one exists (-f replaces it)')
  await writeNew(paths.key, toHex(secret))
  await writeNew(paths.pub, toHex(signer.publicKey))
}

/** Creates `path` (never replacing a file that appeared meanwhile) and flushes it to disk. */
async function writeNew(path: string, text: string): Promise<void> {
  const file = await open(path, 'wx', 0o600).catch((err: NodeJS.ErrnoException) => {
    if (err.code === 'EEXIST')
      throw new CommandFailure('cannot create new keypair: one exists (-f replaces it)')
    throw err
  })
  try {
    await file.writeFile(text)
    await file.sync()
  } finally {
    await file.close()
  }
}

async function replaceFile(path: string, text: string): Promise<void> {
  const temporary = `${path}.${process.pid}.tmp`
  try {
    await writeFile(temporary, text, { mode: 0o600, flush: true })
    await chmod(temporary, 0o600)
    await rename(temporary, path)
  } finally {
    await rm(temporary, { force: true })
  }
}

/**
 * The signer of `~/.grenache-cli/key`: grenache-cli's 128-hex expanded secret (or a 64-hex seed),
 * in either case, trailing whitespace ignored, checked against `key.pub`.
 */
export async function readSigner(home: string): Promise<Signer> {
  const paths = keyPaths(home)
  // One after the other, so that what is wrong with `key` is reported first; a file that cannot
  // be read for another reason than being absent is reported as it is (grenache-keygen would not
  // replace a directory).
  let keyText = await readKeyFile(paths.key)
  const pubText = await readKeyFile(paths.pub)
  if (keyText === undefined || pubText === undefined) {
    throw new CommandFailure("you need to run `grenache-keygen' first")
  }
  keyText = keyText.trim()
  const secret = fromHex(keyText, 64) ?? fromHex(keyText, 32)
  if (!secret) throw new CommandFailure(`${paths.key} does not hold 128 hex digits`)
  const publicKey = fromHex(pubText.trim(), 32)
  if (!publicKey) throw new CommandFailure(`${paths.pub} does not hold 64 hex digits`)
  try {
    return createSigner(secret, publicKey)
  } catch (err) {
    if (isGrenacheError(err, 'ERR_INVALID_ARGUMENT'))
      throw new CommandFailure(`${paths.pub} is not the public key of ${paths.key}`)
    throw err
  }
}

/** The text of a key file, or undefined when there is none; any other problem is a failure naming it. */
async function readKeyFile(path: string): Promise<string | undefined> {
  try {
    return await readFile(path, 'utf8')
  } catch (err) {
    const code = (err as NodeJS.ErrnoException).code
    if (code === 'ENOENT') return undefined
    if (code === 'EISDIR') throw new CommandFailure(notAFile(path))
    if (code === 'ENOTDIR') throw new CommandFailure(`cannot read ${path}: a folder on its path is a file`)
    throw new CommandFailure(`cannot read ${path}: ${(err as Error).message}`)
  }
}

const notAFile = (path: string): string => `${path} is a directory, not a key file`
