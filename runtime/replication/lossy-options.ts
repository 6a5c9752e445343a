/**
 * The options of `lossy()` (lossy.ts): what may happen to a packet, overall and per kind, checked
 * and resolved once into a table of 256 rules (one per kind) so a packet costs one lookup.
 */
import { checkOption } from '../util/validate.js'

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

/** The impairments of one kind, checked and with defaults filled in. */
export interface Resolved {
  drop: number
  duplicate: number
  reorder: number
  delayMin: number
  delaySpan: number
  truncate: number
  corrupt: number
}

/** The longest delay `delayMs` and `reorderMaxMs` accept. */
export const MAX_DELAY_MS = 60_000

/** The rules of each kind, 0 to 255: the top-level impairments, overridden by `kinds`. */
export function resolveTable(options: LossyOptions): Resolved[] {
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
