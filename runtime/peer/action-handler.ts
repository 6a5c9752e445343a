import { thrown } from '../transport/shared/in-flight.js'
import type { Reply, RpcRequest } from '../transport/types.js'
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
    replyWith(reply, actions[action] as Action, args, request)
  }
}

/** Replies with what `run(args, request)` returns (awaited) or throws, whatever it throws. */
export function replyWith(reply: Reply, run: Action, args: unknown[], request: RpcRequest): void {
  let result: unknown
  try {
    result = run(args, request)
  } catch (err) {
    reply(thrown(err))
    return
  }
  if (result instanceof Promise) {
    result.then(
      (value) => reply(null, value),
      (err: unknown) => reply(thrown(err)),
    )
  } else reply(null, result)
}
