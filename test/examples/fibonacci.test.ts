import { afterAll, describe, expect, it } from 'vitest'
import { killExamples, runExample } from '../helpers/run-example.js'

describe('examples/fibonacci/', () => {
  afterAll(killExamples)

  it('worker-and-client.ts: typed workers and clients on http, ws and zmq, exits 0', async () => {
    const run = await runExample('fibonacci/worker-and-client.ts')
    expect(run.stderr).toBe('')
    expect(run.code).toBe(0)
    const lines = run.stdout.trim().split('\n')
    expect(lines[0]).toMatch(/^worker-1 serves fibonacci v1 on http :\d+, ws :\d+, zmq :\d+$/)
    expect(lines[1]).toMatch(/^worker-2 serves fibonacci v1 on http :\d+, ws :\d+, zmq :\d+$/)
    expect(lines.slice(2)).toEqual(
      ['http', 'ws', 'zmq'].flatMap((transport) => [
        `${transport}: fib(10) = 55`,
        `${transport}: fib(1200) refused: TOO_SLOW: n = 1200 is above this worker's limit of 1000`,
        `${transport}: fib(-1) refused: ERR_INVALID_INPUT: fibonacci.fib: n: Too small: expected number to be >=0`,
        `${transport}: map.fib(20) reached 2 workers: worker-1 = 6765, worker-2 = 6765`,
      ]),
    )
  })

  it('legacy.ts: generated and grenache-nodejs-ws peers under fibonacci_worker, exits 0', async () => {
    const run = await runExample('fibonacci/legacy.ts')
    expect(run.stderr).toBe('')
    expect(run.code).toBe(0)
    const lines = run.stdout.trim().split('\n')
    expect(lines).toHaveLength(5)
    expect(lines[0]).toMatch(/^our generated worker announced fibonacci_worker on ws :\d+$/)
    expect(lines[1]).toBe(`reference client -> our generated worker, the tutorial's {"number":10}: 55`)
    expect(lines[2]).toBe(
      'reference client -> our generated worker, {"number":-1}: refused, ERR_INVALID_INPUT: number: Too small: expected number to be >=0',
    )
    expect(lines[3]).toMatch(/^a reference worker announced fibonacci_worker on ws :\d+$/)
    expect(lines[4]).toBe(
      'our generated client, map.fib({ number: 10 }) reached 2 workers: our generated worker: 55, the reference worker: 55',
    )
  })
})
