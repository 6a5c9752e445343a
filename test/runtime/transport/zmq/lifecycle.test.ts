import { spawn } from 'node:child_process'
import { fileURLToPath } from 'node:url'
import { describe, expect, it } from 'vitest'

describe('the zmq classes', () => {
  it('leave nothing open after close(): a process that used them all exits by itself', async () => {
    const script = fileURLToPath(new URL('./lifecycle-child.ts', import.meta.url))
    const child = spawn(process.execPath, ['--import', 'tsx', script], {
      stdio: ['ignore', 'pipe', 'inherit'],
    })
    let output = ''
    child.stdout.on('data', (chunk: Buffer) => {
      output += chunk
    })
    const timer = setTimeout(() => child.kill('SIGKILL'), 20_000)
    const [code, signal] = await new Promise<[number | null, NodeJS.Signals | null]>((resolve) =>
      child.on('exit', (c, s) => resolve([c, s])),
    )
    clearTimeout(timer)
    expect(output).toBe('closed\n')
    expect({ code, signal }).toEqual({ code: 0, signal: null })
  })
})
