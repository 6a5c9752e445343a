import { type ChildProcess, spawn } from 'node:child_process'
import { mkdtempSync, rmSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { ensureBuilt, ROOT } from './built.js'

/** The built executables, as npm links them. */
export const BIN_DIR = join(ROOT, 'dist/runtime/cli/bin')

export interface CliResult {
  code: number | null
  signal: NodeJS.Signals | null
  stdout: string
  stderr: string
}

export interface CliRun {
  child: ChildProcess
  /** Output so far. */
  readonly stdout: string
  readonly stderr: string
  result: Promise<CliResult>
}

const running = new Set<ChildProcess>()

/** Builds dist/ if it is stale (once per file). */
export function ensureCliBuilt(): void {
  ensureBuilt('dist/runtime/cli/bin/grenache.js')
}

/**
 * Starts `node dist/runtime/cli/bin/<bin>.js …args` with `env` on top of a clean environment (HOME
 * and GRENACHE_* only from `env`), `stdin` written then closed (or left open with `keepStdin`).
 * Killed by PID after `timeoutMs`, so a hang fails the test instead of stalling it.
 */
export function startCli(
  bin: string,
  args: readonly string[],
  options: { env?: NodeJS.ProcessEnv; stdin?: string | Buffer; keepStdin?: boolean; timeoutMs?: number } = {},
): CliRun {
  const env: NodeJS.ProcessEnv = { PATH: process.env.PATH, ...options.env }
  const child = spawn(process.execPath, [join(BIN_DIR, `${bin}.js`), ...args], { env, stdio: 'pipe' })
  running.add(child)
  let stdout = ''
  let stderr = ''
  child.stdout?.setEncoding('utf8').on('data', (chunk: string) => {
    stdout += chunk
  })
  child.stderr?.setEncoding('utf8').on('data', (chunk: string) => {
    stderr += chunk
  })
  child.stdin?.on('error', () => {})
  if (options.stdin !== undefined) child.stdin?.write(options.stdin)
  if (!options.keepStdin) child.stdin?.end()
  const timer = setTimeout(() => child.kill('SIGKILL'), options.timeoutMs ?? 30_000)
  const result = new Promise<CliResult>((resolve) => {
    child.on('close', (code, signal) => {
      clearTimeout(timer)
      running.delete(child)
      resolve({ code, signal, stdout, stderr })
    })
  })
  return {
    child,
    get stdout() {
      return stdout
    },
    get stderr() {
      return stderr
    },
    result,
  }
}

/** Runs a command line to its end. */
export function runCli(
  bin: string,
  args: readonly string[],
  options: { env?: NodeJS.ProcessEnv; stdin?: string | Buffer; timeoutMs?: number } = {},
): Promise<CliResult> {
  return startCli(bin, args, options).result
}

/** Kills by PID every CLI process a test left running. */
export function killAllCli(): void {
  for (const child of running) child.kill('SIGKILL')
  running.clear()
}

/** A throwaway HOME under the OS temp dir. */
export function tempHome(): { home: string; remove(): void } {
  const home = mkdtempSync(join(tmpdir(), 'grenache-cli-'))
  return { home, remove: () => rmSync(home, { recursive: true, force: true }) }
}
