import { createRequire } from 'node:module'
import type * as Undici from 'undici'
import type WebSocket from 'ws'
import type { WebSocketServer } from 'ws'
import type * as Zmq from 'zeromq'

const require = createRequire(import.meta.url)

/**
 * undici, ws and zeromq are loaded when a transport needs them, not when the runtime is imported:
 * loading them takes about 120, 60 and 30 ms (zeromq also loads a native addon), which a process
 * that never speaks that protocol should not pay: a `grenache` command, a worker that only serves ws.
 */
let undici: typeof Undici | undefined
let ws: { WebSocket: typeof WebSocket; WebSocketServer: typeof WebSocketServer } | undefined
let zmq: typeof Zmq | undefined

export function undiciModule(): typeof Undici {
  undici ??= require('undici') as typeof Undici
  return undici
}

export function wsModule(): { WebSocket: typeof WebSocket; WebSocketServer: typeof WebSocketServer } {
  if (!ws) {
    // ws exports the WebSocket class itself, with the server class on it.
    const loaded = require('ws') as typeof WebSocket & { WebSocketServer: typeof WebSocketServer }
    ws = { WebSocket: loaded, WebSocketServer: loaded.WebSocketServer }
  }
  return ws
}

export function zmqModule(): typeof Zmq {
  zmq ??= require('zeromq') as typeof Zmq
  return zmq
}
