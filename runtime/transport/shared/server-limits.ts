import type { Server } from 'node:http'
import type { Socket } from 'node:net'
import { checkOption } from '../../util/validate.js'

/** Connection cap and timeouts of a server; every server the runtime runs takes these. */
export interface ServerLimitOptions {
  /**
   * Connections open at once; one more is answered `503 ERR_BUSY` (HTTP, WebSocket upgrade) and
   * closed. Default 4096: keep it under the process's file limit (`ulimit -n`).
   */
  maxConnections?: number
  /** How long a connection may take to send a request's headers (an idle new connection too), in ms. Default 10000. */
  headersTimeoutMs?: number
  /** How long a connection may take to send a whole request, body included, in ms. Default 30000. */
  requestTimeoutMs?: number
  /**
   * How long a connection may stay silent between requests, in ms. Default 5000 for HTTP (its
   * keep-alive); 0 (never) for WebSocket, whose callers keep one socket per worker.
   */
  idleTimeoutMs?: number
}

export interface ServerLimits {
  maxConnections: number
  headersTimeoutMs: number
  requestTimeoutMs: number
  idleTimeoutMs: number
}

const HOUR_MS = 3_600_000
/** Connections past the cap still get their refusal read, up to this many more; beyond, they are dropped. */
const REFUSAL_HEADROOM = 256
/** How long a refused connection may take to send the request its refusal answers, in ms. */
const REFUSAL_GRACE_MS = 1000

/** Resolves and checks the options (`ERR_INVALID_OPTION` naming the option). */
export function resolveServerLimits(options: ServerLimitOptions, idleDefaultMs: number): ServerLimits {
  const headersTimeoutMs = checkOption.integer(
    'headersTimeoutMs',
    options.headersTimeoutMs ?? 10_000,
    1,
    HOUR_MS,
  )
  return {
    maxConnections: checkOption.integer('maxConnections', options.maxConnections ?? 4096, 1, 1_000_000),
    headersTimeoutMs,
    requestTimeoutMs: checkOption.integer(
      'requestTimeoutMs',
      options.requestTimeoutMs ?? Math.max(30_000, headersTimeoutMs),
      headersTimeoutMs,
      HOUR_MS,
    ),
    idleTimeoutMs: checkOption.integer('idleTimeoutMs', options.idleTimeoutMs ?? idleDefaultMs, 0, HOUR_MS),
  }
}

/**
 * The node:http(s) options that make the timeouts fire when configured: Node checks them only
 * every `connectionsCheckingInterval` (30 s by default, so a 10 s timeout fired at 30 s).
 */
export function httpTimeouts(limits: ServerLimits): {
  headersTimeout: number
  requestTimeout: number
  keepAliveTimeout: number
  connectionsCheckingInterval: number
} {
  const shortest = Math.min(limits.headersTimeoutMs, limits.requestTimeoutMs)
  return {
    headersTimeout: limits.headersTimeoutMs,
    requestTimeout: limits.requestTimeoutMs,
    keepAliveTimeout: limits.idleTimeoutMs,
    connectionsCheckingInterval: Math.max(25, Math.min(1000, Math.floor(shortest / 10))),
  }
}

const kRefused = Symbol('grenache.refused')

/**
 * Counts a server's connections: from `maxConnections` on, each new one is marked refused (the
 * server answers its first request `503 ERR_BUSY` and closes it, or closes it after a grace period
 * if it sends none); past a headroom they are dropped at once. Counted before TLS, so a flood of
 * handshakes is capped too.
 */
export function capConnections(server: Server, limits: ServerLimits, onRefused?: () => void): void {
  let open = 0
  server.maxConnections = limits.maxConnections + REFUSAL_HEADROOM
  server.prependListener('connection', (socket: Socket) => {
    open++
    socket.once('close', () => open--)
    if (open <= limits.maxConnections) return
    ;(socket as Socket & { [kRefused]?: true })[kRefused] = true
    onRefused?.()
    const timer = setTimeout(() => socket.destroy(), REFUSAL_GRACE_MS)
    socket.once('close', () => clearTimeout(timer))
  })
}

/** Whether `socket` came past the cap (its request gets 503). Works on a TLS socket of it too. */
export function isRefused(socket: Socket): boolean {
  const tls = socket as Socket & { [kRefused]?: true; _parent?: Socket | null }
  return (
    tls[kRefused] === true ||
    (tls._parent as (Socket & { [kRefused]?: true }) | null | undefined)?.[kRefused] === true
  )
}

/** The message of a refusal at the cap. */
export function busyMessage(limits: ServerLimits): string {
  return `ERR_BUSY: this server has ${limits.maxConnections} connections open, its limit (maxConnections)`
}
