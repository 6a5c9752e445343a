import { type ChildProcess, spawn } from 'node:child_process'
import { once } from 'node:events'
import { readFileSync } from 'node:fs'
import { createServer } from 'node:net'
import { join } from 'node:path'
import { setTimeout as delay } from 'node:timers/promises'
import { fileURLToPath } from 'node:url'
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest'
import { ensureBuilt } from '../../helpers/built.js'

const ROOT = fileURLToPath(new URL('../../../', import.meta.url))
// The `grape` executable as package.json ships it: the bundle of runtime/grape/cli.ts.
const CLI = join(ROOT, 'dist/bundle/grape-cli.js')
/** Never the public network: the DHT binds loopback, ports are picked by the OS. */
const LOOPBACK = ['--dp', '0', '--aph', '0', '--dht_host', '127.0.0.1']
/** The documented ready line. */
const READY = /^grape: api (http:\/\/\S+), dht (\S+):(\d+), (\d+) DHT nodes?$/m

interface Spawned {
  child: ChildProcess
  stdout: string
  stderr: string
  /** Resolves when the process exited and its output was read. */
  closed: Promise<{ code: number | null; signal: NodeJS.Signals | null }>
  done: boolean
}

const spawned: Spawned[] = []

/** Kills by PID whatever is still running: no test leaves a grape behind, pass or fail. */
function killAll(): void {
  for (const proc of spawned.splice(0)) {
    const pid = proc.child.pid
    if (pid !== undefined && proc.child.exitCode === null && proc.child.signalCode === null) {
      try {
        process.kill(pid, 'SIGKILL')
      } catch {
        // Already gone between the check and the kill.
      }
    }
  }
}

function grape(args: string[], env: NodeJS.ProcessEnv = {}): Spawned {
  const childEnv = { ...process.env, ...env }
  if (!('NODE_DEBUG' in env)) delete childEnv.NODE_DEBUG
  const child = spawn(process.execPath, [CLI, ...args], { cwd: ROOT, env: childEnv, stdio: 'pipe' })
  const proc: Spawned = {
    child,
    stdout: '',
    stderr: '',
    done: false,
    closed: once(child, 'close').then(([code, signal]) => {
      proc.done = true
      return { code: code as number | null, signal: signal as NodeJS.Signals | null }
    }),
  }
  spawned.push(proc)
  child.stdout?.setEncoding('utf8').on('data', (chunk: string) => {
    proc.stdout += chunk
  })
  child.stderr?.setEncoding('utf8').on('data', (chunk: string) => {
    proc.stderr += chunk
  })
  return proc
}

/** Waits (bounded) for the ready line and returns what it says. */
async function ready(proc: Spawned, timeoutMs = 15_000) {
  const deadline = Date.now() + timeoutMs
  let match = READY.exec(proc.stdout)
  while (!match) {
    if (proc.done) throw new Error(`grape exited before it was ready: ${proc.stderr}`)
    if (Date.now() > deadline) throw new Error(`grape not ready after ${timeoutMs} ms: ${proc.stderr}`)
    await delay(20)
    match = READY.exec(proc.stdout)
  }
  return { url: match[1] as string, dhtPort: Number(match[3]), nodes: Number(match[4]) }
}

/** The exit status, or a rejection after a generous bound. */
async function exited(proc: Spawned, timeoutMs = 10_000) {
  const timeout = delay(timeoutMs, 'timeout', { ref: false })
  const result = await Promise.race([proc.closed, timeout])
  if (result === 'timeout') throw new Error(`grape still running after ${timeoutMs} ms: ${proc.stderr}`)
  return result
}

async function post(url: string, op: string, data: unknown): Promise<string> {
  const response = await fetch(`${url}/${op}`, {
    method: 'POST',
    body: JSON.stringify({ rid: 'x', data }),
    headers: { connection: 'close' },
  })
  return response.text()
}

const ensureBuiltCli = (): void => ensureBuilt('dist/bundle/grape-cli.js')

describe('grape (the built binary)', () => {
  beforeAll(ensureBuiltCli, 120_000)
  afterEach(killAll)
  afterAll(killAll)

  describe('help, version and bad flags', () => {
    it.each([['--help'], ['-h']])('%s prints the help to stdout and exits 0', async (flag) => {
      const proc = grape([flag])
      expect(await exited(proc)).toEqual({ code: 0, signal: null })
      expect(proc.stdout).toMatch(/^Usage: grape --dp/)
      expect(proc.stdout).toContain('--lookup_refresh')
      expect(proc.stderr).toBe('')
    })

    it.each([['--version'], ['-V']])('%s prints the package version and exits 0', async (flag) => {
      const { version } = JSON.parse(readFileSync(join(ROOT, 'package.json'), 'utf8')) as { version: string }
      const proc = grape([flag])
      expect(await exited(proc)).toEqual({ code: 0, signal: null })
      expect(proc.stdout).toBe(`${version}\n`)
    })

    it.each([
      [['--dp', '0', '--aph', '0', '--bn', '', '--nope'], 'unknown flag --nope'],
      [
        ['--dp', 'x', '--aph', '0', '--bn', ''],
        '--dp/--dht_port must be an integer from 0 to 65535, got "x"',
      ],
      [['--dp', '0', '--aph', '0', '--bn', 'nowhere'], '--bn/--bootstrap item 1 must be "host:port"'],
      [['--dp', '0', '--aph', '0'], 'missing required flag --bn/--bootstrap'],
      [['--dp', '0', '--aph', '0', '--bn', '', 'extra'], 'unexpected argument "extra"'],
      [
        ['--dp', '0', '--aph', '0', '--bn', '', '--allowed_hosts', 'http://grape.internal'],
        '--allowed_hosts item 1 must be "*" or a host name or address',
      ],
      [
        ['--dp', '0', '--aph', '0', '--bn', '', '--allowed_origins', 'evil.example'],
        '--allowed_origins item 1 must be "*", "null" or an origin',
      ],
    ])('%j exits 2 with a message on stderr', async (args, message) => {
      const proc = grape(args)
      expect(await exited(proc)).toEqual({ code: 2, signal: null })
      expect(proc.stderr).toContain(`grape: ${message}`)
      expect(proc.stderr).toContain("Run 'grape --help'")
      expect(proc.stdout).toBe('')
    })
  })

  describe('running', () => {
    it('prints the ready line, then closes on SIGTERM with exit 0 and nothing on stderr', async () => {
      const proc = grape([...LOOPBACK, '--bn', ''])
      const { url, dhtPort, nodes } = await ready(proc)
      expect(url).toMatch(/^http:\/\/127\.0\.0\.1:\d+$/)
      expect(dhtPort).toBeGreaterThan(0)
      expect(nodes).toBe(0)
      expect(proc.stdout).toMatch(
        /^grape: api http:\/\/127\.0\.0\.1:\d+, dht 127\.0\.0\.1:\d+, 0 DHT nodes\n$/,
      )
      proc.child.kill('SIGTERM')
      expect(await exited(proc)).toEqual({ code: 0, signal: null })
      expect(proc.stderr).toBe('')
    })

    it('closes on SIGINT with exit 0', async () => {
      const proc = grape([...LOOPBACK, '--bn', ''])
      await ready(proc)
      proc.child.kill('SIGINT')
      expect(await exited(proc)).toEqual({ code: 0, signal: null })
    })

    it('two grapes bootstrapped to each other: an announce through one is found through the other', async () => {
      const first = grape([...LOOPBACK, '--bn', ''])
      const a = await ready(first)
      const second = grape([...LOOPBACK, '--bn', `127.0.0.1:${a.dhtPort}`])
      const b = await ready(second)
      expect(b.nodes).toBeGreaterThanOrEqual(1)

      // The first Grape learns of the second from its bootstrap query; retry until the DHT settled.
      const deadline = Date.now() + 15_000
      let found = ''
      while (found !== '["127.0.0.1:4000"]' && Date.now() < deadline) {
        await post(a.url, 'announce', ['svc', 4000])
        found = await post(b.url, 'lookup', 'svc')
        if (found !== '["127.0.0.1:4000"]') await delay(100)
      }
      expect(JSON.parse(found)).toEqual(['127.0.0.1:4000'])

      first.child.kill('SIGTERM')
      second.child.kill('SIGTERM')
      expect(await exited(first)).toEqual({ code: 0, signal: null })
      expect(await exited(second)).toEqual({ code: 0, signal: null })
    })

    it('exits 1 with ERR_ADDRESS_IN_USE when the API port is taken', async () => {
      const blocker = createServer()
      blocker.listen(0, '127.0.0.1')
      await once(blocker, 'listening')
      try {
        const port = (blocker.address() as { port: number }).port
        const proc = grape(['--dp', '0', '--aph', String(port), '--dht_host', '127.0.0.1', '--bn', ''])
        expect(await exited(proc)).toEqual({ code: 1, signal: null })
        expect(proc.stderr).toMatch(/^grape: ERR_ADDRESS_IN_USE: .*EADDRINUSE/)
        expect(proc.stdout).toBe('')
      } finally {
        blocker.close()
      }
    })

    it('keeps running when nobody reads its stdout any more (grape … | head -1)', async () => {
      const blocker = createServer().listen(0, '127.0.0.1')
      await once(blocker, 'listening')
      const port = (blocker.address() as { port: number }).port
      await new Promise((resolve) => blocker.close(resolve))
      const proc = grape(['--dp', '0', '--aph', String(port), '--dht_host', '127.0.0.1', '--bn', ''])
      proc.child.stdout?.destroy() // the ready line now fails with EPIPE
      const deadline = Date.now() + 15_000
      let answer: string | undefined
      while (answer === undefined && !proc.done && Date.now() < deadline) {
        answer = await post(`http://127.0.0.1:${port}`, 'lookup', 'svc').catch(() => undefined)
        if (answer === undefined) await delay(50)
      }
      expect(answer).toBe('[]')
      await delay(100) // the ready line was written by now: the process must still be there
      expect(proc.done).toBe(false)
      proc.child.kill('SIGTERM')
      expect(await exited(proc)).toEqual({ code: 0, signal: null })
    })

    it('with NODE_DEBUG=grenache, traces to stderr and still exits 0 on SIGTERM', async () => {
      const proc = grape([...LOOPBACK, '--bn', ''], { NODE_DEBUG: 'grenache' })
      await ready(proc)
      proc.child.kill('SIGTERM')
      expect(await exited(proc)).toEqual({ code: 0, signal: null })
      expect(proc.stderr).toMatch(/GRENACHE \d+: grape ready/)
    })
  })
})
