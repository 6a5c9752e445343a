import { z } from 'zod'
import { defineService } from '../runtime/schema.js'

/** The service of the Grenache tutorial: a worker computing Fibonacci numbers. */
export const fibonacci = defineService({
  name: 'fibonacci',
  version: 1,
  description: 'Computes Fibonacci numbers, the service of the Grenache tutorial.',
  methods: {
    fib: {
      description: 'The n-th Fibonacci number (fib(0) = 0, fib(1) = 1).',
      input: z.object({ n: z.number().int().min(0).max(1476) }),
      output: z.number(),
      errors: { TOO_SLOW: 'the worker refused a large n' },
      idempotent: true,
    },
  },
})
