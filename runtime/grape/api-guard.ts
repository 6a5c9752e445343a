import type { IncomingHttpHeaders } from 'node:http'
import { isIP, isIPv6 } from 'node:net'
import { show } from '../util/validate.js'

/** Why the API refused a request before reading it: the 403 body starts with `code`. */
export interface ApiRefusal {
  /** `ERR_GRAPE_ORIGIN`: sent by a browser page; `ERR_GRAPE_HOST`: a `Host` this Grape is not. */
  code: 'ERR_GRAPE_ORIGIN' | 'ERR_GRAPE_HOST'
  /** One sentence naming the header, its value and the option that would let it in. */
  message: string
}

export interface ApiGuardOptions {
  /** Normalised origins (`https://dash.example:8443`, `null`), or `['*']` for every origin. */
  allowedOrigins: readonly string[]
  /** Normalised extra `Host` names (`grape.internal`, `grape.internal:30001`), or `['*']` for any. */
  allowedHosts: readonly string[]
  /** The address the API binds: always accepted as a `Host`. */
  host: string
}

/**
 * Refuses what a web page can make a browser send to a Grape API on a private address (CSRF and DNS
 * rebinding): a request with an `Origin` not in `allowedOrigins`, a `Sec-Fetch-Site: cross-site`
 * one without an allowed `Origin`, and a `Host` that is not an IP address, `localhost`, the bound
 * host or in `allowedHosts`. Links (ours and the reference's) send no `Origin` and the host they
 * were given, so they pass. Returns the refusal, or `undefined` to serve the request.
 */
export function createApiGuard(
  options: ApiGuardOptions,
): (headers: IncomingHttpHeaders) => ApiRefusal | undefined {
  const anyOrigin = options.allowedOrigins.includes('*')
  const origins = new Set(options.allowedOrigins)
  const anyHost = options.allowedHosts.includes('*')
  const hosts = new Set([...options.allowedHosts, 'localhost', options.host.toLowerCase()])

  const hostAllowed = (header: string): boolean => {
    const parsed = parseHostHeader(header)
    if (!parsed) return false
    const { name, port } = parsed
    // An IP literal cannot be a rebinding attacker's name: a browser sends the name it resolved.
    if (isIP(name) !== 0 || (name.startsWith('[') && isIPv6(name.slice(1, -1)))) return true
    return hosts.has(name) || (port !== undefined && hosts.has(`${name}:${port}`))
  }

  return (headers) => {
    const origin = headers.origin
    const originAllowed = origin !== undefined && (anyOrigin || origins.has(origin.toLowerCase()))
    if (origin !== undefined && !originAllowed) {
      return refusal(
        'ERR_GRAPE_ORIGIN',
        `Origin ${show(origin)} is not in allowedOrigins (--allowed_origins)`,
      )
    }
    if (headers['sec-fetch-site'] === 'cross-site' && !originAllowed) {
      return refusal(
        'ERR_GRAPE_ORIGIN',
        'a cross-site browser request (Sec-Fetch-Site) without an allowed Origin',
      )
    }
    const host = headers.host
    if (host !== undefined && !anyHost && !hostAllowed(host)) {
      return refusal(
        'ERR_GRAPE_HOST',
        `Host ${show(host)} is not this Grape's; add it to allowedHosts (--allowed_hosts)`,
      )
    }
    return undefined
  }
}

function refusal(code: ApiRefusal['code'], message: string): ApiRefusal {
  return { code, message }
}

/**
 * `name[:port]` or `[v6][:port]`, lower-cased, or `undefined` when the text is neither. Brackets stay
 * on an IPv6 name, as it is written in a `Host` header and in `allowedHosts`.
 */
export function parseHostHeader(text: string): { name: string; port: string | undefined } | undefined {
  const match = /^(\[[0-9a-f:.]+\]|[^:[\]\s/@]+)(?::(\d{1,5}))?$/i.exec(text.trim())
  if (!match) return undefined
  return { name: (match[1] as string).toLowerCase(), port: match[2] }
}

/** An `allowedOrigins` entry in the form a browser sends, or `undefined` when it is not an origin. */
export function normaliseOrigin(entry: string): string | undefined {
  if (entry === '*' || entry === 'null') return entry
  // A scheme and an authority, nothing after but an optional '/': a path never matches an Origin.
  if (!/^[a-z][a-z0-9+.-]*:\/\/[^/?#@\s]+\/?$/i.test(entry)) return undefined
  try {
    const { origin } = new URL(entry)
    return origin === 'null' ? undefined : origin
  } catch {
    return undefined
  }
}

/** An `allowedHosts` entry (`'*'`, `name`, `name:port`, `[v6]:port`) lower-cased, or `undefined`. */
export function normaliseHost(entry: string): string | undefined {
  if (entry === '*') return entry
  if (entry.trim() !== entry) return undefined
  const parsed = parseHostHeader(entry)
  if (!parsed || (parsed.port !== undefined && Number(parsed.port) > 65535)) return undefined
  if (parsed.name.startsWith('[') && !isIPv6(parsed.name.slice(1, -1))) return undefined
  return parsed.port === undefined ? parsed.name : `${parsed.name}:${parsed.port}`
}
