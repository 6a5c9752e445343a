import { GrenacheError, toGrenacheError } from '../errors.js'
import { ByteWriter } from '../state/byte-writer.js'
import { checkLayout } from '../state/check-layout.js'
import { stateFingerprint } from '../state/fingerprint.js'
import type { StateLayout } from '../state/layout.js'
import { type CallOptions, createDeadline } from '../util/deadline.js'
import { checkArgument } from '../util/validate.js'
import type { DatagramAddress, DatagramEndpoint, DatagramNetwork } from './endpoint.js'
import { FragmentAssembler } from './fragments.js'
import {
  FeedIds,
  HEADER_BYTES,
  HELLO_LAYOUT,
  Kind,
  PacketHeader,
  parseHeader,
  seal,
  writeHeader,
} from './packet.js'
import { UdpNetwork } from './udp-endpoint.js'

/** Options of `fetchLayout`. */
export interface FetchLayoutOptions extends CallOptions {
  /** The network to ask through; default UDP (`new UdpNetwork()`). */
  network?: DatagramNetwork
  /** Local address of the socket that asks; default `127.0.0.1`. */
  host?: string
}

/** The largest layout accepted, in bytes of JSON. */
export const MAX_LAYOUT_BYTES = 4 * 1024 * 1024
/**
 * What a HELLO that asks for the layout carries: a tool that does not know the layout yet cannot
 * know its fingerprint, so the session and the fingerprint are zeros.
 */
const UNKNOWN_IDS = new FeedIds(Buffer.alloc(8), '0000000000000000')

/**
 * Asks the publisher at `publisher` (`host:port`, its control address) for its state layout: says
 * HELLO with `HELLO_LAYOUT` (again every 50 ms, then up to 250), puts the LAYOUT packet back
 * together from its fragments, and checks it: the JSON must be a layout (`checkLayout`) whose
 * `stateFingerprint` is the one in the packet's header. A mismatch or a broken layout is
 * `ERR_DECODE`; no answer in `timeoutMs` (default 5000) is `ERR_TIMEOUT` naming the address.
 */
export async function fetchLayout(publisher: string, options: FetchLayoutOptions = {}): Promise<StateLayout> {
  const to = parsePublisher(publisher)
  const network = options.network ?? new UdpNetwork()
  const host = checkArgument.string('options.host', options.host ?? '127.0.0.1')
  const deadline = createDeadline(options, 5000, `fetchLayout(${publisher})`)
  let endpoint: DatagramEndpoint | undefined
  const heard = { info: false }
  try {
    endpoint = await network.bind({ host, port: 0 })
    return await receive(endpoint, to, heard, deadline.signal)
  } catch (err) {
    if (!deadline.signal.aborted) throw toGrenacheError(err, `fetchLayout(${publisher})`)
    const reason = deadline.reason()
    if (reason.code !== 'ERR_TIMEOUT') throw reason
    const why = heard.info
      ? 'it answered INFO but sent no LAYOUT (a publisher that cannot send its layout?)'
      : 'nothing answered (is a publisher there?)'
    throw new GrenacheError(
      'ERR_TIMEOUT',
      `no layout from the publisher at ${publisher} within ${options.timeoutMs ?? 5000} ms: ${why}`,
      { cause: reason },
    )
  } finally {
    deadline.dispose()
    await endpoint?.close()
  }
}

function receive(
  endpoint: DatagramEndpoint,
  to: DatagramAddress,
  heard: { info: boolean },
  signal: AbortSignal,
): Promise<StateLayout> {
  return new Promise((resolve, reject) => {
    const header = new PacketHeader()
    const assembler = new FragmentAssembler({ maxBytes: MAX_LAYOUT_BYTES, maxPending: 2 })
    let timer: NodeJS.Timeout | undefined
    let delayMs = 50
    const finish = (error: unknown, layout?: StateLayout): void => {
      clearTimeout(timer)
      signal.removeEventListener('abort', onAbort)
      if (layout) resolve(layout)
      else reject(error)
    }
    const onAbort = (): void => finish(signal.reason)
    const ask = (): void => {
      const w = new ByteWriter(Buffer.allocUnsafe(HEADER_BYTES + 1))
      writeHeader(w, Kind.HELLO, UNKNOWN_IDS, 0)
      w.u8(HELLO_LAYOUT)
      seal(w.buf, 0, w.pos)
      try {
        endpoint.send(w.bytes(), to)
      } catch (err) {
        finish(err) // an address the network cannot send to (UDP: not IPv4)
        return
      }
      timer = setTimeout(ask, delayMs)
      delayMs = Math.min(250, delayMs * 2)
    }
    endpoint.onError(() => undefined)
    endpoint.onMessage((bytes, from) => {
      if (from.host !== to.host || from.port !== to.port) return
      if (parseHeader(bytes, header) !== undefined) return
      if (header.kind === Kind.INFO) heard.info = true
      let body: Buffer
      if (header.kind === Kind.LAYOUT) body = bytes.subarray(HEADER_BYTES)
      else if (header.kind === Kind.FRAGMENT) {
        const whole = assembler.add(bytes, header.seq, performance.now())
        if (!whole || whole.kind !== Kind.LAYOUT) return
        body = whole.body
      } else return
      try {
        finish(undefined, readLayout(body, header.fingerprintHex(), `${to.host}:${to.port}`))
      } catch (err) {
        finish(err)
      }
    })
    signal.addEventListener('abort', onAbort, { once: true })
    if (signal.aborted) onAbort()
    else ask()
  })
}

/** The layout in a LAYOUT body, checked against the fingerprint its header carries. */
export function readLayout(body: Uint8Array, fingerprint: string, from: string): StateLayout {
  let layout: StateLayout
  try {
    layout = checkLayout(JSON.parse(Buffer.from(body).toString('utf8')))
  } catch (err) {
    const text = err instanceof Error ? err.message : String(err)
    throw new GrenacheError('ERR_DECODE', `the LAYOUT from ${from} is not a state layout: ${text}`, {
      cause: err,
    })
  }
  const computed = stateFingerprint(layout)
  if (computed !== fingerprint) {
    throw new GrenacheError(
      'ERR_DECODE',
      `the LAYOUT from ${from} hashes to fingerprint ${computed}, its packet says ${fingerprint}`,
    )
  }
  return layout
}

function parsePublisher(text: string): DatagramAddress {
  const address = checkArgument.hostPort('publisher', text)
  const at = address.lastIndexOf(':')
  return { host: address.slice(0, at), port: Number(address.slice(at + 1)) }
}
