import { type ChildMessage, isParentMessage, LIFETIME_ENV } from './ipc.js'
import { handleCounts, sampleMemory } from './memory.js'

/** A method a child serves: JSON params in, JSON result out. */
// biome-ignore lint/suspicious/noExplicitAny: params arrive as JSON from the orchestrator
export type ChildMethod = (params: any) => Promise<unknown>

export interface ChildRuntimeOptions {
  methods: Record<string, ChildMethod>
  /** Closes what the child owns; bounded by a 3 s forced exit. */
  onStop(): Promise<void>
}

export interface ChildRuntime {
  /** Tells the orchestrator the child is ready (once). */
  ready(info: unknown): void
}

const FORCED_EXIT_MS = 3000

/**
 * The child side of a bench process: serves IPC calls, and exits on `stop`, on SIGTERM/SIGINT,
 * when the orchestrator goes away (IPC disconnect), and unconditionally after its hard lifetime.
 */
export function startChildRuntime(options: ChildRuntimeOptions): ChildRuntime {
  const send = process.send?.bind(process)
  if (!send) {
    process.stderr.write('a bench child must be spawned by bench/run.ts (no IPC channel)\n')
    process.exit(2)
  }
  const lifetimeMs = Number(process.env[LIFETIME_ENV])
  if (!Number.isFinite(lifetimeMs) || lifetimeMs <= 0) {
    process.stderr.write(`${LIFETIME_ENV} must be a positive number of ms\n`)
    process.exit(2)
  }
  const lifetime = setTimeout(() => {
    process.stderr.write(`bench child ${process.pid}: lifetime of ${lifetimeMs} ms is over, exiting\n`)
    process.exit(3)
  }, lifetimeMs)
  lifetime.unref()

  let stopping = false
  const stop = (code: number) => {
    if (stopping) return
    stopping = true
    setTimeout(() => process.exit(code), FORCED_EXIT_MS).unref()
    options.onStop().then(
      () => process.exit(code),
      (err: unknown) => {
        process.stderr.write(`stop failed: ${(err as Error)?.stack ?? err}\n`)
        process.exit(1)
      },
    )
  }
  process.on('SIGTERM', () => stop(0))
  process.on('SIGINT', () => stop(0))
  process.on('disconnect', () => stop(0))

  const reply = (message: ChildMessage) => {
    if (process.connected) send(message)
  }
  // Every child reports its memory and handles (the soak suite samples them), unless it says otherwise.
  const methods: Record<string, ChildMethod> = {
    memory: async (params?: { gc?: boolean }) => sampleMemory(params?.gc === true),
    handles: async () => handleCounts(),
    ...options.methods,
  }
  process.on('message', (message: unknown) => {
    if (!isParentMessage(message)) return
    if (message.type === 'stop') return stop(0)
    const method = methods[message.method]
    if (!method) {
      reply({ type: 'reply', id: message.id, ok: false, error: `unknown method ${message.method}` })
      return
    }
    method(message.params).then(
      (value) => reply({ type: 'reply', id: message.id, ok: true, value }),
      (err: unknown) =>
        reply({ type: 'reply', id: message.id, ok: false, error: (err as Error)?.stack ?? String(err) }),
    )
  })

  return {
    ready: (info) => reply({ type: 'ready', info }),
  }
}

/** The child's config, passed as one JSON argument after the script. */
export function childConfig<T>(): T {
  const text = process.argv[2]
  if (!text) throw new Error('missing the JSON config argument')
  return JSON.parse(text) as T
}
