/**
 * README's sensor walkthrough, run as it is printed: the bash block after
 * `<!-- sensor-walkthrough -->`, with the grenache-cli names on PATH (as npm links them) and
 * GRENACHE_GRAPE naming a Grape of a two-Grape network.
 */
import { spawn } from 'node:child_process'
import { chmodSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs'
import { join } from 'node:path'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { ROOT } from '../../helpers/built.js'
import { BIN_DIR, ensureCliBuilt, tempHome } from '../../helpers/cli.js'
import { createTestnet, type Testnet } from '../../helpers/testnet.js'

const README = readFileSync(join(ROOT, 'README.md'), 'utf8')
const BLOCK = /<!-- sensor-walkthrough -->\n```bash\n([\s\S]*?)```/.exec(README)?.[1]
/** The output README shows after the block, with the key line as a pattern. */
const SHOWN = /<!-- \/sensor-walkthrough -->\n\nIts output:\n\n```\n([\s\S]*?)```/.exec(README)?.[1]

let net: Testnet
const home = tempHome()

beforeAll(async () => {
  ensureCliBuilt()
  net = await createTestnet(2)
  const bin = join(home.home, 'bin')
  mkdirSync(bin)
  for (const name of [
    'grenache',
    'grenache-keygen',
    'grenache-put',
    'grenache-get',
    'grenache-lookup',
    'grenache-announce',
  ]) {
    writeFileSync(
      join(bin, name),
      `#!/bin/sh\nexec "${process.execPath}" "${join(BIN_DIR, `${name}.js`)}" "$@"\n`,
    )
    chmodSync(join(bin, name), 0o755)
  }
}, 240_000)
afterAll(async () => {
  await net?.close()
  home.remove()
})

function bash(
  script: string,
  env: NodeJS.ProcessEnv,
): Promise<{ code: number | null; stdout: string; stderr: string }> {
  const child = spawn('bash', ['-euo', 'pipefail', '-c', script], { env, stdio: ['ignore', 'pipe', 'pipe'] })
  let stdout = ''
  let stderr = ''
  child.stdout.setEncoding('utf8').on('data', (chunk: string) => {
    stdout += chunk
  })
  child.stderr.setEncoding('utf8').on('data', (chunk: string) => {
    stderr += chunk
  })
  const timer = setTimeout(() => child.kill('SIGKILL'), 60_000)
  return new Promise((resolve) =>
    child.on('close', (code) => {
      clearTimeout(timer)
      resolve({ code, stdout, stderr })
    }),
  )
}

describe('README: a sensor on the DHT', () => {
  it('runs as printed and prints what README shows', async () => {
    expect(BLOCK).toBeDefined()
    expect(SHOWN).toBeDefined()
    const result = await bash(BLOCK as string, {
      PATH: `${join(home.home, 'bin')}:${process.env.PATH}`,
      HOME: home.home,
      GRENACHE_GRAPE: net.urls[0],
    })
    expect(result.stderr).toBe('')
    expect(result.code).toBe(0)
    const shown = (SHOWN as string).split('\n')
    const printed = result.stdout.split('\n')
    expect(printed).toHaveLength(shown.length)
    for (const [index, line] of shown.entries()) {
      // README cannot know the key: its line says what the key is.
      if (line.startsWith('stored under <')) expect(printed[index]).toMatch(/^stored under [0-9a-f]{40}$/)
      else expect(printed[index]).toBe(line)
    }
    expect(printed).toContain('Total connection time greater than 1 second: 1.5')
  })
})
