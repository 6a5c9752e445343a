/**
 * The generated worker API accepts only declared error codes: the `@ts-expect-error` lines below
 * are checked by `tsc -p tsconfig.json` (which includes test/), so a generator that let a typo
 * through would fail the type check; the runtime half checks what the typed error becomes.
 */
import { describe, expect, it } from 'vitest'
import { FibonacciError, type FibonacciWorker, isFibonacciError } from '../../../generated/fibonacci.gen.js'
import { GrenacheError } from '../../../runtime/errors.js'
import { ServiceError } from '../../../runtime/service/index.js'

describe('generated declared errors', () => {
  it('accept only the codes the service declares, at compile time', () => {
    const worker: FibonacciWorker = {
      fib: ({ n }) => {
        if (n > 90) throw new FibonacciError('TOO_SLOW', `n = ${n}`)
        // @ts-expect-error: TOO_SLOWW is not a code fibonacci declares
        if (n > 80) throw new FibonacciError('TOO_SLOWW', `n = ${n}`)
        return n
      },
    }
    const made = () => worker.fib({ n: 91 }, {} as never)
    expect(made).toThrow(FibonacciError)
    expect(made).toThrow(ServiceError)
    // @ts-expect-error: isFibonacciError takes declared codes only
    expect(isFibonacciError(new Error('x'), 'TYPO')).toBe(false)
  })

  it('do not take a plain Error whose message starts with a declared code for a declared error', () => {
    const forged = new GrenacheError('ERR_WORKER', 'TOO_SLOW: x')
    expect(isFibonacciError(forged)).toBe(false)
    expect(isFibonacciError(new Error('TOO_SLOW: x'))).toBe(false)
    expect(isFibonacciError(new GrenacheError('ERR_REMOTE', 'TOO_SLOW: x', { remoteCode: 'TOO_SLOW' }))).toBe(
      true,
    )
  })
})
