import { type ChildProcess, spawn } from 'node:child_process'
import { fileURLToPath } from 'node:url'
import { type ChildMessage, isChildMessage, LIFETIME_ENV, type ParentMessage } from './ipc.js'

/** The repository root: children run with it as their working directory. */
export const ROOT = fileURLToPath(new URL('../..', import.meta.url))

export interface SpawnChildOptions {
  /** A short label for logs, e.g. `ours-grape1`. */
  name: string
  /**
   * The entry point, relative to the repository root: TypeScript run with `node --import tsx`, or
   * (with `tsx: false`) JavaScript run by node alone.
   */
  script: string
  /** Load tsx (default); false runs `script` with plain node. */
  tsx?: boolean
  /** Arguments after the script. */
  args?: string[]
  /** Extra Node flags, e.g. `--cpu-prof`. */
  nodeArgs?: string[]
  /** Hard lifetime: the child exits on its own after this long, and is SIGKILLed a little later. */
  lifetimeMs: number
  /** Forward the child's stdout/stderr live (otherwise only the tail is shown when it fails). */
  verbose?: boolean
}

const KILL_GRACE_MS = 2000
const TAIL_LINES = 40

/** Every child still alive, by PID. */
const live = new Map<number, BenchChild>()

/**
 * One bench child process, tracked by PID: IPC calls with timeouts, a watchdog that SIGKILLs it
 * after its lifetime, and `stop()` (IPC stop, then SIGTERM, then SIGKILL).
 */
export class BenchChild {
  readonly name: string
  readonly pid: number
  readonly exited: Promise<number | null>
  readonly #process: ChildProcess
  readonly #pending = new Map<number, { resolve(value: unknown): void; reject(error: Error): void }>()
  readonly #tail: string[] = []
  readonly #watchdog: NodeJS.Timeout
  #ready: Promise<unknown>
  #nextId = 1
  #exitCode: number | null | undefined
  #stopping: Promise<void> | undefined

  constructor(options: SpawnChildOptions) {
    this.name = options.name
    const child = spawn(
      process.execPath,
      [
        ...(options.nodeArgs ?? []),
        ...(options.tsx === false ? [] : ['--import', 'tsx']),
        options.script,
        ...(options.args ?? []),
      ],
      {
        cwd: ROOT,
        stdio: ['ignore', 'pipe', 'pipe', 'ipc'],
        env: { ...process.env, [LIFETIME_ENV]: String(options.lifetimeMs) },
      },
    )
    if (child.pid === undefined) throw new Error(`could not spawn ${options.name}`)
    this.pid = child.pid
    this.#process = child
    live.set(this.pid, this)

    for (const stream of [child.stdout, child.stderr]) {
      let partial = ''
      stream?.setEncoding('utf8')
      stream?.on('data', (chunk: string) => {
        const lines = (partial + chunk).split('\n')
        partial = lines.pop() ?? ''
        for (const line of lines) this.#log(line, options.verbose === true)
      })
    }

    this.exited = new Promise((resolve) => {
      child.on('exit', (code, signal) => {
        this.#exitCode = code ?? (signal ? -1 : null)
        live.delete(this.pid)
        clearTimeout(this.#watchdog)
        const reason = new Error(
          `${this.name} (pid ${this.pid}) exited (${signal ?? code})${this.#tailText()}`,
        )
        for (const call of this.#pending.values()) call.reject(reason)
        this.#pending.clear()
        resolve(code)
      })
    })

    this.#ready = new Promise((resolve, reject) => {
      child.on('message', (message: unknown) => {
        if (!isChildMessage(message)) return
        if (message.type === 'ready') resolve(message.info)
        else this.#settle(message)
      })
      this.exited.then(() => reject(new Error(`${this.name} exited before it was ready${this.#tailText()}`)))
    })
    this.#ready.catch(() => undefined)

    // The child has its own lifetime timer; this one catches a child stuck in a busy loop.
    this.#watchdog = setTimeout(() => {
      process.stderr.write(`bench: ${this.name} (pid ${this.pid}) outlived its lifetime, SIGKILL\n`)
      this.#signal('SIGKILL')
    }, options.lifetimeMs + 5000)
    this.#watchdog.unref()
  }

  /** Resolves with the child's `ready` info; rejects if it exits first or after `timeoutMs`. */
  ready<T>(timeoutMs: number): Promise<T> {
    return withTimeout(this.#ready as Promise<T>, timeoutMs, `${this.name} not ready after ${timeoutMs} ms`)
  }

  /** Calls `method` in the child; rejects with the child's error, on exit, or after `timeoutMs`. */
  call<T>(method: string, params: unknown, timeoutMs: number): Promise<T> {
    if (this.#exitCode !== undefined) return Promise.reject(new Error(`${this.name} has exited`))
    const id = this.#nextId++
    const reply = new Promise<unknown>((resolve, reject) => this.#pending.set(id, { resolve, reject }))
    this.#send({ type: 'call', id, method, params })
    return withTimeout(
      reply as Promise<T>,
      timeoutMs,
      `${this.name}.${method} timed out after ${timeoutMs} ms`,
    )
  }

  /** Asks the child to exit (IPC), then SIGTERM after `graceMs`, then SIGKILL; idempotent. */
  stop(graceMs = 5000): Promise<void> {
    this.#stopping ??= (async () => {
      if (this.#exitCode !== undefined) return
      this.#send({ type: 'stop' })
      if (await this.#exitsWithin(graceMs)) return
      this.#signal('SIGTERM')
      if (await this.#exitsWithin(KILL_GRACE_MS)) return
      this.#signal('SIGKILL')
      await this.#exitsWithin(KILL_GRACE_MS)
    })()
    return this.#stopping
  }

  /** Immediate SIGKILL by PID (for a synchronous `exit` handler). */
  kill(): void {
    this.#signal('SIGKILL')
  }

  #send(message: ParentMessage): void {
    if (this.#process.connected) this.#process.send(message)
  }

  #settle(message: Extract<ChildMessage, { type: 'reply' }>): void {
    const call = this.#pending.get(message.id)
    if (!call) return
    this.#pending.delete(message.id)
    if (message.ok) call.resolve(message.value)
    else call.reject(new Error(`${this.name}: ${message.error}`))
  }

  #signal(signal: NodeJS.Signals): void {
    if (this.#exitCode !== undefined) return
    try {
      process.kill(this.pid, signal)
    } catch {
      // Already gone.
    }
  }

  async #exitsWithin(ms: number): Promise<boolean> {
    let timer: NodeJS.Timeout | undefined
    const timeout = new Promise<false>((resolve) => {
      timer = setTimeout(() => resolve(false), ms)
    })
    const done = await Promise.race([this.exited.then(() => true), timeout])
    clearTimeout(timer)
    return done
  }

  #log(line: string, forward: boolean): void {
    this.#tail.push(line)
    if (this.#tail.length > TAIL_LINES) this.#tail.shift()
    if (forward) process.stderr.write(`[${this.name}] ${line}\n`)
  }

  #tailText(): string {
    return this.#tail.length > 0 ? `\n--- last output of ${this.name} ---\n${this.#tail.join('\n')}` : ''
  }
}

/** Spawns a tracked child. */
export function spawnChild(options: SpawnChildOptions): BenchChild {
  return new BenchChild(options)
}

/** Stops every live child (each: IPC stop, SIGTERM, SIGKILL). */
export async function stopAllChildren(graceMs = 2000): Promise<void> {
  await Promise.all([...live.values()].map((child) => child.stop(graceMs)))
}

/** PIDs of the children still alive. */
export function liveChildPids(): number[] {
  return [...live.keys()]
}

let installed = false

/**
 * Makes sure no child outlives the orchestrator: SIGKILL on `exit`, a graceful stop of every child
 * on SIGINT/SIGTERM, on an uncaught error, and when the orchestrator's own `deadlineMs` passes.
 */
export function installChildCleanup(deadlineMs: number): void {
  if (installed) return
  installed = true
  process.on('exit', () => {
    for (const child of live.values()) child.kill()
  })
  const shutdown = (why: string, code: number) => {
    process.stderr.write(`\nbench: ${why}; stopping ${live.size} child process(es)\n`)
    stopAllChildren().finally(() => process.exit(code))
  }
  process.once('SIGINT', () => shutdown('SIGINT', 130))
  process.once('SIGTERM', () => shutdown('SIGTERM', 143))
  process.on('uncaughtException', (err) => shutdown(`uncaught error: ${err.stack ?? err}`, 1))
  process.on('unhandledRejection', (err) =>
    shutdown(`unhandled rejection: ${(err as Error)?.stack ?? err}`, 1),
  )
  const deadline = setTimeout(() => shutdown(`the bench ran longer than ${deadlineMs} ms`, 1), deadlineMs)
  deadline.unref()
}

function withTimeout<T>(promise: Promise<T>, ms: number, message: string): Promise<T> {
  let timer: NodeJS.Timeout | undefined
  const timeout = new Promise<never>((_, reject) => {
    timer = setTimeout(() => reject(new Error(message)), ms)
  })
  return Promise.race([promise, timeout]).finally(() => clearTimeout(timer))
}
