import type { KrpcSocket } from './krpc-dispatch.js'

/** What k-rpc-socket 1.11's timeout check uses beyond what its message handler does. */
export interface KrpcTimeoutState extends KrpcSocket {
  /** The query timeout, ms (2000); a query is failed after 4 checks a quarter of it apart. */
  timeout: number
  /** Its check interval: cleared by `destroy()`. */
  _timer: NodeJS.Timeout | undefined
  _cancel(index: number, err: Error): void
  query(...args: unknown[]): unknown
}

/**
 * k-rpc-socket checks its pending queries for timeouts every 500 ms from start to close, so an idle
 * Grape still wakes its process twice a second (twenty times for ten Grapes in one process). This
 * replaces that interval with the same check, run only while a query is in flight: the check
 * starts with the first query after a quiet spell and stops once none is left. Timeouts stay
 * k-rpc-socket's: failed with `ETIMEDOUT` after 4 checks, 2 to 2.5 s after the query was sent.
 */
export function checkTimeoutsWhileBusy(krpc: KrpcTimeoutState): void {
  clearInterval(krpc._timer)
  krpc._timer = undefined
  const period = Math.floor(krpc.timeout / 4)
  const check = () => {
    let missing = krpc.inflight
    for (let i = 0; i < krpc._reqs.length && missing > 0; i++) {
      const req = krpc._reqs[i]
      if (!req) continue
      missing--
      if (req.ttl) req.ttl--
      else krpc._cancel(i, timedOut())
    }
    if (krpc.inflight === 0) {
      clearInterval(krpc._timer)
      krpc._timer = undefined
    }
  }
  const query = krpc.query
  krpc.query = function queryAndWatch(this: KrpcTimeoutState, ...args: unknown[]) {
    const tid = query.apply(this, args)
    // k-rpc-socket's destroy() clears `_timer`: keep it pointing at the running check.
    if (krpc._timer === undefined && krpc.inflight > 0 && !krpc.destroyed)
      krpc._timer = setInterval(check, period)
    return tid
  }
}

function timedOut(): Error {
  return Object.assign(new Error('Query timed out'), { code: 'ETIMEDOUT' })
}
