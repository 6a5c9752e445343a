import { Server } from 'node:net'

let patched = false

/**
 * Makes a bare `listen(port)` (no host, as the reference transports call it, directly or through
 * ws's `listen(port, undefined, backlog, cb)`) bind 127.0.0.1 instead of every interface. Only in the
 * reference server process; the server checks the bound address afterwards.
 */
export function bindBareListenToLoopback(): void {
  if (patched) return
  patched = true
  const original = Server.prototype.listen
  Server.prototype.listen = function listen(this: Server, ...args: unknown[]) {
    if (typeof args[0] === 'number') {
      if (args[1] === undefined || args[1] === null) args[1] = '127.0.0.1'
      else if (typeof args[1] === 'function') args.splice(1, 0, '127.0.0.1')
    }
    return (original as (...args: unknown[]) => Server).apply(this, args)
  } as typeof original
}
