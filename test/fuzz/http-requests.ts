import { gzipSync } from 'node:zlib'
import fc from 'fast-check'
import { mutated } from './harness.js'

/**
 * Raw HTTP/1.1 requests for the servers that speak HTTP (the Grape API, the RPC HTTP server, the
 * WebSocket port before its upgrade): a method, a path and headers, most of them well formed and
 * some not, a body the target chooses, sent in one to three writes; a share of them then mutated
 * byte by byte.
 */
export interface HttpCase {
  /** The request's bytes, in the writes they are sent in. */
  parts: Buffer[]
  /** Its method, as sent (a HEAD's answer has no body to check). */
  method: string
  /** The body was gzipped with `grc-compress: gzip`: the answer is gzipped too. */
  gzipped: boolean
}

export interface HttpCaseOptions {
  paths: fc.Arbitrary<string>
  bodies: fc.Arbitrary<Buffer>
  /** Headers this server reads (`_gr`, `Origin`), as `name: value` lines. */
  extraHeaders?: fc.Arbitrary<string>
}

/** Any JSON value, now and then one with a key a careless decoder would trip on. */
export const anyJson: fc.Arbitrary<unknown> = fc.oneof(
  { weight: 6, arbitrary: fc.jsonValue({ maxDepth: 3 }) },
  {
    weight: 1,
    arbitrary: fc.constantFrom<unknown>(
      JSON.parse('{"__proto__": {"x": 1}}'),
      { constructor: 'x', toString: 1, hasOwnProperty: null },
      { length: 500_000_000 },
      { type: 'Buffer', data: [104, 105] },
      1e308,
      -0,
      '\u0000\ud800',
      [],
      {},
    ),
  },
)

const method = fc.oneof(
  { weight: 16, arbitrary: fc.constant('POST') },
  { weight: 3, arbitrary: fc.constantFrom('GET', 'PUT', 'DELETE', 'OPTIONS', 'PATCH', 'HEAD') },
  { weight: 1, arbitrary: fc.constantFrom('post', 'P0ST', 'CONNECT', 'FOO', '', 'POST POST') },
)

const version = fc.oneof(
  { weight: 24, arbitrary: fc.constant('HTTP/1.1') },
  { weight: 1, arbitrary: fc.constantFrom('HTTP/1.0', 'HTTP/2.0', 'HTTP/9.9', 'HTTP/1.1x', '') },
)

/** Header lines every HTTP server sees: hosts, connection handling, expectations; a few malformed. */
const commonHeader = fc.oneof(
  {
    weight: 6,
    arbitrary: fc.constantFrom(
      'Connection: close',
      'Connection: keep-alive',
      'Connection: upgrade',
      'Upgrade: websocket',
      'Expect: 100-continue',
      'Content-Type: application/json',
      'Content-Type: text/plain',
      'Host: 127.0.0.1',
      'Host: localhost:1',
      'Content-Encoding: gzip',
    ),
  },
  {
    weight: 4,
    arbitrary: fc
      .tuple(fc.stringMatching(/^[A-Za-z-]{1,12}$/), fc.stringMatching(/^[ -~]{0,30}$/))
      .map(([n, v]) => `${n}: ${v}`),
  },
  {
    weight: 1,
    arbitrary: fc.constantFrom(
      'Expect: something',
      'Host: grape.example',
      'Host:',
      'Transfer-Encoding: gzip',
      'X-Nothing',
      ': empty name',
      'Bad Header: x',
      'X-Bin: \u0001\u0002',
      `X-Long: ${'x'.repeat(20_000)}`,
    ),
  },
)

/** How the body's length is told: right, absent, wrong, twice, or chunked. */
const framing = fc.oneof(
  { weight: 12, arbitrary: fc.constant('length') },
  { weight: 2, arbitrary: fc.constant('chunked') },
  { weight: 1, arbitrary: fc.constantFrom('none', 'short', 'long', 'twice', 'junk') },
)

function framed(body: Buffer, how: string): { headers: string[]; body: Buffer } {
  const n = body.length
  switch (how) {
    case 'none':
      return { headers: [], body }
    case 'short':
      return { headers: [`Content-Length: ${Math.max(0, n - 3)}`], body }
    case 'long':
      return { headers: [`Content-Length: ${n + 5}`], body }
    case 'twice':
      return { headers: [`Content-Length: ${n}`, `Content-Length: ${n + 1}`], body }
    case 'junk':
      return { headers: ['Content-Length: 1e3, -1'], body }
    case 'chunked': {
      const chunks = n === 0 ? [] : [body.subarray(0, n >> 1), body.subarray(n >> 1)].filter((c) => c.length)
      const encoded = chunks.map((c) =>
        Buffer.concat([Buffer.from(`${c.length.toString(16)}\r\n`), c, Buffer.from('\r\n')]),
      )
      return {
        headers: ['Transfer-Encoding: chunked'],
        body: Buffer.concat([...encoded, Buffer.from('0\r\n\r\n')]),
      }
    }
    default:
      return { headers: [`Content-Length: ${n}`], body }
  }
}

/** Cuts `bytes` into the writes it is sent in. */
function split(bytes: Buffer, cuts: number[]): Buffer[] {
  const at = [...new Set(cuts.map((c) => c % (bytes.length + 1)))].sort((a, b) => a - b)
  const parts: Buffer[] = []
  let from = 0
  for (const cut of [...at, bytes.length]) {
    if (cut > from) parts.push(bytes.subarray(from, cut))
    from = cut
  }
  return parts.length > 0 ? parts : [bytes]
}

/** Requests for one server: 3 in 4 well formed in their framing, the rest mutated bytes. */
export function httpCases(options: HttpCaseOptions): fc.Arbitrary<HttpCase> {
  const headerLine = options.extraHeaders
    ? fc.oneof({ weight: 1, arbitrary: options.extraHeaders }, { weight: 3, arbitrary: commonHeader })
    : commonHeader
  const request = fc
    .record({
      method,
      path: options.paths,
      version,
      headers: fc.array(headerLine, { maxLength: 2 }),
      body: options.bodies,
      framing,
      gzip: fc.nat(9).map((n) => n === 0),
      cuts: fc.array(fc.nat(), { maxLength: 2 }),
    })
    .map((r) => {
      const body = r.gzip ? gzipSync(r.body) : r.body
      const { headers, body: payload } = framed(body, r.framing)
      const head = [
        `${r.method} ${r.path} ${r.version}`.trimEnd(),
        'Host: 127.0.0.1',
        ...(r.gzip ? ['grc-compress: gzip'] : []),
        ...headers,
        ...r.headers,
      ]
      const bytes = Buffer.concat([Buffer.from(`${head.join('\r\n')}\r\n\r\n`, 'latin1'), payload])
      return { bytes, method: r.method, gzipped: r.gzip, cuts: r.cuts }
    })
  return fc.oneof(
    {
      weight: 3,
      arbitrary: request.map((r) => ({
        parts: split(r.bytes, r.cuts),
        method: r.method,
        gzipped: r.gzipped,
      })),
    },
    {
      weight: 1,
      arbitrary: fc
        .tuple(mutated(request.map((r) => r.bytes)), fc.array(fc.nat(), { maxLength: 2 }))
        .map(([bytes, cuts]) => {
          const text = bytes.toString('latin1')
          const method = text.slice(0, Math.max(0, text.indexOf(' ')))
          return { parts: split(bytes, cuts), method, gzipped: /grc-compress:[^\r\n]*gzip/i.test(text) }
        }),
    },
  )
}

/** JSON text of `value`, as bytes. */
export const jsonBytes = (value: unknown): Buffer => Buffer.from(JSON.stringify(value) ?? 'null')
