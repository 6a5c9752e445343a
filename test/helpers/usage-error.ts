import { expect } from 'vitest'
import { UsageError } from '../../runtime/cli/io.js'

/** The message of the UsageError `fn` throws; fails the test when it throws anything else or nothing. */
export function usageError(fn: () => unknown): string {
  try {
    fn()
  } catch (err) {
    expect(err).toBeInstanceOf(UsageError)
    return (err as Error).message
  }
  throw new Error('expected a UsageError')
}
