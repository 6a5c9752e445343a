import { type ChildProcess, spawn } from 'node:child_process'
import { once } from 'node:events'
import { createServer } from 'node:net'
import { setTimeout as delay } from 'node:timers/promises'
import { fileURLToPath } from 'node:url'
import { GrenacheError } from '../../../../runtime/errors.js'

/** The code a promise rejects with, `'resolved'`, or a note that it threw something else. */
export function codeOf(promise: Promise<unknown>): Promise<string> {
  return promise.then(
    () => 'resolved',
    (err: unknown) => (err instanceof GrenacheError ? err.code : `not a GrenacheError: ${String(err)}`),
  )
}

/** The error a promise rejects with (fails the test if it resolves). */
export async function rejection(promise: Promise<unknown>): Promise<GrenacheError> {
  try {
    await promise
  } catch (err) {
    if (err instanceof GrenacheError) return err
    throw new Error(`expected a GrenacheError, got ${String(err)}`)
  }
  throw new Error('expected a rejection, the promise resolved')
}

/** How long `promise` takes to settle, in ms, with how it settled. */
export async function timed<T>(promise: Promise<T>): Promise<{ ms: number; code: string }> {
  const start = performance.now()
  const code = await codeOf(promise)
  return { ms: performance.now() - start, code }
}

/** Waits (bounded) until `check()` is true; throws with `what` when the time is up. */
export async function until(check: () => boolean, what: string, timeoutMs = 5000): Promise<void> {
  const deadline = Date.now() + timeoutMs
  while (!check()) {
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`)
    await delay(10)
  }
}

/** A TCP port nothing listens on (bound by the OS a moment ago, then released). */
export async function freePort(): Promise<number> {
  const server = createServer()
  server.listen(0, '127.0.0.1')
  await once(server, 'listening')
  const { port } = server.address() as { port: number }
  server.close()
  await once(server, 'close')
  return port
}

const children = new Set<ChildProcess>()

/** Starts a TypeScript script of this folder in its own process; resolves once it printed `port <n>`. */
export async function spawnScript(
  name: string,
  args: string[] = [],
): Promise<{ child: ChildProcess; port: number }> {
  const script = fileURLToPath(new URL(name, import.meta.url))
  const child = spawn(process.execPath, ['--import', 'tsx', script, ...args], {
    stdio: ['ignore', 'pipe', 'inherit'],
  })
  children.add(child)
  child.on('exit', () => children.delete(child))
  let output = ''
  const port = await new Promise<number>((resolve, reject) => {
    const timer = setTimeout(() => reject(new Error(`${name} did not start: ${output}`)), 20_000)
    child.stdout?.on('data', (chunk: Buffer) => {
      output += chunk
      const match = /port (\d+)/.exec(output)
      if (match) {
        clearTimeout(timer)
        resolve(Number(match[1]))
      }
    })
    child.on('exit', (code) => {
      clearTimeout(timer)
      reject(new Error(`${name} exited with ${code}: ${output}`))
    })
  })
  return { child, port }
}

/** Kills `child` with SIGKILL and waits for it to be gone. */
export async function kill(child: ChildProcess): Promise<void> {
  if (child.exitCode !== null || child.signalCode !== null) return
  const exited = once(child, 'exit')
  child.kill('SIGKILL')
  await exited
}

/** Kills every child still running (afterAll safety net). */
export async function killAll(): Promise<void> {
  await Promise.all([...children].map(kill))
}
