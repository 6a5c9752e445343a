import { createInterface } from 'node:readline'

/**
 * The lines of `input` as they arrive (a FIFO works), with what grenache-cli strips: comments from
 * `#` or `;` to the end of the line and the blanks before them, surrounding blanks, empty lines.
 * Ends at the end of input or when `signal` aborts.
 */
export async function* entries(input: NodeJS.ReadableStream, signal: AbortSignal): AsyncGenerator<string> {
  if (signal.aborted) return
  const lines = createInterface({ input, crlfDelay: Number.POSITIVE_INFINITY })
  const stop = (): void => lines.close()
  signal.addEventListener('abort', stop, { once: true })
  try {
    for await (const line of lines) {
      // readline still hands over the lines it had buffered when it was closed.
      if (signal.aborted) return
      const entry = line.replace(/\s*[#;].*$/, '').trim()
      if (entry !== '') yield entry
    }
  } finally {
    signal.removeEventListener('abort', stop)
    lines.close()
  }
}
