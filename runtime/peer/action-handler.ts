import type { RpcRequest } from '../transport/types.js'
import type { Handler } from './rpc-server.js'

/** One action: its `args` from the request, and the request (key, TLS certificate). */
export type Action = (args: unknown[], request: RpcRequest) => unknown

/**
 * A handler for the `{ action, args }` payload svc-js workers use (and generated workers speak):
 * calls `actions[action](args, request)` and replies with what it returns or throws (awaited).
 * A payload of another shape gets `ERR_BAD_REQUEST`, an unknown action `ERR_UNKNOWN_ACTION`.
 */
export function actionHandler(actions: Readonly<Record<string, Action>>): Handler {
  return (request, reply) => {
    const payload = request.payload as { action?: unknown; args?: unknown } | null
    if (typeof payload !== 'object' || payload === null || typeof payload.action !== 'string') {
      return reply('ERR_BAD_REQUEST: the payload is not { action, args }')
    }
    const { action } = payload
    const args = payload.args ?? []
    if (!Array.isArray(args)) return reply(`ERR_BAD_REQUEST: the args of ${action} are not an array`)
    if (!Object.hasOwn(actions, action)) return reply(`ERR_UNKNOWN_ACTION: ${action}`)
    let result: unknown
    try {
      result = (actions[action] as Action)(args, request)
    } catch (err) {
      return reply(err as Error)
    }
    if (result instanceof Promise) {
      result.then(
        (value) => reply(null, value),
        (err: unknown) => reply(err instanceof Error || typeof err === 'string' ? err : String(err)),
      )
    } else reply(null, result)
  }
}
