import { GrenacheError } from '../errors.js'
import { checkArgument, checkOption } from '../util/validate.js'
import type { DatagramAddress, DatagramEndpoint, DatagramListener } from './endpoint.js'
import { type LossyOptions, MAX_DELAY_MS, type Resolved, resolveTable } from './lossy-options.js'
import { Prng } from './prng.js'

export type { Impairments, LossyOptions } from './lossy-options.js'

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

interface Held {
  bytes: Buffer
  address: DatagramAddress
  left: number
  due: number
}

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
    // Nothing is delivered after close: let go of the owner (a `lossyNetwork` keeps its endpoints
    // for their stats, and a closed replica must not stay reachable through them).
    this.#listeners.length = 0
    this.#closed = this.inner.close().finally(() => {
      this.#errorListeners.length = 0
    })
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
