import { z } from 'zod'
import { defineService } from '../runtime/schema.js'

/**
 * The Fibonacci service of the Bitfinex tutorial "Microservices with Grenache", under the key its
 * peers already use: `fibonacci_worker`, announced and looked up as it is (no `@1`, no transport
 * tag), so grenache-nodejs-ws peers and generated peers find each other.
 *
 * The tutorial's client sends the bare object `{ number: 10 }` and its worker reads
 * `payload.number`: `wire: 'bare'` makes generated peers send and read exactly that, instead of the
 * `{ action, args }` envelope. See examples/fibonacci/legacy.ts.
 */
export const fibonacciLegacy = defineService({
  name: 'fibonacciLegacy',
  version: 1,
  key: 'fibonacci_worker',
  wire: 'bare',
  description: 'The Fibonacci worker of the Grenache tutorial, under its legacy key fibonacci_worker.',
  methods: {
    fib: {
      description: 'The Fibonacci number at place `number` (fib(0) = 0, fib(1) = 1, fib(10) = 55).',
      input: z.object({ number: z.number().int().min(0).max(1476) }),
      output: z.number(),
      idempotent: true,
    },
  },
})
