import { setTimeout as delay } from 'node:timers/promises'
import { afterEach, describe, expect, it, vi } from 'vitest'
import { GrenacheError } from '../../../runtime/errors.js'
import { type AnnounceOnce, Announcer, type AnnouncerOptions } from '../../../runtime/link/announcer.js'
import type { CallOptions } from '../../../runtime/util/deadline.js'

/** What a Grape that cannot be reached throws. */
const refused = (): Error =>
  Object.assign(new Error('connect ECONNREFUSED 127.0.0.1:1'), { code: 'ECONNREFUSED' })

/** A call that never answers but, like every network call, rejects with the signal's reason. */
function hang(options: CallOptions): Promise<number> {
  return new Promise((_resolve, reject) => {
    const signal = options.signal
    if (!signal) return
    if (signal.aborted) return reject(signal.reason)
    signal.addEventListener('abort', () => reject(signal.reason), { once: true })
  })
}

/** A fake announce: the n-th call (from 1) does what `script(n, options)` returns. */
function fake(script: (n: number, options: CallOptions) => Promise<number>) {
  const calls: CallOptions[] = []
  const errors: GrenacheError[] = []
  const announce: AnnounceOnce = (options) => {
    calls.push(options)
    return script(calls.length, options)
  }
  const make = (options: Partial<AnnouncerOptions> = {}) => {
    const announcer = new Announcer({
      announce,
      intervalMs: 100,
      requestTimeoutMs: 5000,
      onError: (error) => errors.push(error),
      ...options,
    })
    announcers.push(announcer)
    return announcer
  }
  return { calls, errors, make }
}

/** The codes along an error's cause chain. */
function codes(err: unknown): unknown[] {
  const out: unknown[] = []
  for (let e = err as { code?: unknown; cause?: unknown } | undefined; e; e = e.cause as typeof e) {
    out.push(e.code)
  }
  return out
}

const announcers: Announcer[] = []

afterEach(() => {
  for (const announcer of announcers.splice(0)) announcer.stop()
  vi.useRealTimers()
  vi.restoreAllMocks()
})

describe('Announcer', () => {
  describe('start()', () => {
    it('resolves once the first announce succeeds, passing it a live deadline signal', async () => {
      const { calls, errors, make } = fake(async () => 1)
      await make().start(undefined, 10_000)
      expect(calls).toHaveLength(1)
      expect(calls[0]?.signal).toBeInstanceOf(AbortSignal)
      expect(calls[0]?.signal?.aborted).toBe(false)
      expect(errors).toEqual([])
    })

    it('retries the first announce until it succeeds, without reporting those failures', async () => {
      const { calls, errors, make } = fake(async (n) => {
        if (n <= 2) throw refused()
        return 1
      })
      await make().start({ timeoutMs: 20_000 }, 10_000)
      expect(calls).toHaveLength(3)
      expect(errors).toEqual([])
    })

    it('rejects with ERR_TIMEOUT naming the last failure, and stops', async () => {
      const { calls, errors, make } = fake(async () => {
        throw refused()
      })
      const err = await make()
        .start({ timeoutMs: 300 }, 10_000)
        .catch((e: unknown) => e)
      expect(err).toBeInstanceOf(GrenacheError)
      expect(err).toMatchObject({
        code: 'ERR_TIMEOUT',
        message: 'startAnnouncing: no answer within 300 ms; last failure: connect ECONNREFUSED 127.0.0.1:1',
      })
      expect((err as GrenacheError).cause).toMatchObject({ code: 'ERR_CONNECTION_REFUSED' })
      const made = calls.length
      await delay(1500) // past the first retry (1 s) and many intervals
      expect(calls).toHaveLength(made)
      expect(errors).toEqual([])
    })

    it('uses the default deadline when the call gives none', async () => {
      const { make } = fake(async () => {
        throw refused()
      })
      await expect(make().start(undefined, 200)).rejects.toMatchObject({
        code: 'ERR_TIMEOUT',
        message: expect.stringMatching(/^startAnnouncing: no answer within 200 ms; last failure: /),
      })
    })

    it('rejects with a plain ERR_TIMEOUT when the first announce never answers', async () => {
      const { calls, make } = fake(async (_n, options) => hang(options))
      await expect(make().start({ timeoutMs: 200 }, 10_000)).rejects.toMatchObject({
        code: 'ERR_TIMEOUT',
        message: 'startAnnouncing: no answer within 200 ms',
      })
      expect(calls).toHaveLength(1)
      expect(calls[0]?.signal?.aborted).toBe(true)
    })

    it("rejects with ERR_ABORTED and the caller's reason when the caller aborts", async () => {
      const { calls, make } = fake(async (_n, options) => hang(options))
      const controller = new AbortController()
      const started = make().start({ signal: controller.signal }, 10_000)
      await expect.poll(() => calls.length, { timeout: 10_000 }).toBe(1)
      const why = new Error('shutting down')
      controller.abort(why)
      await expect(started).rejects.toMatchObject({ code: 'ERR_ABORTED', cause: why })
    })

    it('rejects with ERR_ABORTED when the caller aborts between retries', async () => {
      const { calls, make } = fake(async () => {
        throw refused()
      })
      const controller = new AbortController()
      const started = make().start({ signal: controller.signal }, 10_000)
      await expect.poll(() => calls.length, { timeout: 10_000 }).toBe(1)
      controller.abort(new Error('enough'))
      await expect(started).rejects.toMatchObject({ code: 'ERR_ABORTED' })
      expect(calls).toHaveLength(1)
    })

    it('rejects with ERR_ABORTED when the signal is already aborted', async () => {
      const { make } = fake(async (_n, options) => hang(options))
      const why = new Error('before')
      await expect(make().start({ signal: AbortSignal.abort(why) }, 10_000)).rejects.toMatchObject({
        code: 'ERR_ABORTED',
        cause: why,
      })
    })
  })

  describe('re-announcing', () => {
    it('announces again every intervalMs, with the request deadline', async () => {
      const { calls, errors, make } = fake(async () => 1)
      await make({ intervalMs: 100, requestTimeoutMs: 1234 }).start(undefined, 10_000)
      await expect.poll(() => calls.length, { timeout: 10_000 }).toBeGreaterThanOrEqual(4)
      for (const periodic of calls.slice(1)) {
        expect(periodic.timeoutMs).toBe(1234)
        expect(periodic.signal?.aborted).toBe(false)
      }
      expect(errors).toEqual([])
    })

    it('jitters the interval by up to 10 % either way', async () => {
      vi.useFakeTimers({ toFake: ['setTimeout', 'clearTimeout'] })
      const random = vi.spyOn(Math, 'random')
      for (const [r, due] of [
        [0, 9000],
        [0.5, 10_000],
        [0.999_999, 11_000],
      ] as const) {
        random.mockReturnValue(r)
        const { calls, make } = fake(async () => 1)
        const announcer = make({ intervalMs: 10_000 })
        await announcer.start(undefined, 10_000)
        await vi.advanceTimersByTimeAsync(due - 1)
        expect(calls, `random ${r}`).toHaveLength(1)
        await vi.advanceTimersByTimeAsync(1)
        expect(calls, `random ${r}`).toHaveLength(2)
        announcer.stop()
      }
    })

    it('reports a failed announce through onError and retries from 1 s, doubling, until one succeeds', async () => {
      vi.useFakeTimers({ toFake: ['setTimeout', 'clearTimeout'] })
      vi.spyOn(Math, 'random').mockReturnValue(0.5) // no jitter
      const fails = new Set([2, 3, 4, 6])
      const { calls, errors, make } = fake(async (n) => {
        if (fails.has(n)) throw refused()
        return 1
      })
      await make({ intervalMs: 10_000 }).start(undefined, 10_000)

      const expectCallAfter = async (ms: number, total: number) => {
        await vi.advanceTimersByTimeAsync(ms - 1)
        expect(calls, `before ${ms} ms`).toHaveLength(total - 1)
        await vi.advanceTimersByTimeAsync(1)
        expect(calls, `after ${ms} ms`).toHaveLength(total)
      }
      await expectCallAfter(10_000, 2) // fails
      expect(errors).toHaveLength(1)
      expect(errors[0]).toBeInstanceOf(GrenacheError)
      expect(errors[0]).toMatchObject({ code: 'ERR_CONNECTION_REFUSED' })
      await expectCallAfter(1000, 3) // fails
      await expectCallAfter(2000, 4) // fails
      expect(errors).toHaveLength(3)
      await expectCallAfter(4000, 5) // succeeds: back to the interval
      await expectCallAfter(10_000, 6) // fails: the backoff starts over
      await expectCallAfter(1000, 7)
      expect(errors).toHaveLength(4)
    })

    it('never backs off longer than intervalMs', async () => {
      vi.useFakeTimers({ toFake: ['setTimeout', 'clearTimeout'] })
      vi.spyOn(Math, 'random').mockReturnValue(0.5)
      const { calls, errors, make } = fake(async (n) => {
        if (n === 1) return 1
        throw refused()
      })
      await make({ intervalMs: 3000 }).start(undefined, 10_000)
      let total = 1
      for (const wait of [3000, 1000, 2000, 3000, 3000]) {
        await vi.advanceTimersByTimeAsync(wait - 1)
        expect(calls).toHaveLength(total)
        await vi.advanceTimersByTimeAsync(1)
        expect(calls).toHaveLength(++total)
      }
      expect(errors).toHaveLength(total - 1)
    })
  })

  describe('stop()', () => {
    it('cancels the next announce', async () => {
      const { calls, make } = fake(async () => 1)
      const announcer = make({ intervalMs: 100 })
      await announcer.start(undefined, 10_000)
      announcer.stop()
      await delay(500)
      expect(calls).toHaveLength(1)
    })

    it('aborts an announce in flight with ERR_CLOSED, reports nothing and announces no more', async () => {
      const { calls, errors, make } = fake(async (n, options) => (n === 1 ? 1 : hang(options)))
      const announcer = make({ intervalMs: 100 })
      await announcer.start(undefined, 10_000)
      await expect.poll(() => calls.length, { timeout: 10_000 }).toBe(2)
      const inFlight = calls[1]?.signal
      expect(inFlight?.aborted).toBe(false)
      announcer.stop()
      expect(inFlight?.aborted).toBe(true)
      expect(inFlight?.reason).toMatchObject({ code: 'ERR_CLOSED' })
      await delay(500)
      expect(calls).toHaveLength(2)
      expect(errors).toEqual([])
    })

    it('makes a pending start() reject with the ERR_CLOSED reason', async () => {
      const { calls, make } = fake(async (_n, options) => hang(options))
      const announcer = make()
      const started = announcer.start(undefined, 10_000)
      await expect.poll(() => calls.length, { timeout: 10_000 }).toBe(1)
      announcer.stop()
      const err = await started.catch((e: unknown) => e)
      expect(err).toBeInstanceOf(GrenacheError)
      expect(codes(err)).toContain('ERR_CLOSED')
    })

    it('can be called twice', async () => {
      const { make } = fake(async () => 1)
      const announcer = make()
      await announcer.start(undefined, 10_000)
      announcer.stop()
      expect(() => announcer.stop()).not.toThrow()
    })
  })
})
