import { GoneAddresses } from './gone-addresses.js'

/**
 * Chooses the worker for each request: of two workers drawn at random, the one with fewer requests
 * in flight, a warm connection breaking a tie ("power of two choices": spreads load, prefers what is
 * fast, and needs no global view). A worker that failed is benched for `benchMs`, an address that
 * refused a connection is held out as gone (`GoneAddresses`); either is only chosen again when
 * every other one is out too.
 */
export class WorkerPicker {
  /** Addresses that refused a connection (shared by `request` and `map`). */
  readonly gone: GoneAddresses
  readonly #inFlight = new Map<string, number>()
  readonly #benchedUntil = new Map<string, number>()
  readonly #isWarm: (address: string) => boolean
  readonly #benchMs: number
  readonly #now: () => number

  constructor(
    isWarm: (address: string) => boolean,
    benchMs: number,
    now: () => number = Date.now,
    goneMaxMs = 120_000,
  ) {
    this.gone = new GoneAddresses(goneMaxMs, now)
    this.#isWarm = isWarm
    this.#benchMs = benchMs
    this.#now = now
  }

  /** A worker from `addresses`, never one in `exclude`; undefined when none is left. */
  pick(addresses: readonly string[], exclude?: ReadonlySet<string>): string | undefined {
    let candidates = addresses
    if (exclude || this.#benchedUntil.size > 0 || this.gone.size > 0) {
      const open = addresses.filter((a) => !exclude?.has(a))
      const healthy = open.filter((a) => this.isHealthy(a))
      candidates = healthy.length > 0 ? healthy : open
    }
    const count = candidates.length
    if (count <= 1) return candidates[0]
    const i = Math.floor(Math.random() * count)
    let j = Math.floor(Math.random() * (count - 1))
    if (j >= i) j++
    return this.#better(candidates[i] as string, candidates[j] as string)
  }

  /** Whether some address of `addresses`, not in `exclude`, is neither benched nor gone. */
  hasHealthy(addresses: readonly string[], exclude?: ReadonlySet<string>): boolean {
    return addresses.some((a) => !exclude?.has(a) && this.isHealthy(a))
  }

  isHealthy(address: string): boolean {
    return !this.isBenched(address) && !this.gone.isGone(address)
  }

  #better(a: string, b: string): string {
    const loadA = this.#inFlight.get(a) ?? 0
    const loadB = this.#inFlight.get(b) ?? 0
    if (loadA !== loadB) return loadA < loadB ? a : b
    return !this.#isWarm(a) && this.#isWarm(b) ? b : a
  }

  /** A request to `address` started. */
  begin(address: string): void {
    this.#inFlight.set(address, (this.#inFlight.get(address) ?? 0) + 1)
  }

  /** A request to `address` settled. */
  end(address: string): void {
    const left = (this.#inFlight.get(address) ?? 1) - 1
    if (left > 0) this.#inFlight.set(address, left)
    else this.#inFlight.delete(address)
  }

  /** `address` refused or dropped a connection: choose others for a while. */
  bench(address: string): void {
    this.#benchedUntil.set(address, this.#now() + this.#benchMs)
  }

  isBenched(address: string): boolean {
    const until = this.#benchedUntil.get(address)
    if (until === undefined) return false
    if (until > this.#now()) return true
    this.#benchedUntil.delete(address)
    return false
  }

  /** Requests in flight to `address`. */
  load(address: string): number {
    return this.#inFlight.get(address) ?? 0
  }
}
