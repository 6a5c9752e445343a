/**
 * Nodes closest to a target among which an announce waits for a quorum: the nodes every other
 * lookup of the name ends at, so that an acknowledged announce is visible from anywhere.
 */
export const QUORUM_NODES = 8

/** One query, as k-rpc's `query` makes it: `done` once, with an error or the answer. */
export type QueryOne<N> = (node: N, done: (err: (Error & { code?: unknown }) | null) => void) => void

/** How a round stood when it called back. */
export interface RoundOutcome {
  /** Nodes that stored the value so far. */
  hits: number
  /** Queries still unanswered: they go on after the callback, their answers only counted. */
  pending: number
}

export type RoundCallback = (err: Error | null, outcome: RoundOutcome) => void

enum Status {
  Pending,
  Stored,
  Failed,
}

/**
 * One store query (`announce_peer`) to each node handed to `send()`, possibly while the lookup
 * that finds them still runs, and one callback after `finish()` names the nodes closest to the
 * target: as soon as half of the `QUORUM_NODES` closest have stored it, or when every query is
 * answered. So one slow or dead node (k-rpc's timeout is 2 s) no longer holds the answer, while
 * the result is one every later lookup finds. The errors are k-rpc `queryAll`'s: "No nodes to
 * query", the last BEP 44 3xx error, else "All queries failed" when no node stored it.
 */
export class StoreRound<N> {
  readonly #query: QueryOne<N>
  readonly #callback: RoundCallback
  readonly #status = new Map<string, Status>()
  #closest: string[] | undefined
  #hits = 0
  #pending = 0
  #error: Error | null = null
  #called = false

  constructor(query: QueryOne<N>, callback: RoundCallback) {
    this.#query = query
    this.#callback = callback
  }

  /** How many nodes were queried. */
  get sent(): number {
    return this.#status.size
  }

  /** Queries `node` (known by `key`, its address) unless it was already. */
  send(key: string, node: N): void {
    if (this.#status.has(key)) return
    this.#status.set(key, Status.Pending)
    this.#pending++
    this.#query(node, (err) => {
      this.#pending--
      if (!err) {
        this.#hits++
        this.#status.set(key, Status.Stored)
      } else {
        this.#status.set(key, Status.Failed)
        if (typeof err.code === 'number' && err.code >= 300 && err.code < 400) this.#error = err
      }
      this.#check()
    })
  }

  /** No more nodes come: `closest` are the keys of the nodes closest to the target, closest first. */
  finish(closest: readonly string[]): void {
    this.#closest = closest.slice(0, QUORUM_NODES)
    this.#check()
  }

  #check(): void {
    const closest = this.#closest
    if (this.#called || !closest) return
    if (this.#status.size === 0) {
      this.#settle(new Error('No nodes to query'))
      return
    }
    let stored = 0
    for (const key of closest) if (this.#status.get(key) === Status.Stored) stored++
    if (closest.length > 0 && stored >= Math.ceil(closest.length / 2)) this.#settle(null)
    else if (this.#pending === 0) {
      this.#settle(this.#hits > 0 ? null : (this.#error ?? new Error('All queries failed')))
    }
  }

  #settle(err: Error | null): void {
    this.#called = true
    this.#callback(err, { hits: this.#hits, pending: this.#pending })
  }
}
