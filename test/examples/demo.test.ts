import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { type ExampleRun, killExamples, runExample } from '../helpers/run-example.js'

describe('examples/demo.ts (npm run demo)', () => {
  let run: ExampleRun
  beforeAll(async () => {
    run = await runExample('demo.ts')
  }, 90_000)
  afterAll(killExamples)

  it('exits 0, prints nothing on stderr, and ends with "demo: ok"', () => {
    expect(run.stderr).toBe('')
    expect(run.code).toBe(0)
    expect(run.stdout.trim().endsWith('demo: ok')).toBe(true)
  })

  it('calls workers on every transport through the other Grape, reads back both kinds of item', () => {
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
  })

  it('then runs the Fibonacci examples, their lines indented under a step each', () => {
    const start = run.stdout.indexOf('- examples/fibonacci/worker-and-client.ts: ')
    expect(start).toBeGreaterThan(run.stdout.indexOf('subscriber got'))
    const fibonacci = run.stdout.slice(start)
    for (const transport of ['http', 'ws', 'zmq']) {
      expect(fibonacci).toContain(`\n    ${transport}: fib(10) = 55\n`)
      expect(fibonacci).toContain(`\n    ${transport}: fib(1200) refused: TOO_SLOW: `)
      expect(fibonacci).toContain(
        `\n    ${transport}: fib(-1) refused: ERR_INVALID_INPUT: fibonacci.fib: n: `,
      )
      expect(fibonacci).toContain(
        `\n    ${transport}: map.fib(20) reached 2 workers: worker-1 = 6765, worker-2 = 6765\n`,
      )
    }
    const legacy = fibonacci.slice(fibonacci.indexOf('\n- examples/fibonacci/legacy.ts: '))
    expect(legacy).toContain('- examples/fibonacci/legacy.ts: the legacy key fibonacci_worker')
    expect(legacy).toContain(
      `\n    reference client -> our generated worker, the tutorial's {"number":10}: 55\n`,
    )
    expect(legacy).toContain('{"number":-1}: refused, ERR_INVALID_INPUT: number: Too small')
    expect(legacy).toContain(
      '\n    our generated client, map.fib({ number: 10 }) reached 2 workers: our generated worker: 55, the reference worker: 55\n',
    )
  })
  it('then runs the order_book examples: its codecs, and the book replicated over multicast', () => {
    expect(run.stdout).toContain('\n    upsert o-1: 9 bytes (JSON 71)\n')
    expect(run.stdout).toContain("\n    the replica equals the publisher's book (digest and levels)\n")
  })
})
