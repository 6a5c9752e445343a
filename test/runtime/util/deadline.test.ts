import { getEventListeners } from 'node:events'
import { setTimeout as delay } from 'node:timers/promises'
import { afterEach, describe, expect, it, vi } from 'vitest'
import { GrenacheError } from '../../../runtime/errors.js'
import { createDeadline, raceSignal, sleep } from '../../../runtime/util/deadline.js'

/** Runs `fn` and returns what it threw. */
function thrown(fn: () => unknown): unknown {
  try {
    fn()
  } catch (err) {
    return err
  }
  throw new Error('expected a throw')
}

const abortListeners = (signal: AbortSignal): number => getEventListeners(signal, 'abort').length

afterEach(() => {
  vi.useRealTimers()
})

describe('createDeadline()', () => {
  it('aborts with ERR_TIMEOUT naming the call once timeoutMs has passed', () => {
    vi.useFakeTimers()
    const deadline = createDeadline({ timeoutMs: 250 }, 5000, 'Grape lookup')
    vi.advanceTimersByTime(249)
    expect(deadline.signal.aborted).toBe(false)
    vi.advanceTimersByTime(1)
    expect(deadline.signal.aborted).toBe(true)
    const reason = deadline.reason()
    expect(reason).toBeInstanceOf(GrenacheError)
    expect(reason.code).toBe('ERR_TIMEOUT')
    expect(reason.message).toBe('Grape lookup: no answer within 250 ms')
    expect(deadline.signal.reason).toBe(reason)
    deadline.dispose()
  })

  it('uses the default timeout when the call gives none', () => {
    vi.useFakeTimers()
    for (const opts of [undefined, {}, { timeoutMs: undefined }]) {
      const deadline = createDeadline(opts, 100, 'call')
      vi.advanceTimersByTime(99)
      expect(deadline.signal.aborted).toBe(false)
      vi.advanceTimersByTime(1)
      expect(deadline.reason().message).toBe('call: no answer within 100 ms')
      deadline.dispose()
    }
  })

  it('fires with a real timer too', async () => {
    const deadline = createDeadline({ timeoutMs: 20 }, 5000, 'real')
    const reason = await new Promise<unknown>((resolve) => {
      deadline.signal.addEventListener('abort', () => resolve(deadline.signal.reason), { once: true })
    })
    expect(reason).toMatchObject({ code: 'ERR_TIMEOUT' })
    deadline.dispose()
  })

  it("aborts with ERR_ABORTED and the parent's reason as cause when the caller's signal aborts", () => {
    const parent = new AbortController()
    const deadline = createDeadline({ signal: parent.signal, timeoutMs: 60_000 }, 5000, 'Grape put')
    expect(deadline.signal.aborted).toBe(false)
    const why = new Error('user gave up')
    parent.abort(why)
    expect(deadline.signal.aborted).toBe(true)
    const reason = deadline.reason()
    expect(reason.code).toBe('ERR_ABORTED')
    expect(reason.message).toBe('Grape put: aborted')
    expect(reason.cause).toBe(why)
    deadline.dispose()
  })

  it('is aborted from the start when the caller signal already is, without arming a timer', () => {
    vi.useFakeTimers()
    const why = new Error('already')
    const deadline = createDeadline({ signal: AbortSignal.abort(why), timeoutMs: 100 }, 5000, 'get')
    expect(deadline.signal.aborted).toBe(true)
    expect(deadline.reason()).toMatchObject({ code: 'ERR_ABORTED', cause: why })
    expect(vi.getTimerCount()).toBe(0)
    vi.advanceTimersByTime(1000)
    expect(deadline.reason().code).toBe('ERR_ABORTED')
    deadline.dispose()
  })

  it('clears its timer on dispose, so it never fires afterwards', () => {
    vi.useFakeTimers()
    const deadline = createDeadline({ timeoutMs: 100 }, 5000, 'call')
    expect(vi.getTimerCount()).toBe(1)
    deadline.dispose()
    expect(vi.getTimerCount()).toBe(0)
    vi.advanceTimersByTime(1000)
    expect(deadline.signal.aborted).toBe(false)
  })

  it("removes its listener from the caller's signal on dispose", () => {
    const parent = new AbortController()
    const deadline = createDeadline({ signal: parent.signal, timeoutMs: 60_000 }, 5000, 'call')
    expect(abortListeners(parent.signal)).toBe(1)
    deadline.dispose()
    expect(abortListeners(parent.signal)).toBe(0)
    parent.abort(new Error('late'))
    expect(deadline.signal.aborted).toBe(false)
  })

  it('can be disposed twice', () => {
    const parent = new AbortController()
    const deadline = createDeadline({ signal: parent.signal }, 1000, 'call')
    deadline.dispose()
    expect(() => deadline.dispose()).not.toThrow()
  })

  it('never times out with an infinite timeoutMs', () => {
    vi.useFakeTimers()
    const deadline = createDeadline({ timeoutMs: Number.POSITIVE_INFINITY }, 5000, 'call')
    expect(vi.getTimerCount()).toBe(0)
    vi.advanceTimersByTime(10 * 24 * 3600 * 1000)
    expect(deadline.signal.aborted).toBe(false)
    deadline.dispose()
  })

  it('does not fire early when timeoutMs is above the 32-bit timer limit', async () => {
    // Node runs a setTimeout longer than 2^31-1 ms after 1 ms (TimeoutOverflowWarning).
    const deadline = createDeadline({ timeoutMs: 2 ** 31 }, 5000, 'call')
    await delay(100)
    expect(deadline.signal.aborted).toBe(false)
    deadline.dispose()
  })

  it.each([0, -1, Number.NaN, Number.NEGATIVE_INFINITY, '100', true])(
    'rejects timeoutMs %s with ERR_INVALID_ARGUMENT naming timeoutMs',
    (bad) => {
      const err = thrown(() => createDeadline({ timeoutMs: bad as number }, 5000, 'call'))
      expect(err).toBeInstanceOf(GrenacheError)
      expect(err).toMatchObject({ code: 'ERR_INVALID_ARGUMENT' })
      expect((err as Error).message).toMatch(/^timeoutMs must be a number above 0, got /)
    },
  )

  it('rejects an invalid default timeout the same way', () => {
    expect(thrown(() => createDeadline(undefined, 0, 'call'))).toMatchObject({
      code: 'ERR_INVALID_ARGUMENT',
      message: 'timeoutMs must be a number above 0, got 0',
    })
  })
})

describe('sleep()', () => {
  it('resolves after the given time', async () => {
    vi.useFakeTimers()
    let done = false
    const slept = sleep(500, new AbortController().signal).then(() => {
      done = true
    })
    await vi.advanceTimersByTimeAsync(499)
    expect(done).toBe(false)
    await vi.advanceTimersByTimeAsync(1)
    await slept
    expect(done).toBe(true)
  })

  it("rejects with the signal's reason as soon as it aborts, clearing its timer and listener", async () => {
    vi.useFakeTimers()
    const controller = new AbortController()
    const slept = sleep(60_000, controller.signal)
    expect(vi.getTimerCount()).toBe(1)
    const why = new GrenacheError('ERR_TIMEOUT', 'late')
    controller.abort(why)
    await expect(slept).rejects.toBe(why)
    expect(vi.getTimerCount()).toBe(0)
    expect(abortListeners(controller.signal)).toBe(0)
  })

  it('rejects at once when the signal is already aborted', async () => {
    const why = new Error('before')
    await expect(sleep(60_000, AbortSignal.abort(why))).rejects.toBe(why)
  })

  it('removes its abort listener once it resolves', async () => {
    const controller = new AbortController()
    await sleep(1, controller.signal)
    expect(abortListeners(controller.signal)).toBe(0)
  })
})

describe('raceSignal()', () => {
  it('settles with the promise when the signal stays quiet, removing its listener', async () => {
    const controller = new AbortController()
    await expect(raceSignal(Promise.resolve(7), controller.signal)).resolves.toBe(7)
    const boom = new Error('boom')
    await expect(raceSignal(Promise.reject(boom), controller.signal)).rejects.toBe(boom)
    expect(abortListeners(controller.signal)).toBe(0)
  })

  it("rejects with the signal's reason as soon as it aborts, without waiting for the promise", async () => {
    const controller = new AbortController()
    const never = new Promise<number>(() => undefined)
    const raced = raceSignal(never, controller.signal)
    const why = new Error('stop')
    controller.abort(why)
    await expect(raced).rejects.toBe(why)
  })

  it('rejects at once when the signal is already aborted', async () => {
    const why = new Error('before')
    await expect(raceSignal(Promise.resolve(1), AbortSignal.abort(why))).rejects.toBe(why)
  })
})
