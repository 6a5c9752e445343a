import { GrenacheError } from '../errors.js'
import { checkArgument, checkOption } from '../util/validate.js'
import type { DatagramAddress, DatagramEndpoint, DatagramListener } from './endpoint.js'
import { Prng } from './prng.js'

/** What may happen to a packet; probabilities from 0 to 1. */
export interface Impairments {
  /** Probability that a packet is lost. Default 0. */
  drop?: number
  /** Probability that a packet arrives twice (the copy right after the original). Default 0. */
  duplicate?: number
  /**
   * Probability that a packet is held back and released after 1 to `reorderDepth` later packets
   * (or after `reorderMaxMs`, if fewer come). Default 0.
   */
  reorder?: number
  /**
   * Delay of each packet, in ms: a number (every packet, order kept) or `[min, max]` (uniform
   * jitter: packets with different delays overtake each other). Default 0: at once.
   */
  delayMs?: number | readonly [number, number]
  /** Probability that a packet is cut to a random shorter length (0 to its length - 1). Default 0. */
  truncate?: number
  /** Probability that 1 to 3 random bits of a packet are flipped (in a copy). Default 0. */
  corrupt?: number
}

/** Options of `lossy()`. The top-level impairments apply to every kind `kinds` does not override. */
export interface LossyOptions extends Impairments {
  /** Seed of the PRNG that makes every decision: the same seed and traffic, the same decisions. Default 1. */
  seed?: number
  /**
   * Where the impairments apply. `'send'` (default): to what this endpoint sends, so every
   * receiver sees the same loss (a publisher's uplink). `'receive'`: to what it receives, so each
   * wrapped receiver loses its own packets (what multicast loss looks like to several replicas).
   * Wrap twice, with different seeds, to impair both.
   */
  on?: 'send' | 'receive'
  /** Impairments per packet kind (0 to 255), over the top-level ones: `{ 2: { drop: 0 } }`. */
  kinds?: Readonly<Record<number, Impairments>>
  /** The kind of a packet. Default: byte 3 of the header (`docs/replication.md`), 0 when shorter. */
  kindOf?: (bytes: Uint8Array) => number
  /**
   * Scripted loss, decided before the random impairments: drop when it returns true. `index`
   * counts the packets of that `kind` seen by this wrapper, from 0, dropped ones included; e.g.
   * `(bytes, i, kind) => kind === 1 && i >= 10 && i < 20` drops a burst of ten DATA packets.
   */
  dropIf?: (bytes: Uint8Array, index: number, kind: number) => boolean
  /** A reordered packet is released after 1 to this many later packets. Default 3. */
  reorderDepth?: number
  /** ... or at the latest after this long, in ms. Default 10. */
  reorderMaxMs?: number
}

/** Counters of what a `LossyEndpoint` did. */
export interface LossyStats {
  /** Packets that came in (sent through the wrapper, or received by it). */
  packets: number
  /** Packets passed on (duplicates included). */
  passed: number
  /** Packets dropped at random. */
  dropped: number
  /** Packets dropped by `dropIf`. */
  scripted: number
  duplicated: number
  reordered: number
  /** Packets given a delay above 0. */
  delayed: number
  truncated: number
  corrupted: number
  /** Packets held back at close and never passed on (delayed, reordered or paused). */
  discarded: number
}

interface Resolved {
  drop: number
  duplicate: number
  reorder: number
  delayMin: number
  delaySpan: number
  truncate: number
  corrupt: number
}

interface Held {
  bytes: Buffer
  address: DatagramAddress
  left: number
  due: number
}

const MAX_DELAY_MS = 60_000

/** Wraps `endpoint` in a seeded loss injector; see `LossyOptions`. Closing the wrapper closes `endpoint`. */
export function lossy(endpoint: DatagramEndpoint, options: LossyOptions = {}): LossyEndpoint {
  return new LossyEndpoint(endpoint, options)
}

/** A `DatagramEndpoint` that drops, duplicates, reorders, delays, truncates and corrupts packets. */
export class LossyEndpoint implements DatagramEndpoint {
  readonly inner: DatagramEndpoint
  readonly stats: LossyStats = {
    packets: 0,
    passed: 0,
    dropped: 0,
    scripted: 0,
    duplicated: 0,
    reordered: 0,
    delayed: 0,
    truncated: 0,
    corrupted: 0,
    discarded: 0,
  }
  readonly #prng: Prng
  readonly #onSend: boolean
  readonly #table: Resolved[]
  readonly #kindOf: (bytes: Uint8Array) => number
  readonly #dropIf: ((bytes: Uint8Array, index: number, kind: number) => boolean) | undefined
  readonly #indexes = new Float64Array(256)
  readonly #reorderDepth: number
  readonly #reorderMaxMs: number
  readonly #listeners: DatagramListener[] = []
  readonly #errorListeners: Array<(error: Error) => void> = []
  #held: Held[] = []
  #heldTimer: NodeJS.Timeout | undefined
  readonly #delayed = new Map<number, { timer: NodeJS.Timeout; items: Held[] }>()
  #stalled: Held[] | undefined
  #closed: Promise<void> | undefined

  constructor(endpoint: DatagramEndpoint, options: LossyOptions = {}) {
    if (typeof options !== 'object' || options === null) checkOption.fail('', 'must be an object', options)
    this.inner = endpoint
    this.#prng = new Prng(options.seed ?? 1)
    const on = options.on ?? 'send'
    if (on !== 'send' && on !== 'receive') checkOption.fail('on', 'must be "send" or "receive"', on)
    this.#onSend = on === 'send'
    for (const name of ['kindOf', 'dropIf'] as const) {
      const fn = options[name]
      if (fn !== undefined && typeof fn !== 'function') checkOption.fail(name, 'must be a function', fn)
    }
    this.#kindOf = options.kindOf ?? headerKind
    this.#dropIf = options.dropIf
    this.#reorderDepth = checkOption.integer('reorderDepth', options.reorderDepth ?? 3, 1, 1000)
    this.#reorderMaxMs = checkOption.integer('reorderMaxMs', options.reorderMaxMs ?? 10, 1, MAX_DELAY_MS)
    this.#table = resolveTable(options)
    endpoint.onMessage(this.#onInnerMessage)
    endpoint.onError(this.#emitError)
  }

  get address(): DatagramAddress {
    return this.inner.address
  }

  /** True between `pause()` and `resume()`. */
  get paused(): boolean {
    return this.#stalled !== undefined
  }

  /** Packets held back now: delayed, reordered or paused. */
  get held(): number {
    let count = this.#held.length + (this.#stalled?.length ?? 0)
    for (const bucket of this.#delayed.values()) count += bucket.items.length
    return count
  }

  send(bytes: Uint8Array, to: DatagramAddress): void {
    if (this.#closed) throw new GrenacheError('ERR_CLOSED', 'the lossy endpoint is closed')
    if (!this.#onSend) {
      this.inner.send(bytes, to)
      return
    }
    if (!(bytes instanceof Uint8Array)) checkArgument.fail('bytes', 'must be a Uint8Array', bytes)
    if (typeof to !== 'object' || to === null) checkArgument.fail('to', 'must be { host, port }', to)
    this.#impair(
      Buffer.isBuffer(bytes) ? bytes : Buffer.from(bytes.buffer, bytes.byteOffset, bytes.length),
      to,
    )
  }

  onMessage(listener: DatagramListener): void {
    this.#listeners.push(listener)
  }

  onError(listener: (error: Error) => void): void {
    this.#errorListeners.push(listener)
  }

  joinGroup(group: string): void {
    this.inner.joinGroup(group)
  }

  leaveGroup(group: string): void {
    this.inner.leaveGroup(group)
  }

  /** Stalls: from now on every packet that would pass is held, in order, until `resume()`. */
  pause(): void {
    if (!this.#closed) this.#stalled ??= []
  }

  /** Passes on everything held since `pause()`, in order, and stops holding. */
  resume(): void {
    const stalled = this.#stalled
    this.#stalled = undefined
    if (stalled) for (const item of stalled) this.#emit(item.bytes, item.address)
  }

  /** Clears every timer, discards what is held and closes the wrapped endpoint; idempotent. */
  close(): Promise<void> {
    if (this.#closed) return this.#closed
    this.stats.discarded += this.held
    clearTimeout(this.#heldTimer)
    this.#heldTimer = undefined
    for (const bucket of this.#delayed.values()) clearTimeout(bucket.timer)
    this.#delayed.clear()
    this.#held = []
    this.#stalled = undefined
    this.#closed = this.inner.close()
    return this.#closed
  }

  readonly #onInnerMessage = (bytes: Buffer, from: DatagramAddress): void => {
    if (this.#closed) return
    if (this.#onSend) this.#deliver(bytes, from)
    else this.#impair(bytes, from)
  }

  /** Decides what happens to one packet, then passes on (or holds) what is left of it. */
  #impair(bytes: Buffer, address: DatagramAddress): void {
    const stats = this.stats
    stats.packets++
    const kind = this.#kindOf(bytes) & 0xff
    const index = this.#indexes[kind] as number
    this.#indexes[kind] = index + 1
    if (this.#dropIf?.(bytes, index, kind)) {
      stats.scripted++
      return
    }
    const rules = this.#table[kind] as Resolved
    const prng = this.#prng
    if (prng.chance(rules.drop)) {
      stats.dropped++
      return
    }
    let out = bytes
    if (out.length > 0 && prng.chance(rules.truncate)) {
      out = out.subarray(0, prng.int(out.length))
      stats.truncated++
    }
    if (out.length > 0 && prng.chance(rules.corrupt)) {
      out = Buffer.from(out)
      for (let flips = 1 + prng.int(3); flips > 0; flips--) {
        const at = prng.int(out.length)
        out[at] = (out[at] as number) ^ (1 << prng.int(8))
      }
      stats.corrupted++
    }
    const twice = prng.chance(rules.duplicate)
    this.#schedule(out, address, rules)
    if (twice) {
      stats.duplicated++
      this.#schedule(Buffer.from(out), address, rules)
    }
  }

  /** Holds the packet back (reorder), delays it, or passes it on now. */
  #schedule(bytes: Buffer, address: DatagramAddress, rules: Resolved): void {
    const prng = this.#prng
    if (prng.chance(rules.reorder)) {
      this.stats.reordered++
      const due = Date.now() + this.#reorderMaxMs
      this.#held.push({ bytes, address, left: 1 + prng.int(this.#reorderDepth), due })
      this.#heldTimer ??= setTimeout(this.#releaseDue, this.#reorderMaxMs)
      return
    }
    const delayMs = rules.delayMin + (rules.delaySpan > 0 ? prng.int(rules.delaySpan + 1) : 0)
    if (delayMs === 0) {
      this.#pass(bytes, address)
      return
    }
    this.stats.delayed++
    const due = Date.now() + delayMs
    const bucket = this.#delayed.get(due)
    if (bucket) bucket.items.push({ bytes, address, left: 0, due })
    else {
      const timer = setTimeout(() => this.#releaseDelayed(due), delayMs)
      this.#delayed.set(due, { timer, items: [{ bytes, address, left: 0, due }] })
    }
  }

  /** Passes a packet on; each held (reordered) packet counts it and goes once its count is reached. */
  #pass(bytes: Buffer, address: DatagramAddress): void {
    this.#emit(bytes, address)
    const held = this.#held
    if (held.length === 0) return
    let released = false
    for (const item of held) if (--item.left <= 0) released = true
    if (!released) return
    this.#held = held.filter((item) => item.left > 0)
    for (const item of held) if (item.left <= 0) this.#emit(item.bytes, item.address)
  }

  readonly #releaseDue = (): void => {
    this.#heldTimer = undefined
    const now = Date.now()
    const held = this.#held
    this.#held = held.filter((item) => item.due > now)
    for (const item of held) if (item.due <= now) this.#emit(item.bytes, item.address)
    const next = this.#held[0]
    if (next) this.#heldTimer = setTimeout(this.#releaseDue, Math.max(1, next.due - now))
  }

  #releaseDelayed(due: number): void {
    const bucket = this.#delayed.get(due)
    this.#delayed.delete(due)
    if (bucket) for (const item of bucket.items) this.#pass(item.bytes, item.address)
  }

  /** The last stage: held while paused, else sent on (send) or delivered (receive). */
  #emit(bytes: Buffer, address: DatagramAddress): void {
    if (this.#closed) return
    if (this.#stalled) {
      this.#stalled.push({ bytes, address, left: 0, due: 0 })
      return
    }
    this.stats.passed++
    if (!this.#onSend) {
      this.#deliver(bytes, address)
      return
    }
    try {
      this.inner.send(bytes, address)
    } catch (err) {
      this.#emitError(err instanceof Error ? err : new Error(String(err)))
    }
  }

  #deliver(bytes: Buffer, from: DatagramAddress): void {
    const listeners = this.#listeners
    for (let i = 0; i < listeners.length; i++) (listeners[i] as DatagramListener)(bytes, from)
  }

  readonly #emitError = (error: Error): void => {
    for (const listener of this.#errorListeners) listener(error)
  }
}

/** Byte 3 of the packet header: the kind. */
function headerKind(bytes: Uint8Array): number {
  return bytes.length > 3 ? (bytes[3] as number) : 0
}

function resolveTable(options: LossyOptions): Resolved[] {
  const base = resolve(options, '', undefined)
  const table: Resolved[] = new Array<Resolved>(256).fill(base)
  const kinds = options.kinds
  if (kinds === undefined) return table
  if (typeof kinds !== 'object' || kinds === null) checkOption.fail('kinds', 'must be an object', kinds)
  for (const [key, value] of Object.entries(kinds)) {
    const kind = Number(key)
    if (!/^\d+$/.test(key) || kind > 255)
      checkOption.fail('kinds', 'must have kinds from 0 to 255 as keys', key)
    if (typeof value !== 'object' || value === null)
      checkOption.fail(`kinds.${key}`, 'must be an object', value)
    table[kind] = resolve(value, `kinds.${key}.`, base)
  }
  return table
}

function resolve(given: Impairments, prefix: string, base: Resolved | undefined): Resolved {
  const p = (name: keyof Impairments & keyof Resolved): number => {
    const value = given[name]
    if (value === undefined) return base?.[name] ?? 0
    if (typeof value !== 'number' || !(value >= 0 && value <= 1)) {
      checkOption.fail(`${prefix}${name}`, 'must be a probability from 0 to 1', value)
    }
    return value
  }
  let delayMin = base?.delayMin ?? 0
  let delaySpan = base?.delaySpan ?? 0
  const delay = given.delayMs
  if (typeof delay === 'number') {
    delayMin = checkOption.integer(`${prefix}delayMs`, delay, 0, MAX_DELAY_MS)
    delaySpan = 0
  } else if (delay !== undefined) {
    const rule = `must be ms from 0 to ${MAX_DELAY_MS}, or [min, max] with min <= max`
    if (!Array.isArray(delay) || delay.length !== 2) checkOption.fail(`${prefix}delayMs`, rule, delay)
    const [min, max] = delay as readonly unknown[]
    if (!isMs(min) || !isMs(max) || min > max) checkOption.fail(`${prefix}delayMs`, rule, delay)
    delayMin = min
    delaySpan = max - min
  }
  return {
    drop: p('drop'),
    duplicate: p('duplicate'),
    reorder: p('reorder'),
    truncate: p('truncate'),
    corrupt: p('corrupt'),
    delayMin,
    delaySpan,
  }
}

function isMs(value: unknown): value is number {
  return typeof value === 'number' && Number.isInteger(value) && value >= 0 && value <= MAX_DELAY_MS
}
