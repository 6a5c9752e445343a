import { checkOption } from '../util/validate.js'

/**
 * A small seeded pseudo-random generator (sfc32, its state filled from the seed by splitmix32):
 * the same seed gives the same numbers on every run and platform. For tests and loss injection,
 * never for anything secret.
 */
export class Prng {
  #a: number
  #b: number
  #c: number
  #d: number

  /** `seed`: any integer; only its low 32 bits count. */
  constructor(seed: number) {
    checkOption.integer('seed', seed, Number.MIN_SAFE_INTEGER)
    let s = seed >>> 0
    const split = (): number => {
      s = (s + 0x9e3779b9) | 0
      let z = s
      z = Math.imul(z ^ (z >>> 16), 0x21f0aaad)
      z = Math.imul(z ^ (z >>> 15), 0x735a2d97)
      return (z ^ (z >>> 15)) >>> 0
    }
    this.#a = split()
    this.#b = split()
    this.#c = split()
    this.#d = split()
    for (let i = 0; i < 12; i++) this.uint32()
  }

  /** The next number from 0 to 2^32 - 1. */
  uint32(): number {
    const a = this.#a
    const b = this.#b
    const c = this.#c
    const d = this.#d
    const t = (((a + b) | 0) + d) | 0
    this.#d = (d + 1) | 0
    this.#a = b ^ (b >>> 9)
    this.#b = (c + (c << 3)) | 0
    const r = (c << 21) | (c >>> 11)
    this.#c = (r + t) | 0
    return t >>> 0
  }

  /** The next number in [0, 1). */
  next(): number {
    return this.uint32() / 4294967296
  }

  /** An integer from 0 to `n - 1` (`n` from 1 to 2^32). */
  int(n: number): number {
    return Math.floor(this.next() * n)
  }

  /** True with probability `p` (0 never draws and is always false, 1 always true). */
  chance(p: number): boolean {
    if (p <= 0) return false
    if (p >= 1) return true
    return this.next() < p
  }
}
