import { afterAll, describe, expect, it } from 'vitest'
import { killExamples, runExample } from '../helpers/run-example.js'

describe('examples/demo.ts (npm run demo)', () => {
  afterAll(killExamples)

  it('finds a service through the other Grape, reads back both kinds of item, and exits 0', async () => {
    const run = await runExample('demo.ts')
    expect(run.stderr).toBe('')
    expect(run.code).toBe(0)
    expect(run.stdout).toMatch(/client looked "greeter" up through Grape B: 127\.0\.0\.1:\d+/)
    expect(run.stdout).toContain('"hello from the greeter"')
    expect(run.stdout).toContain(
      'e5f96f6f38320f0f33959cb4d3d656452117aadb read back through B: "Hello World!"',
    )
    expect(run.stdout).toMatch(/\(seq 2\) read back and verified through B: "22\.0"/)
    expect(run.stdout).toContain('an older seq is refused: ERR_GRAPE_SEQ_TOO_LOW')
    expect(run.stdout.trim().endsWith('demo: ok')).toBe(true)
  })
})
