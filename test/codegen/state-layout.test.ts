import { describe, expect, it } from 'vitest'
import { z } from 'zod'
import { type LayoutProblem, wireType } from '../../codegen/state/layout.js'

const layout = (schema: z.ZodType) => {
  const problems: LayoutProblem[] = []
  const type = wireType(schema, 'leaf.x', problems)
  expect(problems).toEqual([])
  return type
}

describe('number bounds in the wire layout', () => {
  it('keeps the tightest bound, exclusive only when the tightest check is', () => {
    expect(layout(z.number().gt(0).gte(5))).toEqual({ type: 'f64', minimum: 5 })
    expect(layout(z.number().gte(0).gt(5))).toEqual({ type: 'f64', exclusiveMinimum: 5 })
    expect(layout(z.number().gte(5).gt(5))).toEqual({ type: 'f64', exclusiveMinimum: 5 })
    expect(layout(z.number().lt(10).lte(3))).toEqual({ type: 'f64', maximum: 3 })
    expect(layout(z.number().lte(10).lt(3))).toEqual({ type: 'f64', exclusiveMaximum: 3 })
  })

  it('turns exclusive integer bounds into inclusive ones', () => {
    expect(layout(z.number().int().gt(0).gte(5))).toEqual({ type: 'uint', minimum: 5 })
    expect(layout(z.number().int().gte(0).gt(5))).toEqual({ type: 'uint', minimum: 6 })
    expect(layout(z.number().int().gte(-3).lt(10).lte(20))).toEqual({ type: 'int', minimum: -3, maximum: 9 })
  })
})
