import { homedir } from 'node:os'

/** What a command needs from its process; tests pass their own. */
export interface CliIo {
  stdout: NodeJS.WritableStream
  stderr: NodeJS.WritableStream
  /** Read only when a command takes its input from it (a value, lines, a payload). */
  stdin: NodeJS.ReadableStream & { isTTY?: boolean }
  env: NodeJS.ProcessEnv
  /** Where `.grenache-cli/` lives (`$HOME`). */
  home: string
  /** Aborted on SIGINT/SIGTERM: long-running commands (`sub`, announce streams) end cleanly. */
  signal: AbortSignal
}

/** The real process, with SIGINT/SIGTERM turned into `signal`. */
export function processIo(): CliIo {
  const controller = new AbortController()
  const stop = (): void => controller.abort()
  process.once('SIGINT', stop)
  process.once('SIGTERM', stop)
  return {
    stdout: process.stdout,
    stderr: process.stderr,
    stdin: process.stdin,
    env: process.env,
    home: process.env.HOME || homedir(),
    signal: controller.signal,
  }
}

/** Bad usage: the command line itself is wrong. Exit 2. */
export class UsageError extends Error {
  override name = 'UsageError'
}

/** The operation failed; `message` is printed as `<cmd>: error: <message>.` Exit 1. */
export class CommandFailure extends Error {
  override name = 'CommandFailure'
}

/** Exit codes, as documented in README and `--help`. */
export const EXIT = { ok: 0, failed: 1, usage: 2 } as const

/** Writes `text` and resolves once it was handed to the stream (pipes are async). */
export function write(stream: NodeJS.WritableStream, text: string): Promise<void> {
  return new Promise((resolve) => {
    if (!stream.write(text)) stream.once('drain', resolve)
    else resolve()
  })
}

/** Everything on `stdin` as bytes. */
export async function readAll(stdin: NodeJS.ReadableStream): Promise<Buffer> {
  const chunks: Buffer[] = []
  for await (const chunk of stdin) chunks.push(typeof chunk === 'string' ? Buffer.from(chunk) : chunk)
  return Buffer.concat(chunks)
}

const strictUtf8 = new TextDecoder('utf-8', { fatal: true })

/** Bytes as UTF-8 text; undefined when they are not valid UTF-8. */
export function decodeUtf8(bytes: Uint8Array): string | undefined {
  try {
    return strictUtf8.decode(bytes)
  } catch {
    return undefined
  }
}
