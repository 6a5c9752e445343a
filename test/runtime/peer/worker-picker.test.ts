import { describe, expect, it } from 'vitest'
import { WorkerPicker } from '../../../runtime/peer/worker-picker.js'

describe('WorkerPicker', () => {
  describe('pick()', () => {
    it('returns the only worker, and undefined when there is none', () => {
      const picker = new WorkerPicker(() => false, 1000)
      expect(picker.pick(['a:1'])).toBe('a:1')
      expect(picker.pick([])).toBeUndefined()
    })

    it('spreads requests over every worker', () => {
      const picker = new WorkerPicker(() => false, 1000)
      const seen = new Set<string>()
      for (let i = 0; i < 200; i++) seen.add(picker.pick(['a:1', 'b:1', 'c:1', 'd:1']) as string)
      expect([...seen].sort()).toEqual(['a:1', 'b:1', 'c:1', 'd:1'])
    })

    it('of two workers, takes the one with fewer requests in flight', () => {
      const picker = new WorkerPicker(() => false, 1000)
      picker.begin('busy:1')
      picker.begin('busy:1')
      for (let i = 0; i < 50; i++) expect(picker.pick(['busy:1', 'idle:1'])).toBe('idle:1')
      picker.end('busy:1')
      picker.end('busy:1')
      expect(picker.load('busy:1')).toBe(0)
    })

    it('breaks a tie in favour of a warm connection', () => {
      const picker = new WorkerPicker((address) => address === 'warm:1', 1000)
      for (let i = 0; i < 50; i++) expect(picker.pick(['cold:1', 'warm:1'])).toBe('warm:1')
    })

    it('avoids a benched worker until its time is up, unless every worker is benched', () => {
      let now = 0
      const picker = new WorkerPicker(
        () => false,
        1000,
        () => now,
      )
      picker.bench('dead:1')
      for (let i = 0; i < 50; i++) expect(picker.pick(['dead:1', 'alive:1'])).toBe('alive:1')
      expect(picker.pick(['dead:1'])).toBe('dead:1')
      now = 1001
      expect(picker.isBenched('dead:1')).toBe(false)
    })

    it('leaves out an address that refused a connection, unless nothing else is left', () => {
      const picker = new WorkerPicker(() => false, 1000)
      picker.gone.refused('gone:1')
      expect(picker.hasHealthy(['gone:1', 'alive:1'])).toBe(true)
      expect(picker.hasHealthy(['gone:1', 'alive:1'], new Set(['alive:1']))).toBe(false)
      for (let i = 0; i < 50; i++) expect(picker.pick(['gone:1', 'alive:1'])).toBe('alive:1')
      expect(picker.pick(['gone:1'])).toBe('gone:1')
      picker.gone.answered('gone:1')
      expect(picker.isHealthy('gone:1')).toBe(true)
    })

    it('never returns an excluded worker', () => {
      const picker = new WorkerPicker(() => false, 1000)
      const tried = new Set(['a:1', 'b:1'])
      for (let i = 0; i < 50; i++) expect(picker.pick(['a:1', 'b:1', 'c:1'], tried)).toBe('c:1')
      expect(picker.pick(['a:1', 'b:1'], tried)).toBeUndefined()
    })
  })
})
