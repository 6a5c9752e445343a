/**
 * One-shot processes of the codegen suite (the build, the grenache-gen CLI, the phase probe), tracked
 * by PID. Each runs in a process group of its own (`detached`), so that killing it also kills what
 * it started (the CLI's loader child); it is SIGKILLed at its time limit, and every group still alive
 * is SIGKILLed when the orchestrator exits (bench/run.ts exits through `process.exit` on normal
 * end, on error, on SIGINT/SIGTERM and at its deadline, so the `exit` handler always runs).
 * The IPC children (typed-layer client and worker) are BenchChild's (bench/lib/children.ts).
 */
import { spawn } from 'node:child_process'
import { readFileSync } from 'node:fs'
import { performance } from 'node:perf_hooks'
import { ROOT } from '../lib/children.js'
import { clockTicksPerSecond } from '../lib/proc-cpu.js'

export interface RunOptions {
  /** A label for errors. */
  name: string
  /** SIGKILL (the whole group) after this long. */
  timeoutMs: number
  env?: NodeJS.ProcessEnv
  cwd?: string
}

export interface RunResult {
  /** Exit code, or null when killed by a signal. */
  code: number | null
  signal: NodeJS.Signals | null
  timedOut: boolean
  stdout: string
  stderr: string
  /** Spawn → exit, ms. */
  wallMs: number
  /**
   * CPU of the process and of the children it waited for (the CLI's loader child), ms: the change of
   * this process's `cutime + cstime` (/proc/self/stat, 10 ms ticks) across the run. Valid because the
   * suite runs one process at a time while it times the generator.
   */
  cpuMs: number
}

/** Process groups (= leader PIDs) still alive. */
const groups = new Set<number>()
let exitHook = false

function killGroup(pid: number): void {
  try {
    process.kill(-pid, 'SIGKILL')
  } catch {
    // The group is gone.
  }
}

/** Whether any process of group `pid` is still alive (a PID cannot be reused while its group exists). */
function groupAlive(pid: number): boolean {
  try {
    process.kill(-pid, 0)
    return true
  } catch {
    return false
  }
}

/** CPU of the children this process has waited for, ms (fields 16 and 17 of /proc/self/stat). */
export function waitedChildrenCpuMs(): number {
  const stat = readFileSync('/proc/self/stat', 'utf8')
  const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ')
  const cutime = Number(fields[16 - 3])
  const cstime = Number(fields[17 - 3])
  return ((cutime + cstime) * 1000) / clockTicksPerSecond()
}

/** Runs `command` to its end (or its time limit) in its own process group; never rejects on exit codes. */
export function runTracked(
  command: string,
  args: readonly string[],
  options: RunOptions,
): Promise<RunResult> {
  if (!exitHook) {
    exitHook = true
    process.on('exit', () => {
      for (const pid of groups) killGroup(pid)
    })
  }
  const cpuBefore = waitedChildrenCpuMs()
  const begin = performance.now()
  const child = spawn(command, args, {
    cwd: options.cwd ?? ROOT,
    env: options.env ?? process.env,
    stdio: ['ignore', 'pipe', 'pipe'],
    detached: true,
  })
  const pid = child.pid
  if (pid === undefined) return Promise.reject(new Error(`could not spawn ${options.name}`))
  groups.add(pid)
  let stdout = ''
  let stderr = ''
  child.stdout.setEncoding('utf8').on('data', (chunk: string) => {
    stdout += chunk
  })
  child.stderr.setEncoding('utf8').on('data', (chunk: string) => {
    stderr += chunk
  })
  let timedOut = false
  const timer = setTimeout(() => {
    timedOut = true
    killGroup(pid)
  }, options.timeoutMs)
  let exitedAt: number | undefined
  child.once('exit', () => {
    exitedAt = performance.now()
  })
  return new Promise((resolve, reject) => {
    child.once('error', (err) => {
      clearTimeout(timer)
      killGroup(pid)
      groups.delete(pid)
      reject(err)
    })
    child.once('close', (code, signal) => {
      const wallMs = (exitedAt ?? performance.now()) - begin
      clearTimeout(timer)
      // The leader is gone; anything it left in its group (a loader child of a crashed CLI) goes too.
      if (groupAlive(pid)) {
        stderr += `\n(bench: ${options.name} left processes in its group; killed)`
        killGroup(pid)
      }
      groups.delete(pid)
      resolve({ code, signal, timedOut, stdout, stderr, wallMs, cpuMs: waitedChildrenCpuMs() - cpuBefore })
    })
  })
}

/** Groups still alive (for the suite's final check). */
export function liveGroups(): number[] {
  return [...groups].filter(groupAlive)
}

/** The last lines of a process's output, for error messages. */
export function tail(text: string, lines = 12): string {
  return text.trimEnd().split('\n').slice(-lines).join('\n')
}
