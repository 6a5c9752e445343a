/**
 * The messages between the orchestrator and a bench child, over the Node IPC channel
 * (`process.send`). A child announces itself once with `ready`, then answers `call`s by id.
 */

/** Orchestrator → child. */
export type ParentMessage =
  | { type: 'call'; id: number; method: string; params: unknown }
  /** Close what you own and exit 0 (so that `--cpu-prof` writes its profile). */
  | { type: 'stop' }

/** Child → orchestrator. */
export type ChildMessage =
  | { type: 'ready'; info: unknown }
  | { type: 'reply'; id: number; ok: true; value: unknown }
  | { type: 'reply'; id: number; ok: false; error: string }

/** Environment variable carrying a child's hard lifetime (ms). */
export const LIFETIME_ENV = 'BENCH_LIFETIME_MS'

export function isParentMessage(message: unknown): message is ParentMessage {
  const type = (message as { type?: unknown } | null)?.type
  return type === 'call' || type === 'stop'
}

export function isChildMessage(message: unknown): message is ChildMessage {
  const type = (message as { type?: unknown } | null)?.type
  return type === 'ready' || type === 'reply'
}
