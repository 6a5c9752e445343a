import { spawn } from 'node:child_process'
import { fileURLToPath } from 'node:url'

const root = fileURLToPath(new URL('../..', import.meta.url))

export interface ExampleRun {
  code: number | null
  stdout: string
  stderr: string
}

const running = new Set<number>()

/** Runs `examples/<file>` with tsx as a user would, killed by PID after `timeoutMs`. */
export function runExample(file: string, timeoutMs = 60_000): Promise<ExampleRun> {
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, ['--import', 'tsx', `examples/${file}`], { cwd: root })
    const pid = child.pid as number
    running.add(pid)
    let stdout = ''
    let stderr = ''
    child.stdout.on('data', (chunk: Buffer) => {
      stdout += chunk
    })
    child.stderr.on('data', (chunk: Buffer) => {
      stderr += chunk
    })
    const timer = setTimeout(() => process.kill(pid, 'SIGKILL'), timeoutMs)
    child.on('error', reject)
    child.on('close', (code) => {
      clearTimeout(timer)
      running.delete(pid)
      resolve({ code, stdout, stderr })
    })
  })
}

/** Kills every example still running (afterAll safety net). */
export function killExamples(): void {
  for (const pid of running) {
    try {
      process.kill(pid, 'SIGKILL')
    } catch {
      // already gone
    }
  }
  running.clear()
}
