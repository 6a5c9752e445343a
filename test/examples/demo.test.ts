import { afterAll, describe, expect, it } from 'vitest'
import { killExamples, runExample } from '../helpers/run-example.js'

describe('examples/demo.ts (npm run demo)', () => {
  afterAll(killExamples)

  it('calls workers on every transport through the other Grape, reads back both kinds of item, and exits 0', async () => {
    const run = await runExample('demo.ts')
    expect(run.stderr).toBe('')
    expect(run.code).toBe(0)
    for (const transport of ['http', 'ws', 'zmq']) {
      expect(run.stdout).toMatch(
        new RegExp(`request over ${transport}: "hello Ada, from worker-[12] over ${transport}"`),
      )
    }
    expect(run.stdout).toMatch(
      /map over ws reached 2 workers: "hello everyone, from worker-[12] over ws", "hello everyone/,
    )
    expect(run.stdout).toContain('an unknown action is refused: ERR_REMOTE (ERR_UNKNOWN_ACTION)')
    expect(run.stdout).toContain(
      'e5f96f6f38320f0f33959cb4d3d656452117aadb read back through B: "Hello World!"',
    )
    expect(run.stdout).toMatch(/\(seq 2\) read back and verified through B: "22\.0"/)
    expect(run.stdout).toContain('an older seq is refused: ERR_GRAPE_SEQ_TOO_LOW')
    expect(run.stdout).toContain('subscriber got "BTC/USD 97000"')
    expect(run.stdout.trim().endsWith('demo: ok')).toBe(true)
  })
})
