import type { Discovery } from '../peer/discovery.js'
import { checkOption } from '../util/validate.js'
import type { FeedTransport } from './feed-transport.js'
import type { StreamTransport } from './snapshot-stream.js'

export interface PublisherOptions {
  /** Announces the feed (`<name>@<major>/feed`) at the control port through this Link. */
  link?: Discovery
  /** How packets travel; default `{ kind: 'multicast' }`. */
  transport?: FeedTransport
  /**
   * Address of the control endpoint (HELLO, NACK, unicast fan-out). Default: where the DHT stores
   * the feed's announce (the address other Grapes see the Link's Grape at), with multicast on that
   * interface too; `127.0.0.1` without a `link`. One that does not reach the announced address is
   * refused at `start()` (`ERR_ANNOUNCE_MISMATCH`). See docs/many-hosts.md.
   */
  host?: string
  /** Refuse a `host` (or a loopback `transport.interface`) the announced address does not reach; default true. */
  checkAnnounce?: boolean
  /** Port of the control endpoint; default 0, a free one. */
  port?: number
  /**
   * Check every delta against the state's schema before encoding (the generated validator; zod
   * only for what it cannot compile, such as refinements); default true.
   */
  validate?: boolean
  /** How long a datagram may wait for more deltas (ms); 0 (the default): to the end of the tick. */
  lingerMs?: number
  /** Largest datagram (bytes); default 1472, what a 1500-byte MTU carries. */
  maxDatagramBytes?: number
  /** Interval of heartbeats (ms); default 100. */
  heartbeatMs?: number
  /** Bytes of sent datagrams kept for NACKs; default 8 MiB. */
  retransmitBufferBytes?: number
  /** Where retransmits go: the data group (default; every replica that lost them) or the requester. */
  repairTo?: 'group' | 'requester'
  /**
   * A datagram retransmitted is not sent again for a NACK within this many ms (other replicas'
   * NACKs of the same loss, which come within `nackDelayMs`); default 1.
   */
  repairHoldMs?: number
  /** Rate of the snapshot carousel (bytes per second); default 16 MB/s. */
  snapshotBytesPerSecond?: number
  /**
   * A unicast feed's replicas at once; a HELLO that would add one more is not taken (counted in
   * `subscribersRefused`) until one leaves or stops renewing. Each subscriber gets a copy of every
   * datagram, so forged HELLOs would otherwise multiply the publisher's sends without bound.
   * Default 256.
   */
  maxSubscribers?: number
  /** The session id (16 hex digits); default a random one. A relay keeps its upstream's. */
  session?: string
  /**
   * Also serve the whole state on one of our RPC transports, for fast joins of large states
   * (replicas fetch it in one request instead of waiting for the carousel); default off.
   */
  snapshotStream?: StreamTransport | false
}

export interface ResolvedPublisherOptions {
  link: Discovery | undefined
  /** Undefined: the announced address, found at start. */
  host: string | undefined
  checkAnnounce: boolean
  port: number
  validate: boolean
  lingerMs: number
  maxSubscribers: number
  maxDatagramBytes: number
  heartbeatMs: number
  retransmitBufferBytes: number
  repairTo: 'group' | 'requester'
  repairHoldMs: number
  snapshotBytesPerSecond: number
  session: string | undefined
  snapshotStream: StreamTransport | false
}

/** Checks the options (`ERR_INVALID_OPTION` naming the option) and fills in the defaults. */
export function resolvePublisherOptions(options: PublisherOptions): ResolvedPublisherOptions {
  if (typeof options !== 'object' || options === null) checkOption.fail('', 'must be an object', options)
  const repairTo = options.repairTo ?? 'group'
  if (repairTo !== 'group' && repairTo !== 'requester') {
    checkOption.fail('repairTo', 'must be "group" or "requester"', repairTo)
  }
  const stream = options.snapshotStream ?? false
  if (stream !== false && stream !== 'http' && stream !== 'ws' && stream !== 'zmq') {
    checkOption.fail('snapshotStream', 'must be "http", "ws", "zmq" or false', stream)
  }
  if (options.session !== undefined && !/^[0-9a-f]{16}$/.test(options.session)) {
    checkOption.fail('session', 'must be 16 lower-case hex digits', options.session)
  }
  return {
    link: options.link,
    host: options.host === undefined ? undefined : checkOption.string('host', options.host),
    checkAnnounce: checkOption.boolean('checkAnnounce', options.checkAnnounce ?? true),
    port: checkOption.port('port', options.port ?? 0),
    validate: checkOption.boolean('validate', options.validate ?? true),
    lingerMs: checkOption.integer('lingerMs', options.lingerMs ?? 0, 0, 1000),
    maxSubscribers: checkOption.integer('maxSubscribers', options.maxSubscribers ?? 256, 1, 65_536),
    maxDatagramBytes: checkOption.integer('maxDatagramBytes', options.maxDatagramBytes ?? 1472, 256, 65507),
    heartbeatMs: checkOption.integer('heartbeatMs', options.heartbeatMs ?? 100, 1, 60_000),
    retransmitBufferBytes: checkOption.integer(
      'retransmitBufferBytes',
      options.retransmitBufferBytes ?? 8 * 1024 * 1024,
      0,
      // One buffer, allocated whole by the constructor.
      1024 * 1024 * 1024,
    ),
    repairTo,
    repairHoldMs: checkOption.integer('repairHoldMs', options.repairHoldMs ?? 1, 0, 60_000),
    snapshotBytesPerSecond: checkOption.integer(
      'snapshotBytesPerSecond',
      options.snapshotBytesPerSecond ?? 16 * 1024 * 1024,
      1024,
    ),
    session: options.session,
    snapshotStream: stream,
  }
}
