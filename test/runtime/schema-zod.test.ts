import { describe, expect, it } from 'vitest'
import { z } from 'zod'
import { checkService, defineService } from '../../runtime/schema.js'
import { zodModuleProblem } from '../../runtime/schema-rules.js'
import { assertService } from '../../runtime/service/check.js'
import { checkState, defineState } from '../../runtime/state/define.js'

/** What zod 3's `z.string()` and `z.object()` look like to another copy: a `_def` with a zod 3 type name, no `_zod`. */
const zod3 = (typeName: string) => ({ _def: { typeName }, parse: (value: unknown) => value })

describe('which zod', () => {
  it('names a zod 3 type in a service as such, with the fix, instead of "must be a zod type"', () => {
    const service = defineService({
      name: 'calc',
      version: 1,
      methods: { add: { input: zod3('ZodObject'), output: z.number() } },
    } as never)
    expect(checkService(service)).toEqual([
      {
        rule: 'zod-version',
        path: 'methods.add.input',
        message: 'is a zod 3 type; grenache-gen needs zod ^4.0.0 (npm install zod@^4.0.0)',
      },
    ])
    expect(() => assertService(service)).toThrow(/methods\.add\.input is a zod 3 type.*\[zod-version\]/)
    // Anything else that is not a zod type keeps the plain rule.
    const plain = defineService({
      name: 'calc',
      version: 1,
      methods: { add: { input: { parse: () => 1 }, output: z.number() } },
    } as never)
    expect(checkService(plain)).toEqual([
      { rule: 'zod', path: 'methods.add.input', message: 'must be a zod type' },
    ])
  })

  it('names a zod 3 key or leaf of a state', () => {
    const state = defineState({
      name: 'book',
      version: 1,
      key: zod3('ZodString'),
      leaf: z.object({ a: z.number() }),
    } as never)
    expect(checkState(state)).toEqual([
      {
        rule: 'zod-version',
        path: 'key',
        message: 'is a zod 3 type; grenache-gen needs zod ^4.0.0 (npm install zod@^4.0.0)',
      },
    ])
  })

  it('refuses a zod module without toJSONSchema (zod 3 loaded as the peer dependency)', () => {
    expect(zodModuleProblem(z)).toBeUndefined()
    expect(zodModuleProblem({ object: () => undefined })).toBe(
      'the zod loaded from the app is not zod 4; grenache-gen needs zod ^4.0.0 (npm install zod@^4.0.0)',
    )
  })
})
