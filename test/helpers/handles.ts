import { setTimeout as delay } from 'node:timers/promises'

const SOCKETS = new Set(['TCPServerWrap', 'TCPSocketWrap', 'UDPWrap', 'TLSWrap', 'PipeServerWrap'])

/** Counts of open socket handles in this process, by type. */
export function socketHandles(): Record<string, number> {
  const counts: Record<string, number> = {}
  for (const type of process.getActiveResourcesInfo()) {
    if (SOCKETS.has(type)) counts[type] = (counts[type] ?? 0) + 1
  }
  return counts
}

/**
 * Waits (bounded) until the socket handles are back to `before`: what a test opened, it closed.
 * Returns the handles still open, so the test can assert they equal `before`.
 */
export async function settledHandles(
  before: Record<string, number>,
  timeoutMs = 2000,
): Promise<Record<string, number>> {
  const deadline = Date.now() + timeoutMs
  let now = socketHandles()
  while (JSON.stringify(now) !== JSON.stringify(before) && Date.now() < deadline) {
    await delay(20)
    now = socketHandles()
  }
  return now
}
