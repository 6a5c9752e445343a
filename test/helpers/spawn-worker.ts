import { type ChildProcess, spawn } from 'node:child_process'
import { once } from 'node:events'
import { fileURLToPath } from 'node:url'

const script = fileURLToPath(new URL('./worker-process.ts', import.meta.url))
const children = new Set<ChildProcess>()

/** Starts `worker-process.ts` serving `kind`; resolves with the child and its address. */
export async function spawnWorker(kind: string): Promise<{ child: ChildProcess; address: string }> {
  const child = spawn(process.execPath, ['--import', 'tsx', script, kind], {
    stdio: ['ignore', 'pipe', 'inherit'],
  })
  children.add(child)
  child.on('exit', () => children.delete(child))
  let output = ''
  const port = await new Promise<number>((resolve, reject) => {
    const timer = setTimeout(() => reject(new Error(`worker ${kind} did not start: ${output}`)), 20_000)
    child.stdout?.on('data', (chunk: Buffer) => {
      output += chunk
      const match = /port (\d+)/.exec(output)
      if (match) {
        clearTimeout(timer)
        resolve(Number(match[1]))
      }
    })
    child.on('exit', (code) => reject(new Error(`worker ${kind} exited with ${code}: ${output}`)))
  })
  return { child, address: `127.0.0.1:${port}` }
}

/** Kills `child` with SIGKILL and waits for it to be gone. */
export async function killWorker(child: ChildProcess): Promise<void> {
  if (child.exitCode !== null || child.signalCode !== null) return
  const exited = once(child, 'exit')
  child.kill('SIGKILL')
  await exited
}

/** Kills every worker still running (afterAll safety net). */
export async function killAllWorkers(): Promise<void> {
  await Promise.all([...children].map(killWorker))
}
