/**
 * The publisher's retransmit ring: the DATA datagrams it sent, oldest first, by their seqs,
 * bounded in bytes. Answers "which datagrams hold seqs [from, from + count)", or that some are gone.
 */
export class RetransmitRing {
  readonly #maxBytes: number
  #packets: Buffer[] = []
  #firsts: number[] = []
  #counts: number[] = []
  #head = 0
  #bytes = 0

  constructor(maxBytes: number) {
    this.#maxBytes = maxBytes
  }

  /** The oldest seq held (Infinity when empty). */
  get oldest(): number {
    return this.#head < this.#firsts.length ? (this.#firsts[this.#head] as number) : Number.POSITIVE_INFINITY
  }

  get bytes(): number {
    return this.#bytes
  }

  /** Keeps a sent datagram holding seqs `[first, first + count)` (fragments: count 1 each). */
  push(packet: Buffer, first: number, count: number): void {
    this.#packets.push(packet)
    this.#firsts.push(first)
    this.#counts.push(count)
    this.#bytes += packet.length
    while (this.#bytes > this.#maxBytes && this.#head < this.#packets.length - 1) {
      this.#bytes -= (this.#packets[this.#head] as Buffer).length
      this.#head++
    }
    // Compact now and then, so the arrays do not grow with the datagrams ever sent.
    if (this.#head > 4096 && this.#head * 2 > this.#packets.length) {
      this.#packets = this.#packets.slice(this.#head)
      this.#firsts = this.#firsts.slice(this.#head)
      this.#counts = this.#counts.slice(this.#head)
      this.#head = 0
    }
  }

  /** The datagrams holding `[from, from + count)`, in order; `undefined` when some are gone. */
  find(from: number, count: number): Buffer[] | undefined {
    if (count <= 0 || from < this.oldest) return undefined
    const end = from + count
    // The first datagram whose range ends past `from`.
    let lo = this.#head
    let hi = this.#firsts.length
    while (lo < hi) {
      const mid = (lo + hi) >>> 1
      if ((this.#firsts[mid] as number) + (this.#counts[mid] as number) <= from) lo = mid + 1
      else hi = mid
    }
    const out: Buffer[] = []
    let covered = from
    for (let i = lo; i < this.#firsts.length; i++) {
      const first = this.#firsts[i] as number
      if (first >= end) break
      if (first > covered) return undefined
      out.push(this.#packets[i] as Buffer)
      covered = Math.max(covered, first + (this.#counts[i] as number))
    }
    return covered >= end ? out : undefined
  }

  clear(): void {
    this.#packets = []
    this.#firsts = []
    this.#counts = []
    this.#head = 0
    this.#bytes = 0
  }
}
